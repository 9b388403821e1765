"""申请不予受理: a unit asks not to handle an order on a coded ground with its basis; the dispatcher approves (the
order is closed as 不予受理 and counted) or rejects (it stays with the unit). Guards, bad input, API and pages."""

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from analytics import indicators, rollup
from orders import queries
from orders import transitions as t
from orders.errors import Conflict, Forbidden, InvalidInput
from orders.models import (
    Action,
    Closure,
    NonAcceptanceGround,
    NonAcceptanceRequest,
    OrderEvent,
    RequestStatus,
    State,
    WorkOrder,
)

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
MON = datetime(2025, 9, 15, 9, 0, tzinfo=SH)
BASIS = "诉求人已就同一事项向一区人民法院起诉，案号（2025）湘0102民初123号。"


@pytest.fixture
def new_order(staff, order_data):
    def make(at: datetime = MON, **overrides) -> WorkOrder:
        return t.intake(staff["operator"], {**order_data, **overrides}, at=at)[0]

    return make


@pytest.fixture
def handling(new_order, staff, city) -> WorkOrder:
    """Dispatched to 一区 with 住建局 as co-unit and signed."""
    order = t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["d1"], co_units=[city["dept"]], at=MON)
    return t.sign(order, staff["h1"], at=MON + timedelta(minutes=10))


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def written(order: WorkOrder) -> tuple:
    order.refresh_from_db()
    return (
        order.version,
        order.state,
        OrderEvent.objects.filter(order=order).count(),
        NonAcceptanceRequest.objects.count(),
    )


def ask(order, user, at=None, **changes):
    return t.request_non_acceptance(order, user, **{"ground": "litigation", "basis": BASIS, **changes}, at=at)


# ---------------------------------------------------------------- request and decision


def test_grounds_are_a_coded_list():
    assert dict(NonAcceptanceGround.choices) == {
        "litigation": "已进入诉讼、仲裁、行政复议等法定程序",
        "not_government": "不属于政府职责范围",
        "duplicate": "重复诉求",
        "insufficient": "诉求信息不全无法办理",
    }


def test_request_then_approval_closes_the_order_as_not_accepted_and_counts_it(handling, staff):
    asked_at, decided_at = MON + timedelta(hours=1), MON + timedelta(days=1, hours=2)
    order = ask(handling, staff["h1"], at=asked_at)
    request = NonAcceptanceRequest.objects.get()
    assert (request.order, request.unit.code, request.requested_by, request.ground, request.basis) == (
        order, "T1", staff["h1"], "litigation", BASIS,
    )  # fmt: skip
    assert request.status == RequestStatus.PENDING and order.state == State.IN_PROGRESS
    event = order.events.last()
    assert event.action == Action.NON_ACCEPTANCE_REQUEST and event.data == {"ground": "litigation", "unit": "T1"}
    assert event.note.startswith("已进入诉讼、仲裁、行政复议等法定程序：")

    order = t.decide_non_acceptance(order, staff["dispatcher"], approve=True, note="属实，依法不予受理", at=decided_at)
    order.refresh_from_db()
    assert (order.state, order.closure, order.archived_at, order.warning) == (
        State.ARCHIVED, Closure.NOT_ACCEPTED, decided_at, None,
    )  # fmt: skip
    assert order.lead_unit.code == "T1" and order.replied_at is None
    request.refresh_from_db()
    assert (request.status, request.decided_by, request.decided_at, request.decision_note) == (
        RequestStatus.APPROVED, staff["dispatcher"], decided_at, "属实，依法不予受理",
    )  # fmt: skip
    event = order.events.last()
    assert (event.action, event.from_state, event.to_state) == (
        Action.NON_ACCEPTANCE_APPROVE, State.IN_PROGRESS, State.ARCHIVED,
    )  # fmt: skip
    assert t.allowed_actions(order, staff["h1"]) == [Action.LINK, Action.ATTACH]

    rollup.refresh()
    day = decided_at.date()
    assert indicators.totals(day, day + timedelta(days=1)).not_accepted == 1
    assert indicators.totals(asked_at.date(), day).not_accepted == 0  # dated by the decision, not the request
    assert list(rollup.orders_behind("not_accepted", day, day + timedelta(days=1))) == [order]
    assert indicators.totals(date(2025, 9, 1), date(2025, 10, 1)).finished == 0  # not counted as finished


