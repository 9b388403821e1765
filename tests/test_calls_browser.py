"""Real Chromium and real HTTP: the switch reports a call and the agent's intake page shows the caller at once."""

import json
import re
import time
import urllib.request

import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.tokens import create_token
from calls.models import Call
from demo.loader import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CATEGORY = "城乡建设 › 城市建设和市政管理 › 城市公共设施"


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", orders=0, cases=0)


def report(base: str, key: str, **body) -> dict:
    request = urllib.request.Request(
        f"{base}/api/calls/events", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_the_caller_pops_up_within_a_second_and_the_order_keeps_the_recording(live_server, page, demo):
    base = live_server.url
    _, key = create_token(User.objects.get(username="admin"), "交换机")
    page.goto(f"{base}/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", DEMO_PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{base}/")
    page.click("nav.menu >> text=受理")
    page.wait_for_selector("#call-pop", state="attached")

    started = time.monotonic()
    report(base, key, call_id="sw-1", event="ringing", caller="13973100077", agent="operator")
    page.wait_for_selector(".call-pop:has-text('来电 13973100077')", timeout=3000)
    popped = time.monotonic() - started
    assert popped < 2.0, popped  # polled every second
    assert page.input_value("#id_caller_phone") == "13973100077"
    page.wait_for_selector("#caller-history:has-text('没有历史工单')")

    report(base, key, call_id="sw-1", event="answered", agent="operator")
    page.select_option("#id_request_type", "complaint")
    page.fill("#id_category", CATEGORY)
    page.fill("#id_title", "楼下烧烤店油烟扰民")
    page.fill("#id_content", "A7县人民路烧烤店每晚油烟很大，窗户都不能开。")
    page.press("#id_title", "Control+Enter")
    page.wait_for_url(re.compile(r"/orders/\d{14}/$"))
    number = page.url.rstrip("/").rsplit("/", 1)[1]
    assert Call.objects.get(call_id="sw-1").order.number == number

    report(base, key, call_id="sw-1", event="ended")
    done = report(base, key, call_id="sw-1", event="recording", recording_url="https://cti.example/rec/sw-1.wav")
    assert done["order"] == number and done["state"] == "ended"
    page.reload()
    assert page.locator("a:has-text('通话录音')").get_attribute("href") == "https://cti.example/rec/sw-1.wav"
