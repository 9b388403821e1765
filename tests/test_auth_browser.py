"""Real Chromium under the Content-Security-Policy: two-step sign-in, the API docs and a moved script all work."""

import pytest
from django.utils import timezone

from accounts import totp
from accounts.models import TotpDevice
from accounts.roles import Role
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_admin_signs_in_with_password_then_code(live_server, page, make_user):
    admin_user = make_user(Role.ADMIN, username="admin")
    device = TotpDevice.objects.create(user=admin_user, secret=totp.new_secret(), confirmed_at=timezone.now())
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{base}/login/verify/")
    assert page.locator("h1").inner_text() == "两步验证"
    page.fill("#id_code", totp.code_at(device.secret, timezone.now()))
    page.press("#id_code", "Enter")
    page.wait_for_url(f"{base}/")
    assert page.locator("h1").inner_text() == "系统管理"


def test_supervisor_turns_two_step_sign_in_on_from_the_home_page(live_server, page, make_user):
    make_user(Role.SUPERVISOR, username="supervisor")
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", "supervisor")
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{base}/")
    page.click("main >> text=两步验证")
    page.click("button:has-text('开始设置')")
    page.wait_for_selector("#totp-secret")
    assert page.locator("img.qr").evaluate("img => img.complete && img.naturalWidth > 100")
    secret = page.locator("#totp-secret").inner_text()
    page.screenshot(path="var/screenshot-two-factor.png", full_page=True)
    page.fill("#id_code", totp.code_at(secret, timezone.now()))
    page.click("button:has-text('启用两步验证')")
    page.wait_for_selector(".messages .success")
    assert "两步验证已启用" in page.locator("main").inner_text()
    assert TotpDevice.objects.get(user__username="supervisor").is_confirmed


def test_api_docs_render_under_the_policy(live_server, page, make_user):
    make_user(Role.ADMIN, username="admin")
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/api/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "12345 政务服务便民热线 API" in page.locator(".swagger-ui .info .title").inner_text()
    page.wait_for_selector(".opblock-tag")  # the operations, read from /api/openapi.json


def test_portal_location_button_runs_from_its_static_file(live_server, page, db):
    page.goto(f"{live_server.url}/portal/submit/")
    page.click("#locate")
    page.wait_for_selector("#located:not(:empty)")  # not wait_for_function: CSP forbids its string evaluation
    assert "定位" in page.locator("#located").inner_text()
