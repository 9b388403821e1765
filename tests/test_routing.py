"""Intake assistance and routing: recommended units with reasons, duplicates from other callers, one-click actions."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from categories.models import Category
from nlp import places
from orders import routing
from orders import transitions as t
from orders.models import Closure, DirectDispatchRule, State, WorkOrder

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def finish(order, staff, unit, handler):
    order = t.sign(t.dispatch(order, staff["dispatcher"], lead_unit=unit), handler)
    order = t.reply(order, handler, result="resolved", content="已处理。", measures="已修复。")
    return t.callback(order, staff["callback"], contact_result="reached", satisfaction="satisfied", resolved=True)


def test_recommendation_uses_place_default_and_history(staff, order_data, city):
    places.reset_gazetteer()
    leaf = Category.objects.get(pk=order_data["category"])
    leaf.parent.default_unit = city["dept"]
    leaf.parent.save()
    for _ in range(3):
        finish(t.intake(staff["operator"], order_data)[0], staff, city["d2"], staff["h2"])
    found = places.extract("一街道幸福小区门口路灯不亮")
    top = routing.recommend(leaf, found)
    assert [c.unit for c in top] == [city["d2"], city["s1"], city["dept"]]
    reasons = {c.unit.code: " ".join(c.reasons) for c in top}
    assert "3 张由其办结" in reasons["T2"] and "属地" in reasons["T1-S1"] and "默认承办单位" in reasons["T-ZJJ"]
    DirectDispatchRule.objects.create(category=leaf.parent, unit=city["power"])
    assert routing.recommend(leaf, found)[0].unit == city["power"]


def test_history_ignores_orders_that_were_returned_or_reopened(staff, order_data, city):
    leaf = Category.objects.get(pk=order_data["category"])
    order = t.dispatch(t.intake(staff["operator"], order_data)[0], staff["dispatcher"], lead_unit=city["d1"])
    order = t.request_return(order, staff["h1"], reason="不归我们")
    order = t.decide_return(order, staff["dispatcher"], approve=True)
    finish(order, staff, city["d2"], staff["h2"])
    assert WorkOrder.objects.get(pk=order.pk).closure == Closure.HANDLED
    counts, plain = routing.history_counts(leaf, None)
    assert counts == {}  # the one finished order had a return


def test_dispatch_form_offers_the_recommendations(staff, order_data, city):
    order, _ = t.intake(staff["operator"], {**order_data, "address": "二街道"})
    places.reset_gazetteer()
    html = as_user(staff["dispatcher"]).get(f"/orders/{order.number}/").content.decode()
    assert "推荐主办单位" in html and "属地：诉求发生在二街道" in html
    assert '<option value="T2-S1" selected>' in html


def test_assist_panel_and_one_click_merge_and_transfer(staff, order_data, city):
    places.reset_gazetteer()
    first, _ = t.intake(staff["operator"], {**order_data, "caller_phone": "13900000001", "area": "T1-S1",
                                            "content": "一街道幸福小区门口的路灯坏了半个月，晚上很黑。"})  # fmt: skip
    client = as_user(staff["operator"])
    html = client.get("/orders/assist/", {"title": "路灯不亮", "content": "一街道幸福小区门口的路灯坏了，晚上很黑",
                                          "caller_phone": "13800138000"}).content.decode()  # fmt: skip
    assert first.number in html and "多人一诉" in html and "一街道" in html
    fire = client.get("/orders/assist/", {"content": "楼下着火了，浓烟滚滚"}).content.decode()
    assert 'name="transfer_line" value="119"' in fire
    calm = client.get("/orders/assist/", {"content": "咨询消防安全检查的流程"}).content.decode()
    assert "transfer_line" not in calm
    assert client.get("/orders/assist/", {"content": "x" * 100_000, "title": "<b>😀</b>"}).status_code == 200

    leaf = Category.objects.get(pk=order_data["category"])
    form = {**order_data, "category": leaf.full_name, "priority": "normal", "idempotency_key": "m-1",
            "merge_into": first.number}  # fmt: skip
    response = client.post("/orders/new/", form)
    merged = WorkOrder.objects.get(idempotency_key="m-1")
    assert response.status_code == 302 and merged.parent == first and merged.closure == Closure.MERGED
    client.post("/orders/new/", {**form, "idempotency_key": "m-2", "merge_into": "", "transfer_line": "119"})
    transferred = WorkOrder.objects.get(idempotency_key="m-2")
    assert (transferred.state, transferred.closure) == (State.ARCHIVED, Closure.TRANSFERRED)


def test_similar_orders_only_recent_open_and_from_others(staff, order_data, city):
    from orders.queries import similar_open_orders

    text = "一街道幸福小区门口的路灯坏了半个月，晚上很黑"
    old, _ = t.intake(staff["operator"], {**order_data, "caller_phone": "13900000002", "area": "T1-S1"},
                      at=timezone.now() - timedelta(days=30))  # fmt: skip
    mine, _ = t.intake(staff["operator"], {**order_data, "area": "T1-S1"})
    theirs, _ = t.intake(staff["operator"], {**order_data, "caller_phone": "13900000003", "area": "T1-S1"})
    found = [o for o, _ in similar_open_orders(text, city["s1"].path, order_data["caller_phone"])]
    assert found == [theirs] and old not in found and mine not in found
    assert similar_open_orders("停车难", city["s1"].path) == []
    assert similar_open_orders(text, None) == []
