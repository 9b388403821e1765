"""The admin speaks Chinese: every registered model and field, and the third-party labels translated in locale/."""

import gettext
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.utils import translation
from django_tasks.base import TaskResultStatus

CJK = re.compile(r"[\u4e00-\u9fff]")
LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


def po_entries(path: Path) -> dict[tuple[str | None, str], str]:
    """(context, msgid) → msgstr of a .po file of one-line strings, as the one in locale/ is written."""
    entries, current = {}, {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := re.match(r'^(msgctxt|msgid|msgstr) "(.*)"$', line):
            current[match.group(1)] = match.group(2)
            if match.group(1) == "msgstr" and current.get("msgid"):
                entries[(current.get("msgctxt"), current["msgid"])] = current["msgstr"]
                current = {}
    return entries


def test_the_compiled_catalogue_is_the_po_file():
    compiled = gettext.GNUTranslations((LOCALE / "django.mo").open("rb"))
    entries = po_entries(LOCALE / "django.po")
    assert len(entries) >= 20
    for (context, msgid), msgstr in entries.items():
        got = compiled.pgettext(context, msgid) if context else compiled.gettext(msgid)
        assert got == msgstr, f"django.mo is older than django.po for {msgid!r}: msgfmt -o django.mo django.po"


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_every_admin_model_and_field_has_a_chinese_label(model):
    with translation.override("zh-hans"):
        assert CJK.search(str(model._meta.verbose_name_plural)), model
        assert CJK.search(str(apps.get_app_config(model._meta.app_label).verbose_name)), model._meta.app_label
        for field in model._meta.get_fields():
            if field.auto_created or not hasattr(field, "verbose_name") or field.name == "id":
                continue
            assert CJK.search(str(field.verbose_name)), f"{model._meta.label}.{field.name}"


def test_task_statuses_read_in_chinese(client, staff):
    with translation.override("zh-hans"):
        assert [str(s.label) for s in TaskResultStatus] == ["待执行", "执行中", "失败", "成功"]
    from system.tasks import heartbeat

    heartbeat.enqueue()
    client.force_login(staff["admin"])
    html = client.get("/admin/django_tasks_database/dbtaskresult/").content.decode()
    assert "后台任务" in html and "Task Result" not in html and "Ready" not in html
    assert "heartbeat" in html and re.search(r"<th[^>]*column-task[^>]*>.*?任务", html, re.S)
    assert "Task name" not in html and "待执行" in html
    assert "创建用户后" in client.get("/admin/accounts/user/add/").content.decode()


def test_djangos_own_messages_read_naturally():
    """Django's wording is replaced where it reads like a translation (具有 单位编码 的 承办单位 已存在。)."""
    from django import forms
    from django.utils.translation import gettext

    with translation.override("zh-hans"):
        unique = gettext("%(model_name)s with this %(field_label)s already exists.")
        assert unique % {"model_name": "承办单位", "field_label": "单位编码"} == "已有相同单位编码的承办单位。"
        with pytest.raises(forms.ValidationError) as exc:
            forms.EmailField().clean("不是邮箱")
        assert exc.value.messages == ["请输入有效的电子邮件地址。"]
