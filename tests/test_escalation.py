"""提级办理: which units are higher (orders/escalation.py), the escalate transition's guards, what it changes, and
its API and page paths."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from orders import deadlines, escalation, queries
from orders import transitions as t
from orders.errors import Conflict, Forbidden, InvalidInput
from orders.models import Action, CoAssignment, OrderEvent, State, Warning, WorkOrder
from org.models import Unit, UnitKind

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
MON = datetime(2025, 9, 15, 9, 0, tzinfo=SH)


@pytest.fixture
def units(city) -> dict[str, Unit]:
    """The test city plus a department of 一区 and a section under the city's 住建局."""
    u = dict(city)
    u["d1dept"] = Unit.objects.create(code="T1-ZJJ", name="一区住建局", kind=UnitKind.DEPARTMENT, parent=city["d1"])
    u["section"] = Unit.objects.create(
        code="T-ZJJ-1", name="住建局物业科", kind=UnitKind.DEPARTMENT, parent=city["dept"]
    )
    return u


@pytest.fixture
def new_order(staff, order_data):
    def make(**overrides) -> WorkOrder:
        return t.intake(staff["operator"], {**order_data, **overrides}, at=MON)[0]

    return make


@pytest.fixture
def at_street(new_order, staff, units) -> WorkOrder:
    """Dispatched to 一街道 with 住建局 as co-unit, signed there."""
    order = t.dispatch(new_order(), staff["dispatcher"], lead_unit=units["s1"], co_units=[units["dept"]], at=MON)
    return t.sign(order, staff["hs1"], at=MON + timedelta(minutes=20))


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def codes(units: list[Unit]) -> set[str]:
    return {u.code for u in units}


def fingerprint(order: WorkOrder) -> tuple:
    order.refresh_from_db()
    co = sorted(CoAssignment.objects.filter(order=order).values_list("unit__code", flat=True))
    return (
        order.version,
        order.state,
        order.lead_unit_id,
        order.due_at,
        OrderEvent.objects.filter(order=order).count(),
        co,
    )


# ---------------------------------------------------------------- which units are higher


def test_higher_units_go_up_the_own_chain_only(units):
    assert codes(escalation.higher_units(units["c1"])) == {"T1-S1", "T1", "T1-ZJJ", "T-ZJJ", "T-ZJJ-1"}
    assert codes(escalation.higher_units(units["s1"])) == {"T1", "T1-ZJJ", "T-ZJJ", "T-ZJJ-1"}
    assert codes(escalation.higher_units(units["s2"])) == {"T2", "T-ZJJ", "T-ZJJ-1"}  # not 一区's department
    assert codes(escalation.higher_units(units["d1"])) == {"T-ZJJ", "T-ZJJ-1"}
    assert codes(escalation.higher_units(units["d1dept"])) == {"T-ZJJ", "T-ZJJ-1"}
    for city_level in ("dept", "section", "power"):
        assert escalation.higher_units(units[city_level]) == []
    # city level first, then district, then street
    assert [u.code for u in escalation.higher_units(units["c1"])][-3:] == ["T1", "T1-ZJJ", "T1-S1"]
    grouped = escalation.higher_units_by_level(units["c1"])
    assert {name: codes(found) for name, found in grouped.items()} == {
        "市级": {"T-ZJJ", "T-ZJJ-1"}, "区县级": {"T1", "T1-ZJJ"}, "街道级": {"T1-S1"},
    }  # fmt: skip


def test_levels(units):
    expected = {"dept": 1, "section": 1, "power": 1, "d1": 2, "d1dept": 2, "s1": 3, "c1": 4, "city": 0, "center": 0}
    assert {key: escalation.level(units[key]) for key in expected} == expected


def test_an_inactive_unit_is_not_offered(units):
    Unit.objects.filter(pk=units["d1dept"].pk).update(is_active=False)
    assert "T1-ZJJ" not in codes(escalation.higher_units(units["s1"]))