def test_rejection_needs_a_note_and_leaves_the_order_with_the_unit(handling, staff):
    order = ask(handling, staff["h1"], ground="not_government", basis="属于物业服务合同纠纷，应由双方协商或诉讼解决。")
    before = written(order)
    with pytest.raises(InvalidInput) as exc:
        t.decide_non_acceptance(order, staff["dispatcher"], approve=False, note="  ")
    assert set(exc.value.errors) == {"note"} and written(order) == before
    assert NonAcceptanceRequest.objects.get().status == RequestStatus.PENDING

    order = t.decide_non_acceptance(order, staff["dispatcher"], approve=False, note="小区公共设施属于住建部门监管")
    order.refresh_from_db()
    assert (order.state, order.closure, order.lead_unit.code, order.due_at) == (
        State.IN_PROGRESS, "", "T1", handling.due_at,
    )  # fmt: skip
    request = NonAcceptanceRequest.objects.get()
    assert request.status == RequestStatus.REJECTED and request.decision_note == "小区公共设施属于住建部门监管"
    assert order.events.last().action == Action.NON_ACCEPTANCE_REJECT
    rollup.refresh()
    assert indicators.totals(date(2000, 1, 1), date(2100, 1, 1)).not_accepted == 0
    # the unit goes on handling it, and may ask again later
    assert Action.REPLY in t.allowed_actions(order, staff["h1"])
    ask(order, staff["h1"], ground="insufficient", basis="诉求人电话空号，地址不详。")
    assert NonAcceptanceRequest.objects.filter(status=RequestStatus.PENDING).count() == 1


def test_a_request_before_signing(new_order, staff, city):
    order = t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["d1"])
    order = ask(order, staff["h1"], ground="insufficient", basis="无地址、无联系方式，无法核实。")
    order = t.decide_non_acceptance(order, staff["dispatcher"], approve=True)
    assert order.state == State.ARCHIVED and order.closure == Closure.NOT_ACCEPTED
    assert order.events.last().from_state == State.PENDING_SIGN


def test_duplicate_names_the_earlier_order_and_approval_links_them(new_order, staff, city):
    earlier = new_order(at=MON - timedelta(days=3))
    later_one = new_order(at=MON + timedelta(days=1))
    order = t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["d1"])
    for number, message in (
        ("", "在先的工单编号"), ("19990101000009", "不存在"), (order.number, "不能与本工单重复"),
        (later_one.number, "受理晚于本工单"),
    ):  # fmt: skip
        with pytest.raises(InvalidInput) as exc:
            ask(order, staff["h1"], ground="duplicate", basis="与此前工单反映同一问题", duplicate_of=number)
        assert set(exc.value.errors) == {"duplicate_of"} and message in exc.value.errors["duplicate_of"]
    assert NonAcceptanceRequest.objects.count() == 0

    order = ask(order, staff["h1"], ground="duplicate", basis="与此前工单反映同一问题", duplicate_of=earlier.number)
    assert NonAcceptanceRequest.objects.get().duplicate_of == earlier
    assert order.events.last().data["duplicate_of"] == earlier.number
    order = t.decide_non_acceptance(order, staff["dispatcher"], approve=True)
    assert earlier in order.related.all() and order in earlier.related.all()
    assert order.events.last().data == {"ground": "duplicate", "unit": "T1", "duplicate_of": earlier.number}


def test_a_duplicate_number_is_ignored_for_other_grounds(handling, staff, new_order):
    ask(handling, staff["h1"], duplicate_of=new_order(at=MON - timedelta(days=1)).number)
    assert NonAcceptanceRequest.objects.get().duplicate_of is None


def test_a_not_accepted_order_cannot_be_a_merge_parent(handling, staff, new_order):
    closed = t.decide_non_acceptance(ask(handling, staff["h1"]), staff["dispatcher"], approve=True)
    with pytest.raises(InvalidInput, match="不予受理"):
        t.merge(new_order(), staff["operator"], parent=closed)


# ---------------------------------------------------------------- guards


@pytest.mark.parametrize("role", ["operator", "dispatcher", "callback", "supervisor", "leader", "admin"])
def test_only_a_handler_requests(handling, staff, role):
    before = written(handling)
    with pytest.raises(Forbidden):
        ask(handling, staff[role])
    assert written(handling) == before


