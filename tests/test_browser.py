"""Real Chromium against the live server: every demo login reaches its home page without JS errors."""

import pytest
from django.core.management import call_command

from accounts.views import ROLE_HOME_TITLES
from demo.loader import DEMO_PASSWORD, DEMO_USERS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", orders=0, cases=100)


def login(page, base: str, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.press("#id_password", "Enter")
    page.wait_for_load_state("networkidle")


def assert_menu_inside_the_top_bar(page, width: int, username: str) -> None:
    """Every menu entry and the signed-in user's line sit inside the blue bar, none under the page's content."""
    page.set_viewport_size({"width": width, "height": 800})
    bar = page.locator("header.topbar").bounding_box()
    for selector in ("nav.menu a", ".me .who", ".me button"):
        items = page.locator(selector)
        for i in range(items.count()):
            box = items.nth(i).bounding_box()
            inside = box["y"] >= bar["y"] and box["y"] + box["height"] <= bar["y"] + bar["height"] + 0.5
            assert inside and box["x"] + box["width"] <= width, (username, width, selector, i, box, bar)
    content = page.locator("main.page").bounding_box()
    assert content["y"] >= bar["y"] + bar["height"], (username, width, content, bar)


def test_every_role_logs_in_sees_its_home_and_menu_pages(live_server, page, demo):
    for username, _name, role, _unit, _manager in DEMO_USERS:
        login(page, live_server.url, username)
        assert page.locator("h1").first.inner_text() == ROLE_HOME_TITLES[role], username
        assert str(role.label) in page.locator(".me .who").inner_text()
        links = page.locator("nav.menu a")
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        for width in (1024, 1366):
            assert_menu_inside_the_top_bar(page, width, username)
        assert "/org/" in hrefs
        assert ("/admin/" in hrefs) == (role == "admin")
        for href in hrefs:
            response = page.goto(live_server.url + href)
            assert response.status == 200, (username, href)
        page.goto(live_server.url + "/")
        page.click("text=退出")
        page.wait_for_url(f"{live_server.url}/login/")


def test_wrong_password_shows_a_chinese_error(live_server, page, demo):
    login(page, live_server.url, "operator", "wrong-password")
    assert "正确的用户名和密码" in page.locator(".error").inner_text()


def test_deadline_calculator_over_national_day(live_server, page, demo):
    login(page, live_server.url, "dispatcher")
    page.goto(f"{live_server.url}/calendar/?year=2025&month=10")
    assert "2025年10月" in page.locator("h1").inner_text()
    page.fill("input[name=start]", "2025-09-30T15:00")
    page.fill("input[name=amount]", "1")
    page.click("button:has-text('计算')")
    page.wait_for_selector("#deadline-value")
    assert page.locator("#deadline-value").inner_text() == "2025-10-09 15:00"
    page.screenshot(path="var/screenshot-calendar.png", full_page=True)


def test_admin_edits_master_data_in_chinese(live_server, page, demo):
    login(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/admin/org/unit/")
    assert "承办单位" in page.content()
    page.goto(f"{live_server.url}/admin/org/unit/add/")
    page.fill("#id_code", "A1-S99")
    page.fill("#id_name", "测试街道")
    page.select_option("#id_kind", "street")
    page.click("input[name=_save]")
    assert "必须有上级单位" in page.inner_text("#content")