@pytest.mark.parametrize(
    "current,target,reason",
    [
        ("s1", "s2", "同为街道级单位"),
        ("d1", "d1dept", "同为区县级单位"),
        ("dept", "section", "同为市级单位"),
        ("d1", "s1", "不能向下提级"),
        ("d1dept", "c1", "不能提给社区/村"),
        ("s1", "d2", "不管辖一街道"),
        ("s2", "d1dept", "不管辖二街道"),
        ("s1", "power", "不能提给公共服务企业"),
        ("s1", "s1", "已是当前主办单位"),
    ],
)
def test_refusals_say_why(units, current, target, reason):
    assert reason in escalation.refusal(units[current], units[target])


# ---------------------------------------------------------------- the transition


def test_escalation_lifts_the_order_with_new_deadlines_and_keeps_the_old_unit(at_street, staff, units):
    WorkOrder.objects.filter(pk=at_street.pk).update(warning=Warning.RED, warned=Warning.ORANGE)
    at_street.refresh_from_db()
    later = MON + timedelta(days=2, hours=1)
    order = t.escalate(at_street, staff["supervisor"], lead_unit="T1", reason="涉及多个街道，需区里协调", at=later)

    order.refresh_from_db()
    assert order.state == State.PENDING_SIGN and order.lead_unit == units["d1"]
    assert order.dispatched_at == later and order.limit_started_at == later and order.signed_at is None
    assert order.sign_due_at == deadlines.sign_due(order, later) and order.due_at == deadlines.finish_due(order, later)
    assert order.due_at > at_street.due_at
    assert (order.warning, order.warned, order.warning_due) == (Warning.GREEN, Warning.GREEN, None)
    assert set(CoAssignment.objects.filter(order=order).values_list("unit__code", flat=True)) == {"T1-S1", "T-ZJJ"}

    event = order.events.last()
    assert (event.action, event.actor, event.from_state, event.to_state) == (
        Action.ESCALATE, staff["supervisor"], State.IN_PROGRESS, State.PENDING_SIGN,
    )  # fmt: skip
    assert event.data == {"from_unit": "T1-S1", "to_unit": "T1"} and event.note == "涉及多个街道，需区里协调"
    assert event.created_at == later


def test_the_street_still_sees_the_order_and_the_district_takes_it(at_street, staff):
    order = t.escalate(at_street, staff["dispatcher"], lead_unit="T1", reason="街道无执法权")
    street = staff["hs1"]
    assert t.can_see(street, order) and queries.visible_orders(street).filter(pk=order.pk).exists()
    assert as_user(street).get(f"/orders/{order.number}/").status_code == 200
    assert as_user(street).get(f"/api/orders/{order.number}").status_code == 200
    assert Action.CO_OPINION in t.allowed_actions(order, street) and Action.SIGN not in t.allowed_actions(order, street)
    with pytest.raises(Forbidden):
        t.sign(order, street)
    order = t.sign(order, staff["h1"])  # 一区 is the lead unit now
    assert order.state == State.IN_PROGRESS
    assert queries.inbox(staff["h1"], "in_progress").filter(pk=order.pk).exists()
    assert not queries.inbox(street, "in_progress").filter(pk=order.pk).exists()


def test_escalating_to_a_co_unit_makes_it_the_lead_only(at_street, staff):
    order = t.escalate(at_street, staff["dispatcher"], lead_unit="T-ZJJ", reason="需市住建局统筹")
    assert order.lead_unit.code == "T-ZJJ"
    assert list(CoAssignment.objects.filter(order=order).values_list("unit__code", flat=True)) == ["T1-S1"]
    # a city department's order has nowhere higher to go
    with pytest.raises(Conflict, match="市级"):
        t.escalate(order, staff["dispatcher"], lead_unit="T-ZJJ-1", reason="再提级")


