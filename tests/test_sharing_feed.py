"""GET /api/events: a unit's system catches up by cursor — every event it may see, once, in order."""

import pytest
from django.db.models import Max
from django.utils import timezone

from accounts.roles import Role
from accounts.tokens import create_token
from orders import transitions as t
from orders.models import OrderEvent
from sharing import horizon
from sharing.models import LogMark


def settle() -> None:
    """Leave the event log as the periodic run would have: read, with every event in it, a settle period ago."""
    last = OrderEvent.objects.aggregate(last=Max("pk"))["last"]
    LogMark.objects.create(seen_at=timezone.now() - horizon.SETTLE, last_event_id=last)


def handled(staff, order_data, unit, handler, title: str):
    order, _ = t.intake(staff["operator"], {**order_data, "title": title})
    order = t.sign(t.dispatch(order, staff["dispatcher"], lead_unit=unit), handler)
    return t.reply(order, handler, result="resolved", content="已处理。", measures="现场处理。")


def bearer(user) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {create_token(user, '一区网格化平台')[1]}"}


def read_all(client, auth: dict[str, str], after: str = "", limit: int = 3) -> tuple[list[dict], str]:
    items, pages = [], 0
    while True:
        response = client.get("/api/events", {"after": after, "limit": limit}, **auth)
        assert response.status_code == 200, response.content
        body = response.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        after, pages = body["next_cursor"], pages + 1
        if not body["has_more"]:
            return items, after
        assert pages < 50


def test_a_unit_pages_through_its_events_once_in_order_and_only_its_own(client, staff, order_data, city, make_user):
    mine = handled(staff, order_data, city["d1"], staff["h1"], "一区的")
    theirs = handled(staff, order_data, city["d2"], staff["h2"], "二区的")
    street = handled(staff, order_data, city["s1"], staff["hs1"], "一街道的")
    settle()
    auth = bearer(staff["h1"])

    items, cursor = read_all(client, auth)

    expected = list(OrderEvent.objects.filter(order=mine).order_by("pk").values_list("pk", flat=True))
    assert [item["id"] for item in items] == expected
    assert [item["kind"] for item in items] == ["received", "dispatched", "signed", "replied"]
    assert {item["order"]["number"] for item in items} == {mine.number}
    assert theirs.number not in str(items) and "13800138000" not in str(items)

    # Nothing new: the same cursor comes back. A new event shows once the log has settled, and only once.
    again = client.get("/api/events", {"after": cursor}, **auth).json()
    assert again == {"items": [], "next_cursor": cursor, "has_more": False}
    newer, _ = t.intake(staff["operator"], order_data)
    t.dispatch(newer, staff["dispatcher"], lead_unit=city["d1"])
    assert client.get("/api/events", {"after": cursor}, **auth).json()["items"] == []  # not settled yet
    settle()
    fresh, cursor = read_all(client, auth, after=cursor)
    assert [item["action"] for item in fresh] == ["intake", "dispatch"]
    assert {item["order"]["number"] for item in fresh} == {newer.number}
    assert read_all(client, auth, after=cursor)[0] == []

    # A unit manager also sees what its sub-units lead.
    manager = make_user(Role.HANDLER, city["d1"], manager=True, username="d1-manager")
    numbers = {item["order"]["number"] for item in read_all(client, bearer(manager), limit=100)[0]}
    assert numbers == {mine.number, street.number, newer.number}


def test_the_feed_filters_by_kind_and_a_citywide_role_sees_every_order(client, staff, order_data, city):
    handled(staff, order_data, city["d1"], staff["h1"], "一区的")
    waiting, _ = t.intake(staff["operator"], order_data)  # not dispatched: no unit sees it yet
    settle()
    response = client.get("/api/events?kind=signed&kind=replied", **bearer(staff["h1"]))
    assert [item["kind"] for item in response.json()["items"]] == ["signed", "replied"]

    everything, _ = read_all(client, bearer(staff["dispatcher"]), limit=100)
    assert [item["action"] for item in everything] == ["intake", "dispatch", "sign", "reply", "intake"]
    assert everything[-1]["order"]["number"] == waiting.number


@pytest.mark.parametrize(
    "query,field",
    [
        ({"after": "abc"}, "after"),
        ({"after": "-1"}, "after"),
        ({"after": "１２"}, "after"),
        ({"after": "9" * 19}, "after"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"kind": "gossip"}, "kind"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(client, staff, query, field):
    response = client.get("/api/events", query, **bearer(staff["h1"]))
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid" and field in body["message"]
    assert body["errors"][0]["field"].split(".")[0] == field


def test_the_feed_needs_a_login_and_is_documented(client, db):
    response = client.get("/api/events")
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
    assert "/api/events" in client.get("/api/openapi.json").json()["paths"]
