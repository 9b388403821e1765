"""Real Chromium: a citizen submits on a phone-sized screen; the operator finds it in the queue and takes it in."""

import re

import pytest
from django.core.management import call_command

from demo.loader import DEMO_PASSWORD
from portal.models import Status, Submission

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CATEGORY = "城乡建设 › 城市建设和市政管理 › 城市公共设施"


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    settings.PORTAL_SENDERS = ["portal.receipts.FileSmsSender"]
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", orders=0, cases=0)


def test_a_request_from_the_portal_reaches_the_operator_and_becomes_an_order(
    live_server, browser, page, demo, tmp_path
):
    base = live_server.url
    phone = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True)  # fmt: skip
    citizen = phone.new_page()
    errors = []
    citizen.on("pageerror", lambda exc: errors.append(str(exc)))
    citizen.goto(f"{base}/portal/")
    citizen.click("text=我要反映")
    citizen.fill("#id_name", "赵先生")
    citizen.fill("#id_phone", "13973100088")
    citizen.fill("#id_title", "人行道井盖松动")
    citizen.fill("#id_content", "A7县人民路88号门前人行道井盖松动，踩上去会翻，请尽快处理。")
    citizen.fill("#id_address", "A7县人民路88号")
    photo = tmp_path / "井盖.png"
    photo.write_bytes(PNG)
    citizen.set_input_files("#id_photos", str(photo))
    citizen.click("button[type=submit].primary")
    citizen.wait_for_url(re.compile(r"/portal/track/[0-9A-Z]+/$"))
    code = citizen.locator("#tracking-code").inner_text()
    assert "待受理" in citizen.locator("main").inner_text()
    # the page fits the phone: nothing wider than the screen
    assert citizen.evaluate("document.documentElement.scrollWidth") <= 390
    citizen.screenshot(path="var/screenshot-portal.png", full_page=True)
    assert (tmp_path / "sms").exists() and code in next((tmp_path / "sms").iterdir()).read_text(encoding="utf-8")

    page.goto(f"{base}/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", DEMO_PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{base}/")
    page.click("nav.menu >> text=网上诉求")
    row = page.locator("tr", has_text=code)
    assert "人行道井盖松动" in row.inner_text()
    row.locator("a.button", has_text="受理").click()
    page.wait_for_selector("#submission-banner")
    assert page.input_value("#id_caller_phone") == "13973100088"
    assert page.input_value("#id_title") == "人行道井盖松动"
    page.select_option("#id_request_type", "help")
    page.fill("#id_category", CATEGORY)
    page.press("#id_title", "Control+Enter")
    page.wait_for_url(re.compile(r"/orders/\d{14}/$"))
    number = page.url.rstrip("/").rsplit("/", 1)[1]
    assert "井盖.png" in page.locator("main").inner_text()

    submission = Submission.objects.get(code=code)
    assert submission.status == Status.ACCEPTED and submission.order.number == number
    citizen.reload()
    assert number in citizen.locator("main").inner_text() and "已受理" in citizen.locator("main").inner_text()
    phone.close()
    assert not errors, errors