def test_twice_up_the_chain(new_order, staff, units):
    order = t.dispatch(new_order(), staff["dispatcher"], lead_unit=units["c1"])
    order = t.escalate(order, staff["dispatcher"], lead_unit="T1-S1", reason="社区无力解决")
    order = t.escalate(order, staff["supervisor"], lead_unit="T1-ZJJ", reason="需区住建局处理")
    assert order.lead_unit.code == "T1-ZJJ"
    assert set(order.co_assignments.values_list("unit__code", flat=True)) == {"T1-S1-C1", "T1-S1"}
    steps = [(e.data["from_unit"], e.data["to_unit"]) for e in order.events.filter(action=Action.ESCALATE)]
    assert steps == [("T1-S1-C1", "T1-S1"), ("T1-S1", "T1-ZJJ")]


@pytest.mark.parametrize("role", ["operator", "callback", "leader", "admin", "hs1", "h1", "hdept"])
def test_only_dispatchers_and_supervisors_escalate(at_street, staff, role):
    before = fingerprint(at_street)
    with pytest.raises(Forbidden):
        t.escalate(at_street, staff[role], lead_unit="T1", reason="提级")
    assert fingerprint(at_street) == before
    assert Action.ESCALATE not in t.allowed_actions(at_street, staff[role])
    for allowed in ("dispatcher", "supervisor"):
        assert Action.ESCALATE in t.allowed_actions(at_street, staff[allowed])


def test_states_city_level_leads_and_pending_requests_are_refused(new_order, staff, units):
    waiting = new_order()
    with pytest.raises(Conflict, match="待派发"):
        t.escalate(waiting, staff["dispatcher"], lead_unit="T1", reason="提级")

    replied = t.sign(t.dispatch(new_order(), staff["dispatcher"], lead_unit=units["s1"]), staff["hs1"])
    replied = t.reply(replied, staff["hs1"], result="resolved", content="已处理。", measures="已修复。")
    with pytest.raises(Conflict, match="待回访"):
        t.escalate(replied, staff["dispatcher"], lead_unit="T1", reason="提级")

    at_city = t.dispatch(new_order(), staff["dispatcher"], lead_unit=units["dept"])
    with pytest.raises(Conflict, match="已是市级单位"):
        t.escalate(at_city, staff["dispatcher"], lead_unit="T-ZJJ-1", reason="提级")
    assert Action.ESCALATE not in t.allowed_actions(at_city, staff["dispatcher"])

    asked = t.request_return(t.dispatch(new_order(), staff["dispatcher"], lead_unit=units["s1"]), staff["hs1"],
                             reason="不属于本街道")  # fmt: skip
    with pytest.raises(Conflict, match="待审核的退单申请"):
        t.escalate(asked, staff["dispatcher"], lead_unit="T1", reason="提级")


