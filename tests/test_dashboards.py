"""Unit dashboard, category analysis and hot issues on the dashboard: their numbers and the orders behind them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics import hot_issues, indicators, rollup
from analytics.models import HotIssue
from categories.models import Category
from orders import transitions as t

pytestmark = pytest.mark.django_db


def orders_listed(page: str) -> int:
    return page.count('href="/orders/2')


@pytest.fixture
def spread(staff, order_data, city):
    """Yesterday: two orders led by 一区 itself, three by its 一街道, one by 二区, one answered directly."""
    at = timezone.now() - timedelta(days=1)
    for unit, count in ((city["d1"], 2), (city["s1"], 3), (city["d2"], 1)):
        for _ in range(count):
            order = t.intake(staff["operator"], order_data, at=at)[0]
            t.dispatch(order, staff["dispatcher"], lead_unit=unit, at=at)
    t.answer_directly(t.intake(staff["operator"], order_data, at=at)[0], staff["operator"], answer="可以。", at=at)
    rollup.refresh()


def test_sub_unit_breakdown_adds_up_to_the_units_total(spread, city):
    today = timezone.localdate()
    start, stop = today - timedelta(days=2), today + timedelta(days=1)
    rows = indicators.sub_unit_breakdown(city["d1"], start, stop)
    assert [(label, c.received) for _, label, c in rows] == [("一街道", 3), ("本级", 2)]
    total = indicators.totals(start, stop, indicators.Filters(unit=city["d1"]))
    assert sum(c.received for _, _, c in rows) == total.received == 5
    assert indicators.totals(start, stop, indicators.Filters(unit=city["d1"], sub_units=False)).received == 2


def test_unit_dashboard_numbers_drill_down_to_the_same_orders(client, staff, spread, city):
    client.force_login(staff["leader"])
    page = client.get("/analytics/unit/", {"unit": city["d1"].pk})
    html = page.content.decode()
    assert page.status_code == 200 and "单位看板 · 一区" in html and "下级单位" in html
    chart = page.context["chart"]
    units = next(p for p in chart["panels"] if p["id"] == "units")["data"]
    assert [(d["name"], d["value"]) for d in units] == [("一街道", 3), ("本级", 2)]
    for segment in units:  # each bar lists exactly its orders
        assert orders_listed(client.get(segment["url"]).content.decode()) == segment["value"]
    card = next(c for c in page.context["cards"] if c["label"] == "受理量")
    assert card["value"] == 5 and orders_listed(client.get(card["url"]).content.decode()) == 5
    own = client.get("/analytics/unit/", {"unit": city["d1"].pk, "sub": 0})
    card = next(c for c in own.context["cards"] if c["label"] == "受理量")
    assert card["value"] == 2 and orders_listed(client.get(card["url"]).content.decode()) == 2
    everyone = client.get("/analytics/unit/").content.decode()
    assert "一街道" in everyone and "二区" in everyone  # the list of all units


def test_a_handler_sees_only_its_own_units_dashboard(client, staff, spread, city):
    client.force_login(staff["h2"])
    page = client.get("/analytics/unit/")
    assert page.status_code == 200 and page.context["unit"] == city["d2"]
    assert client.get("/analytics/unit/", {"unit": city["d1"].pk}).status_code == 404
    assert client.get("/analytics/unit/", {"unit": "abc"}).status_code == 404
    assert client.get("/analytics/category/").status_code == 403


def test_category_analysis_walks_down_the_tree(client, staff, spread, order_data):
    leaf = Category.objects.get(pk=order_data["category"])
    middle, top = leaf.parent, leaf.parent.parent
    client.force_login(staff["leader"])
    page = client.get("/analytics/category/")
    children = next(p for p in page.context["chart"]["panels"] if p["id"] == "children")["data"]
    assert [(d["name"], d["value"]) for d in children] == [(top.name, 7)]
    page = client.get("/analytics/category/", {"category": top.pk})
    html = page.content.decode()
    assert top.name in html and f'?category={middle.pk}"' in html  # its sub-category has its own page
    units = next(p for p in page.context["chart"]["panels"] if p["id"] == "units")["data"]
    assert sorted((d["name"], d["value"]) for d in units) == [("一区", 2), ("一街道", 3), ("二区", 1)]
    for segment in units:
        assert orders_listed(client.get(segment["url"]).content.decode()) == segment["value"]
    leaf_page = client.get("/analytics/category/", {"category": leaf.pk})
    assert leaf_page.status_code == 200 and all(p["id"] != "children" for p in leaf_page.context["panels"])
    assert client.get("/analytics/category/", {"category": 999999}).status_code == 404


def test_hot_issue_snapshot_on_the_dashboard_with_its_orders(client, staff, order_data, city):
    at = timezone.now() - timedelta(hours=5)
    same = {**order_data, "title": "幸福小区门口路灯不亮", "content": "幸福小区南门路灯连续一周不亮，晚上出行不便。",
            "address": "一区幸福小区南门"}  # fmt: skip
    for phone in ("13900000001", "13900000002", "13900000003"):
        t.intake(staff["operator"], {**same, "caller_phone": phone}, at=at)
    other = {**order_data, "title": "咨询社保卡补办", "content": "社保卡丢了怎么补办？", "caller_phone": "13900000009"}
    t.intake(staff["operator"], other, at=at)
    assert hot_issues.take_snapshot() >= 1
    top = hot_issues.latest_snapshot().first()
    assert top.rank == 1 and top.order_count == 3 and top.caller_count == 3 and "路灯" in top.description
    client.force_login(staff["leader"])
    html = client.get("/analytics/").content.decode()
    assert "热点问题" in html and f"/analytics/hot-issues/{top.pk}/" in html
    detail = client.get(f"/analytics/hot-issues/{top.pk}/").content.decode()
    assert orders_listed(detail) == 3 and "13900000009" not in detail
    hot_issues.take_snapshot(now=timezone.now() + timedelta(minutes=1))
    assert HotIssue.objects.values("computed_at").distinct().count() == 2
    assert hot_issues.latest_snapshot().first().pk != top.pk  # the dashboard shows the newest snapshot


def test_empty_dashboards_say_so(client, staff, city):
    client.force_login(staff["leader"])
    for url in ("/analytics/", "/analytics/category/", f"/analytics/unit/?unit={city['d1'].pk}", "/analytics/unit/"):
        page = client.get(url)
        assert page.status_code == 200, url
    assert "还没有热点问题" in client.get("/analytics/").content.decode()


def test_areas_are_counted_per_district_and_drill_down_to_the_same_orders(client, staff, order_data, city):
    """An order placed in a street or community counts for its 区/县, so the 区域分布 rows are peers that add up."""
    at = timezone.now() - timedelta(days=1)
    for area, count in ((city["d1"], 1), (city["s1"], 2), (city["c1"], 1), (city["s2"], 2)):
        for _ in range(count):
            t.intake(staff["operator"], {**order_data, "area": area}, at=at)
    t.intake(staff["operator"], {**order_data, "area": None}, at=at)
    rollup.refresh()
    today = timezone.localdate()
    rows = indicators.area_breakdown(today - timedelta(days=2), today + timedelta(days=1))
    assert [(label, c.received) for _, label, c in rows] == [("一区", 4), ("二区", 2)]

    client.force_login(staff["leader"])
    page = client.get("/analytics/")
    areas = next(p for p in page.context["chart"]["panels"] if p["id"] == "areas")["data"]
    assert [(d["name"], d["value"]) for d in areas] == [("一区", 4), ("二区", 2)]
    for bar in areas:  # a district's bar lists the orders of its streets and communities too
        assert orders_listed(client.get(bar["url"]).content.decode()) == bar["value"]
    html = client.get("/analytics/category/").content.decode()
    assert "区域分布（区/县）" in html and "一街道" not in html
