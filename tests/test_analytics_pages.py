"""The leader overview, the orders behind a number and the public monthly disclosure, over the roll-up."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics import rollup
from orders import transitions as t

pytestmark = pytest.mark.django_db


@pytest.fixture
def week(staff, order_data, city):
    """Three orders received yesterday: two dispatched to 一区 (one signed in time), one answered directly."""
    at = timezone.now() - timedelta(days=1)
    first = t.dispatch(
        t.intake(staff["operator"], order_data, at=at)[0], staff["dispatcher"], lead_unit=city["d1"], at=at
    )
    t.sign(first, staff["h1"], at=at + timedelta(minutes=5))
    t.dispatch(t.intake(staff["operator"], order_data, at=at)[0], staff["dispatcher"], lead_unit=city["d1"], at=at)
    direct = t.intake(staff["operator"], {**order_data, "caller_name": "王女士"}, at=at)[0]
    t.answer_directly(direct, staff["operator"], answer="可以办理。", at=at)
    rollup.refresh()


def test_overview_numbers_link_to_the_orders_behind_them(client, staff, week):
    client.force_login(staff["leader"])
    page = client.get("/analytics/").content.decode()
    assert "领导驾驶舱" in page and 'data-kpi="受理量"' in page
    assert "33.33%" in page  # 直办率 1 of 3
    start = (timezone.localdate() - timedelta(days=29)).isoformat()
    received = client.get("/analytics/orders/", {"counter": "received", "start": start, "end": timezone.localdate()})
    assert received.content.decode().count('href="/orders/2') == 3
    responded = client.get("/analytics/orders/", {"counter": "responded", "start": start})
    assert responded.content.decode().count('href="/orders/2') == 1
    assert client.get("/analytics/orders/", {"counter": "nonsense"}).status_code == 404


def test_drill_down_counts_up_to_the_cap(client, staff, week, monkeypatch):
    """A year of a big city's orders is listed without counting millions: past the cap the list says "N+"."""
    client.force_login(staff["leader"])
    start = (timezone.localdate() - timedelta(days=29)).isoformat()
    query = {"counter": "received", "start": start, "end": timezone.localdate()}
    assert "共 3 张" in client.get("/analytics/orders/", query).content.decode()
    monkeypatch.setattr("orders.paging.COUNT_CAP", 2)
    assert "共 2+ 张" in client.get("/analytics/orders/", query).content.decode()


def test_drill_down_shows_a_handler_only_its_own_units_orders(client, staff, week):
    client.force_login(staff["h2"])
    start = (timezone.localdate() - timedelta(days=29)).isoformat()
    page = client.get("/analytics/orders/", {"counter": "received", "start": start}).content.decode()
    assert 'href="/orders/2' not in page
    assert client.get("/analytics/").status_code == 403


def test_public_disclosure_has_indicators_and_no_personal_data(client, week, order_data):
    from analytics import indicators

    last_month_day = timezone.localdate().replace(day=1) - timedelta(days=1)
    page = client.get("/open/indicators/", {"month": last_month_day.strftime("%Y-%m")}).content.decode()
    assert "承办单位办理情况公开" in page
    assert order_data["caller_phone"] not in page and order_data["caller_name"] not in page
    current = client.get("/open/indicators/", {"month": timezone.localdate().strftime("%Y-%m")}).content.decode()
    assert f"{last_month_day:%Y年%m月}" in current  # the running month is not published yet
    assert client.get("/open/indicators/", {"month": "garbage"}).status_code == 200
    assert indicators.totals(timezone.localdate() - timedelta(days=2), timezone.localdate()).received == 3


def test_reply_quality_on_the_order_for_supervisors_and_per_unit(client, staff, order_data, city):
    at = timezone.now() - timedelta(days=1)
    order = t.intake(staff["operator"], order_data, at=at)[0]
    order = t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"], at=at)
    order = t.sign(order, staff["h1"], at=at + timedelta(minutes=5))
    t.reply(order, staff["h1"], result="resolved", content="您好，您的留言已收悉，已转交相关部门，感谢您的支持。",
            measures="已转交。", at=at + timedelta(hours=1))  # fmt: skip
    client.force_login(staff["supervisor"])
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert "答复质量" in page and "套话答复" in page
    client.force_login(staff["h1"])
    assert "答复质量" not in client.get(f"/orders/{order.number}/").content.decode()
    from analytics.reply_quality import store_scores

    store_scores()
    client.force_login(staff["leader"])
    summary = client.get("/analytics/reply-quality/").content.decode()
    assert "一区" in summary and "100%" in summary  # its one reply is template-only


def test_drill_down_by_category_and_area_and_unknown_ids(client, staff, week, order_data, city):
    from categories.models import Category

    client.force_login(staff["leader"])
    start = (timezone.localdate() - timedelta(days=29)).isoformat()
    top = Category.objects.get(pk=order_data["category"]).parent.parent

    def count(**params):
        page = client.get("/analytics/orders/", {"counter": "received", "start": start, **params})
        return page.content.decode().count('href="/orders/2')

    assert count(category=top.pk) == 3
    assert count(unit=city["d1"].pk) == 2  # the third was answered directly: no lead unit
    assert count(unit=city["d2"].pk) == 0
    assert count(category=999999) == 0 and count(area="abc") == 0


def test_public_disclosure_lists_units_by_dispatched_orders(client, monkeypatch, db):
    """The table's first number is 派单量; the rows follow it, not the 受理量 the breakdown sorts by."""
    from analytics import indicators

    rows = [(1, "甲局", indicators._counts({"received": 9, "dispatched": 4})),
            (2, "乙局", indicators._counts({"received": 5, "dispatched": 5})),
            (3, "丙局", indicators._counts({"received": 7, "dispatched": 0}))]  # fmt: skip
    monkeypatch.setattr(indicators, "breakdown", lambda *args, **kwargs: rows)
    page = client.get("/open/indicators/").content.decode()
    assert page.index("乙局") < page.index("甲局") and "丙局" not in page