@pytest.mark.parametrize(
    "lead_unit,reason,field,message",
    [
        ("", "需协调", "lead_unit", "不存在"),
        ("NOPE", "需协调", "lead_unit", "不存在"),
        ("T2-S1", "需协调", "lead_unit", "同为街道级"),
        ("T1-S1-C1", "需协调", "lead_unit", "社区/村"),
        ("T2", "需协调", "lead_unit", "不管辖"),
        ("T", "需协调", "lead_unit", "不能派给市本身"),
        ("T-12345", "需协调", "lead_unit", "热线中心"),
        ("T-POWER", "需协调", "lead_unit", "公共服务企业"),
        ("T1", "   ", "reason", "请填写提级理由"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(at_street, staff, lead_unit, reason, field, message):
    before = fingerprint(at_street)
    with pytest.raises(InvalidInput) as exc:
        t.escalate(at_street, staff["dispatcher"], lead_unit=lead_unit, reason=reason)
    assert set(exc.value.errors) == {field} and message in exc.value.errors[field]
    assert fingerprint(at_street) == before


def test_both_bad_fields_are_named_at_once(at_street, staff):
    with pytest.raises(InvalidInput) as exc:
        t.escalate(at_street, staff["dispatcher"], lead_unit="T2", reason="")
    assert set(exc.value.errors) == {"lead_unit", "reason"}


# ---------------------------------------------------------------- API


def api(user, order: WorkOrder, body: dict):
    return as_user(user).post(f"/api/orders/{order.number}/escalate", json.dumps(body), content_type="application/json")


def test_api_escalates_and_refuses_with_403_409_422(at_street, staff, new_order):
    assert api(staff["hs1"], at_street, {"lead_unit": "T1", "reason": "提级"}).status_code == 403
    assert api(staff["h2"], at_street, {"lead_unit": "T1", "reason": "提级"}).status_code == 404  # not theirs
    response = api(staff["dispatcher"], at_street, {"lead_unit": "T2", "reason": ""})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"lead_unit", "reason"}
    assert "不管辖" in next(e["message"] for e in response.json()["errors"] if e["field"] == "lead_unit")
    assert api(staff["dispatcher"], at_street, {"reason": "提级"}).status_code == 422  # lead_unit missing
    stale = api(staff["dispatcher"], at_street, {"lead_unit": "T1", "reason": "提级", "version": 0})
    assert stale.status_code == 409

    response = api(staff["supervisor"], at_street, {"lead_unit": "T1", "reason": "需区里协调", "version": 2})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == State.PENDING_SIGN and body["lead_unit"] == "T1"
    assert {c["unit"] for c in body["co_units"]} == {"T1-S1", "T-ZJJ"}
    assert body["events"][-1]["action"] == "escalate" and body["events"][-1]["data"]["from_unit"] == "T1-S1"

    waiting = new_order()
    assert api(staff["dispatcher"], waiting, {"lead_unit": "T1", "reason": "提级"}).status_code == 409


def test_openapi_documents_the_endpoint(client, db):
    schema = client.get("/api/openapi.json").json()
    operation = schema["paths"]["/api/orders/{number}/escalate"]["post"]
    assert {"200", "403", "404", "409", "422"} <= set(operation["responses"])


# ---------------------------------------------------------------- page


def test_page_offers_only_higher_units_and_escalates(at_street, staff):
    dispatcher = as_user(staff["dispatcher"])
    page = dispatcher.get(f"/orders/{at_street.number}/").content.decode()
    assert 'id="action-escalate"' in page
    form = page.split('id="action-escalate"')[1].split("</form>")[0]
    for code in ("T1", "T1-ZJJ", "T-ZJJ", "T-ZJJ-1"):
        assert f'value="{code}"' in form
    for code in ("T1-S1", "T2", "T2-S1", "T1-S1-C1", "T-POWER", "T-12345"):
        assert f'value="{code}"' not in form
    assert 'id="action-escalate"' not in as_user(staff["hs1"]).get(f"/orders/{at_street.number}/").content.decode()

    data = {"escalate-version": at_street.version, "escalate-lead_unit": "T2", "escalate-reason": "需协调"}
    refused = dispatcher.post(f"/orders/{at_street.number}/act/escalate/", data)
    assert refused.status_code == 422 and "不管辖一街道" in refused.content.decode()
    assert WorkOrder.objects.get(pk=at_street.pk).lead_unit.code == "T1-S1"

    data["escalate-lead_unit"] = "T1-ZJJ"
    response = as_user(staff["supervisor"]).post(f"/orders/{at_street.number}/act/escalate/", data)
    assert response.status_code == 302
    at_street.refresh_from_db()
    assert at_street.lead_unit.code == "T1-ZJJ" and at_street.state == State.PENDING_SIGN
    page = as_user(staff["hs1"]).get(f"/orders/{at_street.number}/").content.decode()
    assert "提级办理" in page and "需协调" in page  # the street, now a co-unit, reads why
