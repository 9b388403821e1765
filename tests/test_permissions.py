"""Every page and API call checks the user on the server, whatever the menu shows."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.navigation import MENU
from accounts.roles import Role

PUBLIC = {
    "accounts:login", "accounts:logout", "healthz", "faq:index", "faq:detail", "disclosure",
    "portal:home", "portal:submit", "portal:enterprise", "portal:track", "portal:status",
}  # fmt: skip


def _named_pages(patterns=None, prefix=""):
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            if p.namespace in ("admin", "api"):
                continue
            yield from _named_pages(p.url_patterns, f"{p.namespace}:" if p.namespace else prefix)
        elif isinstance(p, URLPattern) and p.name:
            yield prefix + p.name, p


ARGS = {
    "org:unit_detail": lambda city: [city["d1"].code],
    "orders:detail": lambda city: ["20260101000001"],
    "orders:act": lambda city: ["20260101000001", "sign"],
    "orders:unmask": lambda city: ["20260101000001"],
    "orders:attachment": lambda city: ["20260101000001", 1],
    "supervision:detail": lambda city: ["DB20260101000001"],
    "supervision:flag": lambda city: ["20260101000001"],
    "supervision:case": lambda city: ["20260101000001"],
    "supervision:blow": lambda city: ["20260101000001"],
    "supervision:whistle": lambda city: [1],
    "alerts:detail": lambda city: [1],
    "knowledge:detail": lambda city: [1],
    "knowledge:edit": lambda city: [1],
    "knowledge:submit": lambda city: [1],
    "knowledge:review": lambda city: [1],
    "knowledge:withdraw": lambda city: [1],
    "knowledge:revision": lambda city: [1, 1],
    "faq:detail": lambda city: [1],
    "portal:status": lambda city: ["ABCDEFGHJK"],
    "portal:decline": lambda city: ["ABCDEFGHJK"],
    "portal:photo": lambda city: [1],
    "analytics:hot_issue": lambda city: [1],
    "analytics:report": lambda city: [1],
    "analytics:report_pdf": lambda city: [1],
    "analytics:report_xlsx": lambda city: [1],
}


def _url(name, city):
    return reverse(name, args=ARGS[name](city)) if name in ARGS else reverse(name)


def test_every_page_but_login_and_health_needs_a_login(client, city):
    pages = [name for name, _ in _named_pages() if name not in PUBLIC]
    assert "accounts:home" in pages and "org:unit_detail" in pages and "orders:act" in pages
    for name in pages:
        response = client.get(_url(name, city))
        assert response.status_code == 302, name
        assert response.url.startswith(reverse("accounts:login")), name


@pytest.mark.parametrize("role", Role.values)
def test_each_role_reaches_its_menu_and_only_admin_the_admin_site(client, make_user, role):
    user = make_user(role)
    client.force_login(user)
    for item in MENU:
        response = client.get(reverse(item.url_name))
        if role in item.roles | item.open_to:
            assert response.status_code == 200, (role, item.url_name)
        elif item.url_name.startswith("admin:"):
            assert response.status_code == 302 and "/admin/login/" in response.url
        else:
            assert response.status_code == 403, (role, item.url_name)
    admin_users = client.get(reverse("admin:accounts_user_changelist"))
    assert (admin_users.status_code == 200) == (role == Role.ADMIN)


def test_handlers_menu_leads_to_their_supervision_and_numbers(client, make_user):
    client.force_login(make_user(Role.HANDLER))
    html = client.get("/").content.decode()
    for label, url_name in (("督办单", "supervision:list"), ("吹哨报到", "supervision:whistles"),
                            ("单位看板", "analytics:unit")):  # fmt: skip
        assert f'href="{reverse(url_name)}"' in html and label in html
    assert "待答复督办单" in html  # the home page's count


def test_menu_shows_admin_entries_only_to_admins(client, make_user):
    client.force_login(make_user(Role.OPERATOR))
    html = client.get("/").content.decode()
    assert "组织机构" in html and "系统管理" not in html and "话务员工作台" in html
    client.force_login(make_user(Role.ADMIN))
    assert "系统管理" in client.get("/").content.decode()


def test_handler_cannot_open_another_units_page(client, city, make_user):
    client.force_login(make_user(Role.HANDLER, city["d1"]))
    assert client.get(reverse("org:unit_detail", args=["T1"])).status_code == 200
    assert client.get(reverse("org:unit_detail", args=["T2"])).status_code == 404
    assert client.get(reverse("org:unit_detail", args=["T1-S1"])).status_code == 404
    html = client.get(reverse("org:unit_list")).content.decode()
    assert "一区" in html and "二区" not in html


def test_unit_manager_sees_sub_units(client, city, make_user):
    client.force_login(make_user(Role.HANDLER, city["d1"], manager=True))
    assert client.get(reverse("org:unit_detail", args=["T1-S1-C1"])).status_code == 200
    assert client.get(reverse("org:unit_detail", args=["T2-S1"])).status_code == 404


def test_inactive_user_cannot_log_in(client, make_user):
    from tests.conftest import PASSWORD

    user = make_user(Role.OPERATOR)
    user.is_active = False
    user.save()
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_login_and_logout(client, make_user):
    from tests.conftest import PASSWORD

    user = make_user(Role.DISPATCHER)
    bad = client.post(reverse("accounts:login"), {"username": user.username, "password": "wrong"})
    assert "请输入一个正确的" in bad.content.decode() or "正确" in bad.content.decode()
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/"
    assert "派单员工作台" in client.get("/").content.decode()
    client.post(reverse("accounts:logout"))
    assert client.get("/").status_code == 302


def test_home_page_lists_the_working_days_after_today(client, make_user):
    from datetime import timedelta

    from django.utils import timezone

    from workcalendar.worktime import get_calendar

    client.force_login(make_user(Role.OPERATOR))
    html = client.get("/").content.decode()
    today = timezone.localdate()
    expected = get_calendar().working_days(today + timedelta(days=1), today + timedelta(days=15))[:5]
    listed = html.split("接下来的工作日：")[1].split("。")[0]
    assert listed == "、".join(f"{d.month}月{d.day}日" for d in expected)