@pytest.mark.parametrize("handler", ["h2", "hdept", "hs1"])
def test_only_the_lead_unit_requests(handling, staff, handler):
    """Another district, the co-unit, and a street below 一区 (its handler does not manage 一区)."""
    with pytest.raises(Forbidden, match="主办单位"):
        ask(handling, staff[handler])
    assert Action.NON_ACCEPTANCE_REQUEST not in t.allowed_actions(handling, staff[handler])
    assert Action.NON_ACCEPTANCE_REQUEST in t.allowed_actions(handling, staff["h1"])


def test_states(new_order, staff, city):
    with pytest.raises(Conflict, match="待派发"):
        ask(new_order(), staff["h1"])
    replied = t.sign(t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["d1"]), staff["h1"])
    replied = t.reply(replied, staff["h1"], result="resolved", content="已处理。", measures="已修复。")
    with pytest.raises(Conflict, match="待回访"):
        ask(replied, staff["h1"])


def test_one_pending_request_at_a_time_and_none_beside_a_return_or_extension(handling, staff, new_order, city):
    order = ask(handling, staff["h1"])
    with pytest.raises(Conflict, match="待审核的不予受理申请"):
        ask(order, staff["h1"], ground="insufficient", basis="信息不全")
    with pytest.raises(Conflict, match="待审核的不予受理申请"):
        t.request_return(order, staff["h1"], reason="不属于本单位")
    with pytest.raises(Conflict, match="待审核的不予受理申请"):
        t.request_extension(order, staff["h1"], new_due_at=order.due_at + timedelta(days=3), reason="需协调")
    assert NonAcceptanceRequest.objects.count() == 1 and order.return_requests.count() == 0

    returning = t.request_return(
        t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["d1"]), staff["h1"], reason="不属于本单位"
    )
    with pytest.raises(Conflict, match="待审核的退单申请"):
        ask(returning, staff["h1"])


@pytest.mark.parametrize("role", ["h1", "supervisor", "operator", "callback", "leader", "admin"])
def test_only_the_dispatcher_decides(handling, staff, role):
    order = ask(handling, staff["h1"])
    before = written(order)
    with pytest.raises(Forbidden):
        t.decide_non_acceptance(order, staff[role], approve=True)
    assert written(order) == before
    assert Action.NON_ACCEPTANCE_APPROVE in t.allowed_actions(order, staff["dispatcher"])


