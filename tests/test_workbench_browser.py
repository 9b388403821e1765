"""Real Chromium: one order from intake to archive through the workbenches, as four different users."""

import re

import pytest
from django.core.management import call_command

from demo.loader import DEMO_PASSWORD
from orders.models import Action, Closure, State, WorkOrder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CATEGORY = "城乡建设 › 城市建设和市政管理 › 城市公共设施"


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", orders=0, cases=100)


def login(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{base}/")


def submit(page, action: str) -> None:
    page.click(f"#action-{action} button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator(".messages .success").count() == 1, page.locator("main").inner_text()


def test_order_from_intake_to_archive_through_the_ui(live_server, page, demo):
    base = live_server.url

    # 话务员: type the call in, from the keyboard
    login(page, base, "operator")
    page.click("nav.menu >> text=受理")
    page.wait_for_url("**/orders/new/")
    # the phone box has the focus once the page is loaded (fails after the wait's timeout otherwise)
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_caller_phone'")
    page.keyboard.type("13973100001")
    page.wait_for_selector("#caller-history:has-text('没有历史工单')")
    page.fill("#id_caller_name", "刘女士")
    page.select_option("#id_request_type", "complaint")
    page.fill("#id_category", CATEGORY)
    page.fill("#id_title", "小区门口路灯不亮")
    page.fill("#id_content", "A7县某小区门口的路灯坏了半个月，晚上出行很不安全。")
    page.fill("#id_address", "A7县人民路88号")
    page.press("#id_address", "Control+Enter")
    page.wait_for_url(re.compile(r"/orders/\d{14}/$"))
    number = page.url.rstrip("/").rsplit("/", 1)[1]
    assert "待派发" in page.locator("h1").inner_text()
    page.screenshot(path="var/screenshot-order-new.png", full_page=True)

    # 派单员: from the queue to the lead unit
    login(page, base, "dispatcher")
    page.click("nav.menu >> text=派单")
    page.click(f"text={number}")
    page.select_option("#id_dispatch-lead_unit", "A7")
    submit(page, "dispatch")
    assert "待签收" in page.locator("h1").inner_text()

    # 承办人: sign, then reply
    login(page, base, "handler_a7")
    page.click("nav.menu >> text=承办")
    page.click(f"text={number}")
    submit(page, "sign")
    page.check("#action-reply input[value=resolved]")
    page.fill("#id_reply-content", "已安排维修人员更换灯具，路灯恢复照明。")
    page.fill("#id_reply-measures", "现场检查线路，更换损坏灯具。")
    submit(page, "reply")

    # 回访员: unsatisfied, not resolved -> 重办
    login(page, base, "callback")
    page.click("nav.menu >> text=回访")
    page.click(f"text={number}")
    page.check("#action-callback input[name='callback-contact_result'][value=reached]")
    page.check("#action-callback input[name='callback-satisfaction'][value=unsatisfied]")
    page.check("#action-callback input[name='callback-resolved'][value='0']")
    page.fill("#id_callback-note", "市民反映路灯仍然时亮时灭")
    submit(page, "callback")
    page.fill("#id_reopen-reason", "回访不满意：路灯时亮时灭，请彻底检修")
    submit(page, "reopen")
    assert "办理中" in page.locator("h1").inner_text()

    # 承办人 replies again
    login(page, base, "handler_a7")
    page.goto(f"{base}/orders/inbox/?tab=in_progress")
    page.click(f"text={number}")
    page.check("#action-reply input[value=resolved]")
    page.fill("#id_reply-content", "已更换老化电缆，路灯稳定照明。")
    page.fill("#id_reply-measures", "更换电缆并连续观察三晚。")
    submit(page, "reply")

    # 回访员: satisfied and resolved -> archived
    login(page, base, "callback")
    page.goto(f"{base}/orders/{number}/")
    page.check("#action-callback input[name='callback-satisfaction'][value=satisfied]")
    page.check("#action-callback input[name='callback-resolved'][value='1']")
    submit(page, "callback")
    assert "已归档" in page.locator("h1").inner_text()
    timeline = page.locator(".timeline").inner_text()
    for label in ("受理", "派单", "签收", "办结", "回访", "重办"):
        assert label in timeline
    page.screenshot(path="var/screenshot-order-archived.png", full_page=True)

    order = WorkOrder.objects.get(number=number)
    assert (order.state, order.closure, order.reopen_count) == (State.ARCHIVED, Closure.HANDLED, 1)
    assert list(order.events.values_list("action", flat=True)) == [
        Action.INTAKE, Action.DISPATCH, Action.SIGN, Action.REPLY, Action.CALLBACK, Action.REOPEN,
        Action.REPLY, Action.CALLBACK,
    ]  # fmt: skip
    assert {e.actor.username for e in order.events.all()} == {"operator", "dispatcher", "handler_a7", "callback"}


def test_intake_errors_are_shown_by_field(live_server, page, demo):
    login(page, live_server.url, "operator")
    page.goto(f"{live_server.url}/orders/new/")
    page.fill("#id_caller_phone", "12345")
    page.fill("#id_category", "不存在的分类")
    page.fill("#id_title", "测试")
    page.fill("#id_content", "测试内容")
    page.click("button[name=create]")
    page.wait_for_load_state("networkidle")
    assert "电话号码格式不对" in page.locator(".field-error[data-field=caller_phone]").inner_text()
    assert "诉求分类不存在" in page.locator(".field-error[data-field=category]").inner_text()
    assert page.input_value("#id_title") == "测试"
    assert WorkOrder.objects.count() == 0
