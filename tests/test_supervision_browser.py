"""Real Chromium: a red order shows on the supervisor's dashboard, and a supervision order is issued from it."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from categories.models import Category
from orders import transitions as t
from orders.models import Warning, WorkOrder
from org.models import Unit
from supervision import warnings
from supervision.models import SupervisionOrder
from tests.test_workbench_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def red_order(transactional_db):
    call_command("load_demo", orders=0, cases=100)
    leaf = Category.objects.get(full_name="城乡建设 › 城市建设和市政管理 › 城市公共设施")
    data = {
        "caller_phone": "13973100002", "request_type": "complaint", "category": leaf.pk,
        "title": "路面塌陷三天无人处理", "content": "A7县人民路路面塌陷，已有车辆受损。",
    }  # fmt: skip
    three_days_ago = timezone.now() - timedelta(days=3)
    order, _ = t.intake(User.objects.get(username="operator"), data, at=three_days_ago)
    order = t.dispatch(order, User.objects.get(username="dispatcher"), lead_unit=Unit.objects.get(code="A7"),
                       at=three_days_ago)  # fmt: skip
    warnings.recompute()
    assert WorkOrder.objects.get(pk=order.pk).warning == Warning.RED
    return order


def test_red_order_on_the_dashboard_and_a_supervision_order_from_it(live_server, page, red_order):
    login(page, live_server.url, "supervisor")
    page.click("nav.menu >> text=督办")
    red = page.locator(".kpi[data-colour='3'] .num")
    assert red.inner_text().strip() == "1"
    assert "A7县" in page.locator("table.units-colours").inner_text()
    page.screenshot(path="var/screenshot-supervision.png", full_page=True)
    page.click(".kpi[data-colour='3']")
    page.click(f"text={red_order.number}")
    page.click("#issue-supervision")
    assert page.input_value("#id_orders") == red_order.number
    assert page.input_value("#id_unit") == "A7"
    page.fill("#id_requirements", "路面塌陷已三天未签收，请立即到场处置并于明天前答复。")
    page.fill("#id_deadline", (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.click("button:has-text('发出督办单')")
    page.wait_for_load_state("networkidle")
    supervision = SupervisionOrder.objects.get()
    assert supervision.number in page.locator("h1").inner_text() and "待答复" in page.locator("h1").inner_text()
    assert red_order.number in page.locator("main").inner_text()

    login(page, live_server.url, "handler_a7")
    assert page.locator(".bell .badge").count() == 1
    page.goto(f"{live_server.url}/supervision/orders/{supervision.number}/")
    page.fill("#id_answer", "已安排抢修队伍到场围挡并修复路面。")
    page.click("#answer button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已答复" in page.locator("h1").inner_text()