def test_nothing_to_decide(handling, staff):
    with pytest.raises(Conflict, match="没有待审核的不予受理申请"):
        t.decide_non_acceptance(handling, staff["dispatcher"], approve=True)
    assert Action.NON_ACCEPTANCE_APPROVE not in t.allowed_actions(handling, staff["dispatcher"])


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "changes,fields",
    [
        ({"ground": "irregular"}, {"ground"}),
        ({"ground": ""}, {"ground"}),
        ({"ground": None}, {"ground"}),
        ({"basis": "   "}, {"basis"}),
        ({"basis": "字" * 5001}, {"basis"}),
        ({"ground": "other", "basis": ""}, {"ground", "basis"}),
        ({"ground": "duplicate"}, {"duplicate_of"}),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(handling, staff, changes, fields):
    before = written(handling)
    with pytest.raises(InvalidInput) as exc:
        ask(handling, staff["h1"], **changes)
    assert set(exc.value.errors) == fields
    assert written(handling) == before


# ---------------------------------------------------------------- API


def post(user, order: WorkOrder, path: str, body: dict):
    return as_user(user).post(f"/api/orders/{order.number}/{path}", json.dumps(body), content_type="application/json")


def error_fields(response) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def test_api_request_and_decisions(handling, staff):
    for body, fields in (
        ({"ground": "irregular", "basis": BASIS}, {"ground"}),
        ({"ground": "litigation", "basis": " "}, {"basis"}),
        ({"basis": BASIS}, {"ground"}),
        ({"ground": "duplicate", "basis": BASIS, "duplicate_of": "19990101000001"}, {"duplicate_of"}),
    ):
        response = post(staff["h1"], handling, "non-acceptance-request", body)
        assert response.status_code == 422 and error_fields(response) == fields, body
    assert NonAcceptanceRequest.objects.count() == 0 and written(handling)[0] == 2

    body = {"ground": "litigation", "basis": BASIS}
    assert post(staff["h2"], handling, "non-acceptance-request", body).status_code == 404
    assert post(staff["dispatcher"], handling, "non-acceptance-request", body).status_code == 403
    response = post(staff["h1"], handling, "non-acceptance-request", body)
    assert response.status_code == 200 and response.json()["events"][-1]["action"] == "non_accept_request"
    assert post(staff["h1"], handling, "non-acceptance-request", body).status_code == 409

    decision = "non-acceptance-decision"
    assert post(staff["h1"], handling, decision, {"approve": True}).status_code == 403
    response = post(staff["dispatcher"], handling, decision, {"approve": False})
    assert response.status_code == 422 and error_fields(response) == {"note"}
    response = post(staff["dispatcher"], handling, decision, {"approve": False, "note": "属于本单位职责"})
    assert response.status_code == 200 and response.json()["state"] == State.IN_PROGRESS
    assert post(staff["dispatcher"], handling, decision, {"approve": True}).status_code == 409  # nothing pending

    assert (
        post(staff["h1"], handling, "non-acceptance-request", {**body, "ground": "not_government"}).status_code == 200
    )
    response = post(staff["dispatcher"], handling, decision, {"approve": True, "note": "同意"})
    assert response.status_code == 200
    answer = response.json()
    assert (answer["state"], answer["closure"], answer["closure_label"]) == ("archived", "not_accepted", "不予受理")
    assert answer["archived_at"] is not None and answer["warning"] is None


def test_openapi_documents_the_grounds(client, db):
    schema = client.get("/api/openapi.json").json()
    assert "/api/orders/{number}/non-acceptance-request" in schema["paths"]
    assert "/api/orders/{number}/non-acceptance-decision" in schema["paths"]
    assert schema["components"]["schemas"]["NonAcceptanceGround"]["enum"] == list(NonAcceptanceGround.values)


# ---------------------------------------------------------------- pages


def act(user, order: WorkOrder, action: str, **fields):
    data = {f"{action}-{k}": v for k, v in {"version": order.version, **fields}.items()}
    return as_user(user).post(f"/orders/{order.number}/act/{action}/", data)


def test_pages_request_queue_and_approval(handling, staff):
    page = as_user(staff["h1"]).get(f"/orders/{handling.number}/").content.decode()
    form = page.split('id="action-non_accept_request"')[1].split("</form>")[0]
    assert all(f'value="{code}"' in form for code in NonAcceptanceGround.values)

    refused = act(staff["h1"], handling, "non_accept_request", ground="irregular", basis="")
    assert refused.status_code == 422
    assert "不予受理理由无效" in refused.content.decode() and "请填写不予受理依据" in refused.content.decode()
    assert NonAcceptanceRequest.objects.count() == 0

    assert act(staff["h1"], handling, "non_accept_request", ground="litigation", basis=BASIS).status_code == 302
    handling.refresh_from_db()
    queue = as_user(staff["dispatcher"]).get("/orders/dispatch/").content.decode()
    assert handling.number in queue and "不予受理 · 已进入诉讼" in queue and "案号" in queue
    assert handling in queries.pending_decisions()

    page = as_user(staff["dispatcher"]).get(f"/orders/{handling.number}/").content.decode()
    assert 'id="non-acceptance-request"' in page and 'id="action-non_accept_approve"' in page

    assert act(staff["dispatcher"], handling, "non_accept_approve", decision="reject", note="").status_code == 422
    assert act(staff["dispatcher"], handling, "non_accept_approve", decision="approve").status_code == 302
    handling.refresh_from_db()
    assert handling.closure == Closure.NOT_ACCEPTED and handling not in queries.pending_decisions()
    page = as_user(staff["h1"]).get(f"/orders/{handling.number}/").content.decode()
    assert 'id="non-acceptance"' in page and "不予受理" in page and "案号" in page


def test_page_rejection_keeps_the_order(handling, staff):
    ask(handling, staff["h1"])
    handling.refresh_from_db()
    response = act(staff["dispatcher"], handling, "non_accept_approve", decision="reject", note="属于本单位职责")
    assert response.status_code == 302
    handling.refresh_from_db()
    assert handling.state == State.IN_PROGRESS and handling.closure == ""
    assert "没有待审核的申请" in as_user(staff["dispatcher"]).get("/orders/dispatch/").content.decode()
