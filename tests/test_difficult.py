"""疑难工单: each flagging rule, flagging by hand, the joint review, tracking to the end, list and export."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders import transitions as t
from orders.errors import Conflict, Forbidden, InvalidInput
from orders.models import State, WorkOrder
from supervision import difficult
from supervision.models import CaseStatus, Cause, DifficultCase, DifficultyRule, RuleKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_order(staff, order_data):
    def make(**overrides) -> WorkOrder:
        return t.intake(staff["operator"], {**order_data, **overrides})[0]

    return make


def bounce(order, staff, city) -> WorkOrder:
    order = t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"])
    order = t.request_return(order, staff["h1"], reason="不属于本单位")
    return t.decide_return(order, staff["dispatcher"], approve=True)


def test_two_returns_flag_the_order_once(new_order, staff, city):
    order = bounce(new_order(), staff, city)
    assert difficult.flag_by_rules() == 0
    order = bounce(order, staff, city)
    assert difficult.flag_by_rules() == 1
    assert difficult.flag_by_rules() == 0
    case = DifficultCase.objects.get(order=order)
    assert (case.rule, case.cause, case.flagged_by) == (RuleKind.RETURNS, Cause.UNCLEAR_DUTY, None)
    assert "退单次数达到 2" in case.reason


def test_units_overdue_and_callers_rules(new_order, staff, city):
    many_units = t.dispatch(new_order(title="多部门"), staff["dispatcher"], lead_unit=city["d1"],
                            co_units=[city["dept"], city["power"]])  # fmt: skip
    past = timezone.now() - timedelta(days=30)
    overdue = t.dispatch(t.intake(staff["operator"], {**_data(new_order), "title": "拖了很久"}, at=past)[0],
                         staff["dispatcher"], lead_unit=city["d2"], at=past)  # fmt: skip
    parent = new_order(title="多人反映")
    for _ in range(4):
        t.merge(new_order(title="重复反映"), staff["dispatcher"], parent=parent)
    quiet = new_order(title="普通")
    assert difficult.flag_by_rules() == 3
    rules = dict(DifficultCase.objects.values_list("order__title", "rule"))
    assert rules == {"多部门": RuleKind.UNITS, "拖了很久": RuleKind.OVERDUE_DAYS, "多人反映": RuleKind.CALLERS}
    assert not DifficultCase.objects.filter(order=quiet).exists()
    assert many_units.pk and overdue.pk


def _data(new_order) -> dict:
    order = new_order(title="模板")
    return {
        "caller_phone": order.caller_phone, "request_type": order.request_type.code, "category": order.category_id,
        "content": order.content,
    }  # fmt: skip


def test_rules_are_editable(new_order, staff, city):
    DifficultyRule.objects.filter(kind=RuleKind.RETURNS).update(threshold=1)
    DifficultyRule.objects.filter(kind=RuleKind.UNITS).update(is_active=False)
    bounce(new_order(), staff, city)
    t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["d1"], co_units=[city["dept"], city["power"]])
    assert difficult.flag_by_rules() == 1


def test_by_hand_review_and_tracking_to_the_end(new_order, staff, city):
    order = t.sign(t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["d1"]), staff["h1"])
    with pytest.raises(Forbidden):
        difficult.flag(staff["dispatcher"], order, Cause.LEGACY, "历史遗留问题")
    with pytest.raises(InvalidInput) as exc:
        difficult.flag(staff["supervisor"], order, "nope", "")
    assert set(exc.value.errors) == {"cause", "reason"}
    case = difficult.flag(staff["supervisor"], order, Cause.LEGACY, "小区历史遗留的产权问题")
    with pytest.raises(Conflict):
        difficult.flag(staff["supervisor"], order, Cause.LEGACY, "再列一次")

    deadline = timezone.now() + timedelta(days=10)
    meeting = difficult.review(
        staff["supervisor"], case, participants="一区、住建局、供电公司", conclusion="住建局牵头，供电公司配合",
        lead_unit="T-ZJJ", co_units=["T-POWER", "T1"], new_deadline=deadline,
    )  # fmt: skip
    order.refresh_from_db()
    assert (order.state, order.lead_unit, order.due_at) == (State.PENDING_SIGN, city["dept"], deadline)
    assert {u.code for u in meeting.co_units.all()} == {"T-POWER", "T1"}
    assert order.events.last().get_action_display() == "研判改派"

    order = t.sign(order, staff["hdept"])
    order = t.reply(order, staff["hdept"], result="resolved", content="已解决。", measures="协调办理产权手续。")
    t.callback(order, staff["callback"], contact_result="reached", satisfaction="satisfied", resolved=True)
    assert difficult.close_finished() == 1
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    with pytest.raises(Conflict):
        difficult.review(staff["supervisor"], case, participants="x", conclusion="y", lead_unit="T1", co_units=[],
                         new_deadline=deadline)  # fmt: skip


def test_list_export_and_pages(new_order, staff, city, client):
    order = t.dispatch(new_order(title="产权纠纷"), staff["dispatcher"], lead_unit=city["d1"])
    client.force_login(staff["supervisor"])
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert 'id="action-flag"' in page
    response = client.post(
        f"/supervision/difficult/flag/{order.number}/", {"cause": "interests", "reason": "多方利益纠纷"}
    )
    assert response.status_code == 302 and response.url == f"/supervision/difficult/{order.number}/"
    listing = client.get("/supervision/difficult/", {"cause": "interests"}).content.decode()
    assert order.number in listing and "多方利益" in listing
    export = client.get("/supervision/difficult/", {"export": "csv"})
    text = export.content.decode("utf-8-sig")
    assert export["Content-Type"].startswith("text/csv") and "多方利益纠纷" in text and order.number in text
    assert client.get(f"/supervision/difficult/{order.number}/").status_code == 200
    assert "屡办不成" in client.get("/supervision/stuck/").content.decode()
    client.force_login(staff["h1"])
    assert client.post(f"/supervision/difficult/flag/{order.number}/", {"cause": "other"}).status_code == 403


def test_stuck_list(new_order, staff, city, client):
    order = t.sign(t.dispatch(new_order(title="反复重办"), staff["dispatcher"], lead_unit=city["d1"]), staff["h1"])
    for _ in range(2):
        order = t.reply(order, staff["h1"], result="resolved", content="已处理。", measures="已处理。")
        order = t.callback(
            order, staff["callback"], contact_result="reached", satisfaction="unsatisfied", resolved=False
        )
        order = t.reopen(order, staff["callback"], reason="仍未解决")
    fresh = t.dispatch(new_order(title="刚派的"), staff["dispatcher"], lead_unit=city["d1"])
    client.force_login(staff["supervisor"])
    html = client.get("/supervision/stuck/").content.decode()
    assert order.number in html and fresh.number not in html
    assert "重办 2 次：仍未解决；仍未解决" in html
    assert f'href="/orders/{order.number}/#action-flag">列为疑难' in html
    difficult.flag(staff["supervisor"], order, Cause.OTHER, "多次重办")  # once listed, the row leads to the case
    html = client.get("/supervision/stuck/").content.decode()
    assert f'href="/supervision/difficult/{order.number}/">已列为疑难' in html and "#action-flag" not in html
