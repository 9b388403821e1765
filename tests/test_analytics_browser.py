"""Real Chromium: a leader clicks a number on the overview and lands on the orders behind it."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from analytics import rollup
from categories.models import Category
from demo.loader import DEMO_PASSWORD
from orders import transitions as t
from org.models import Unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", orders=0, cases=0)


def test_leader_clicks_a_kpi_and_sees_its_orders(live_server, page, demo):
    operator, dispatcher = User.objects.get(username="operator"), User.objects.get(username="dispatcher")
    leaf = Category.objects.get(full_name="城乡建设 › 城市建设和市政管理 › 城市公共设施")
    data = {
        "channel": "phone", "caller_name": "刘女士", "caller_phone": "13973100003", "request_type": "complaint",
        "category": leaf.pk, "title": "路灯不亮", "content": "小区门口路灯坏了。", "address": "A7县人民路1号",
    }  # fmt: skip
    at = timezone.now() - timedelta(days=1)
    numbers = []
    for _ in range(3):
        order = t.intake(operator, data, at=at)[0]
        numbers.append(order.number)
    t.dispatch(order, dispatcher, lead_unit=Unit.objects.get(code="A7"), at=at)
    rollup.refresh()

    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", "leader")
    page.fill("#id_password", DEMO_PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{base}/")
    page.click("nav.menu >> text=统计分析")
    card = page.locator("a[data-kpi='受理量']")
    assert card.locator("strong").inner_text() == "3"
    # selector waits, not wait_for_function: the page's CSP forbids the string evaluation that polling uses
    page.wait_for_selector("#chart-trend canvas", state="attached")
    page.screenshot(path="var/screenshot-overview.png", full_page=True)
    card.click()
    page.wait_for_url(lambda url: "/analytics/orders/" in url)
    rows = page.locator("table.orders tbody tr")
    assert rows.count() == 3
    assert sorted(rows.locator("td:first-child").all_inner_texts()) == sorted(numbers)
    page.go_back()
    page.click("a[data-kpi='响应率']")
    page.wait_for_url(lambda url: "counter=responded" in url)
    assert "受理量" not in page.locator("h1").inner_text() and "响应率" in page.locator("h1").inner_text()
    # A slice of the category pie: its orders.
    page.go_back()
    page.wait_for_selector("#chart-categories canvas", state="attached")
    page.locator("#chart-categories").scroll_into_view_if_needed()
    page.wait_for_timeout(800)  # the pie's opening animation
    box = page.locator("#chart-categories").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(lambda url: "category=" in url)
    assert page.locator("table.orders tbody tr").count() == 3
    # The unit dashboard of the unit that leads one of them, from the overview's area table and the unit list.
    page.goto(f"{base}/analytics/unit/?unit={Unit.objects.get(code='A7').pk}")
    card = page.locator("a[data-kpi='受理量']")
    assert card.locator("strong").inner_text() == "1"
    card.click()
    page.wait_for_url(lambda url: "/analytics/orders/" in url and "unit=" in url)
    assert page.locator("table.orders tbody tr td:first-child").all_inner_texts() == [numbers[-1]]
