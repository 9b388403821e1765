"""The demo city A市: units, default units per category and one user per role.

Everything goes through the forms the admin site uses (``UnitForm``, ``UserCreateForm``), so
demo data obeys exactly the rules an administrator's input does.
"""

import csv
import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.forms import UserCreateForm
from accounts.models import User
from accounts.roles import Role
from categories.loader import load_categories
from categories.models import Category
from orders.models import DirectDispatchRule, WorkOrder
from org.forms import UnitForm
from org.models import Unit

DATA = Path(__file__).resolve().parent / "data"
CATEGORIES_CSV = Path(__file__).resolve().parent.parent / "categories" / "data" / "categories.csv"
DEMO_PASSWORD = "Rexian@2026"  # noqa: S105 - documented demo password, shown in the README

# username, name, role, unit code, unit manager
DEMO_USERS: list[tuple[str, str, str, str, bool]] = [
    ("admin", "孙立新", Role.ADMIN, "A-12345", False),
    ("operator", "李娜", Role.OPERATOR, "A-12345", False),
    ("dispatcher", "王强", Role.DISPATCHER, "A-12345", False),
    ("callback", "赵丽", Role.CALLBACK, "A-12345", False),
    ("supervisor", "陈刚", Role.SUPERVISOR, "A-12345", False),
    ("leader", "刘建国", Role.LEADER, "A", False),
    ("handler_a7", "周海峰", Role.HANDLER, "A7", True),
    ("handler_power", "吴电", Role.HANDLER, "A-POWER", False),
    ("handler_water", "郑清", Role.HANDLER, "A-WATER", False),
]


class DemoError(ValueError):
    pass


def _form_errors(form) -> str:
    return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())


def load_units(path: Path = DATA / "units.json") -> int:
    created = 0
    for index, row in enumerate(json.loads(path.read_text(encoding="utf-8")), start=1):
        if Unit.objects.filter(code=row["code"]).exists():
            continue
        parent = Unit.objects.filter(code=row["parent"]).first() if row.get("parent") else None
        if row.get("parent") and parent is None:
            raise DemoError(f"units.json 第 {index} 项 {row['code']}：上级单位 {row['parent']} 不存在")
        form = UnitForm(data={**row, "parent": parent.pk if parent else "", "is_active": True})
        if not form.is_valid():
            raise DemoError(f"units.json 第 {index} 项 {row['code']}：{_form_errors(form)}")
        form.save()
        created += 1
    return created


def load_category_units(path: Path = DATA / "category_units.csv") -> int:
    """Give level-2 categories their default unit (leaves inherit it when an order is routed)."""
    updated = 0
    with path.open(encoding="utf-8") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            if not row["unit_code"]:
                continue
            unit = Unit.objects.filter(code=row["unit_code"]).first()
            category = Category.objects.filter(level=2, parent__name=row["level1"], name=row["level2"]).first()
            if unit is None or category is None:
                raise DemoError(f"category_units.csv 第 {line} 行：单位或分类不存在")
            if category.default_unit_id != unit.pk:
                category.default_unit = unit
                category.save(update_fields=["default_unit"])
                updated += 1
    return updated


def load_direct_rules(path: Path = DATA / "direct_rules.csv") -> int:
    """工单直派: categories that go straight to a utility, through the admin's form."""
    from orders.forms import DirectDispatchRuleForm

    created = 0
    with path.open(encoding="utf-8") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            names = [row["level1"], row["level2"], row["level3"]]
            category = Category.objects.filter(full_name=" › ".join(n for n in names if n)).first()
            unit = Unit.objects.filter(code=row["unit_code"]).first()
            if category is None or unit is None:
                raise DemoError(f"direct_rules.csv 第 {line} 行：单位或分类不存在")
            if DirectDispatchRule.objects.filter(category=category).exists():
                continue
            form = DirectDispatchRuleForm(
                data={"category": category.pk, "unit": unit.pk, "is_active": True, "note": row["note"]}
            )
            if not form.is_valid():
                raise DemoError(f"direct_rules.csv 第 {line} 行：{_form_errors(form)}")
            form.save()
            created += 1
    return created


def load_users() -> int:
    created = 0
    for username, name, role, unit_code, manager in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        unit = Unit.objects.get(code=unit_code)
        form = UserCreateForm(
            data={
                "username": username,
                "full_name": name,
                "role": role,
                "unit": unit.pk,
                "is_unit_manager": manager,
                "email": f"{username}@hotline.local",
                "password1": DEMO_PASSWORD,
                "password2": DEMO_PASSWORD,
            }
        )
        if not form.is_valid():
            raise DemoError(f"演示用户 {username}：{_form_errors(form)}")
        form.save()
        created += 1
    return created


@transaction.atomic
def load_demo() -> dict[str, int]:
    try:
        return {
            "categories": load_categories(CATEGORIES_CSV).created,
            "units": load_units(),
            "category_units": load_category_units(),
            "users": load_users(),
            "direct_rules": load_direct_rules(),
        }
    except ValidationError as exc:
        raise DemoError("; ".join(exc.messages)) from exc


def demo_loaded() -> bool:
    return User.objects.filter(username="admin").exists()


def load_orders(count: int) -> dict | None:
    """Replay ``count`` demo orders (demo/history.py) — only while the database has no work order at all."""
    from demo.history import DemoHistoryError, MissingSetup, load_history

    if count <= 0 or WorkOrder.objects.exists():
        return None
    try:
        return load_history(count=count)
    except MissingSetup as exc:
        return {"orders": 0, "skipped": str(exc)}
    except DemoHistoryError as exc:
        raise DemoError(str(exc)) from exc
