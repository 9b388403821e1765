"""工单直派 to utilities: a power company's own system receives its orders from the event feed and answers them
through the API with its own token, under the same rules and deadlines as any unit."""

import json

from django.db.models import Max
from django.utils import timezone

from accounts.roles import Role
from accounts.tokens import create_token
from categories.models import Category
from orders import transitions
from orders.models import DirectDispatchRule, OrderEvent, State
from sharing import horizon
from sharing.models import LogMark


def settled() -> None:
    last = OrderEvent.objects.aggregate(last=Max("pk"))["last"]
    LogMark.objects.create(seen_at=timezone.now() - horizon.SETTLE, last_event_id=last)


def post(client, url: str, key: str, **body):
    return client.post(url, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")


def test_a_utility_receives_signs_and_replies_through_its_own_system(client, staff, order_data, city, make_user):
    power_leaf = Category.objects.filter(full_name__contains="电力").filter(children__isnull=True).first()
    DirectDispatchRule.objects.create(category=power_leaf.parent, unit=city["power"])
    system = make_user(Role.HANDLER, city["power"], username="power-system")
    _, key = create_token(system, "供电公司工单系统")
    _, water_key = create_token(make_user(Role.HANDLER, city["d2"], username="other-unit"), "其他单位")

    order, _ = transitions.intake(staff["operator"], {**order_data, "category": power_leaf.pk, "title": "小区停电"})
    assert order.state == State.PENDING_SIGN and order.lead_unit == city["power"]
    assert order.sign_due_at and order.due_at  # the same time-limit rules as every unit
    settled()

    feed = client.get("/api/events", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert [(i["kind"], i["order"]["number"]) for i in feed["items"]] == [
        ("received", order.number),
        ("dispatched", order.number),
    ]
    assert "13800138000" not in json.dumps(feed)

    url = f"/api/orders/{order.number}"
    assert post(client, f"{url}/sign", water_key).status_code in (403, 404)  # another unit's order
    assert post(client, f"{url}/sign", key).json()["state"] == State.IN_PROGRESS
    incomplete = post(client, f"{url}/reply", key, result="resolved", content="已恢复供电。", measures="")
    assert incomplete.status_code == 422 and incomplete.json()["errors"][0]["field"] == "measures"
    done = post(client, f"{url}/reply", key, result="resolved", content="已恢复供电。", measures="更换熔断器")
    assert done.status_code == 200 and done.json()["state"] == State.PENDING_CALLBACK
    order.refresh_from_db()
    assert order.replied_at <= order.due_at and order.reply_content == "已恢复供电。"

    settled()
    after = feed["next_cursor"]
    later = client.get("/api/events", {"after": after}, HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert [i["kind"] for i in later["items"]] == ["signed", "replied"]
