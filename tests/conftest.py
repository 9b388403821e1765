import os
import shutil

import pytest
from django.db import connection

from accounts.models import User
from accounts.roles import Role
from org.models import Unit, UnitKind

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
PASSWORD = "Ceshi@2026pw"


def pytest_collection_modifyitems(config, items):
    if connection.vendor != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL (run ./test with DATABASE_URL=postgres://…)")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def end_leftover_database_sessions(django_db_setup, django_db_blocker):
    """Connections are kept between requests (DB_CONN_MAX_AGE), so a thread a test started — the live server's,
    a worker's — may still hold one when the run ends, and PostgreSQL then refuses to drop the test database.
    Torn down before the database is: end those sessions first."""
    yield
    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture(autouse=True)
def fresh_gazetteer():
    """The place names are cached per process for a while (nlp/places.py); each test has its own unit tree."""
    from nlp import places

    places.reset_gazetteer()


@pytest.fixture(autouse=True)
def quick_password_hashing(settings):
    """Tests create many users; a cheap hash keeps that fast. ./run (tested in test_run_script) uses the real one."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def city(db) -> dict[str, Unit]:
    """A small tree: city, centre, two districts with a street and community, a department, a utility."""
    u = {}
    u["city"] = Unit.objects.create(code="T", name="测试市", kind=UnitKind.CITY)
    u["center"] = Unit.objects.create(code="T-12345", name="热线中心", kind=UnitKind.CENTER, parent=u["city"])
    u["d1"] = Unit.objects.create(code="T1", name="一区", kind=UnitKind.DISTRICT, parent=u["city"])
    u["s1"] = Unit.objects.create(code="T1-S1", name="一街道", kind=UnitKind.STREET, parent=u["d1"])
    u["c1"] = Unit.objects.create(code="T1-S1-C1", name="一社区", kind=UnitKind.COMMUNITY, parent=u["s1"])
    u["d2"] = Unit.objects.create(code="T2", name="二区", kind=UnitKind.DISTRICT, parent=u["city"])
    u["s2"] = Unit.objects.create(code="T2-S1", name="二街道", kind=UnitKind.STREET, parent=u["d2"])
    u["dept"] = Unit.objects.create(code="T-ZJJ", name="住建局", kind=UnitKind.DEPARTMENT, parent=u["city"])
    u["power"] = Unit.objects.create(code="T-POWER", name="供电公司", kind=UnitKind.UTILITY, parent=u["city"])
    return u


@pytest.fixture
def make_user(city):
    def make(role: str, unit: Unit | None = None, manager: bool = False, username: str | None = None) -> User:
        unit = unit or (city["d1"] if role == Role.HANDLER else city["center"])
        user = User(username=username or f"{role}-{unit.code}", role=role, unit=unit, is_unit_manager=manager)
        user.set_password(PASSWORD)
        user.save()
        return user

    return make


@pytest.fixture
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium fonts-wqy-microhei")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page that fails the test on any JavaScript error or console error."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))

    def on_console(msg) -> None:
        # A form re-shown with its errors is answered 4xx on purpose; Chromium logs that document's status.
        own_document = msg.location.get("url") == page.url and msg.text.startswith("Failed to load resource")
        if msg.type == "error" and not own_document:
            errors.append(f"console.{msg.type}: {msg.text} {msg.location}")

    page.on("console", on_console)
    page.js_errors = errors
    yield page
    context.close()
    assert not errors, errors


@pytest.fixture
def categories(db):
    from categories.loader import load_categories
    from demo.loader import CATEGORIES_CSV

    load_categories(CATEGORIES_CSV)


@pytest.fixture
def staff(city, make_user) -> dict[str, User]:
    """One user per role at the centre, plus handlers of two districts, a department and a manager."""
    return {
        "operator": make_user(Role.OPERATOR),
        "dispatcher": make_user(Role.DISPATCHER),
        "callback": make_user(Role.CALLBACK),
        "supervisor": make_user(Role.SUPERVISOR),
        "leader": make_user(Role.LEADER, city["city"]),
        "admin": make_user(Role.ADMIN),
        "h1": make_user(Role.HANDLER, city["d1"], username="h1"),
        "h2": make_user(Role.HANDLER, city["d2"], username="h2"),
        "hdept": make_user(Role.HANDLER, city["dept"], username="hdept"),
        "hs1": make_user(Role.HANDLER, city["s1"], username="hs1"),
    }


@pytest.fixture
def order_data(categories) -> dict:
    from categories.models import Category

    leaf = Category.objects.get(full_name="城乡建设 › 城市建设和市政管理 › 城市公共设施")
    return {
        "channel": "phone",
        "caller_name": "张先生",
        "caller_phone": "13800138000",
        "request_type": "complaint",
        "category": leaf.pk,
        "title": "小区门口路灯不亮",
        "content": "一区一街道幸福小区门口的路灯坏了半个月，晚上很黑。",
        "address": "一区一街道幸福小区",
    }
