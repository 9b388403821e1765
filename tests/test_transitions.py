"""Every transition of the life cycle, allowed and refused (orders/transitions.py)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from categories.models import Category
from orders import transitions as t
from orders.errors import Conflict, Forbidden, InvalidInput
from orders.models import Action, Closure, DirectDispatchRule, OrderEvent, State, WorkOrder

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def new_order(staff, order_data):
    def make(**overrides) -> WorkOrder:
        order, created = t.intake(staff["operator"], {**order_data, **overrides})
        assert created
        return order

    return make


@pytest.fixture
def signed(new_order, staff, city):
    order = t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["d1"], co_units=[city["dept"]])
    return t.sign(order, staff["h1"])


@pytest.fixture
def replied(signed, staff):
    return t.reply(signed, staff["h1"], result="resolved", content="已修复路灯。", measures="更换灯泡并检查线路。")


def actions(order) -> list[str]:
    return list(order.events.values_list("action", flat=True))


def test_intake_numbers_the_order_and_writes_the_first_event(new_order, staff):
    order = new_order()
    assert order.state == State.PENDING_DISPATCH
    assert order.number == f"{timezone.localdate():%Y%m%d}000001"
    assert new_order().number.endswith("000002")
    event = order.events.get()
    assert (event.action, event.actor, event.to_state) == (Action.INTAKE, staff["operator"], State.PENDING_DISPATCH)


@pytest.mark.parametrize(
    "field,value",
    [
        ("caller_phone", "12345"),
        ("caller_phone", "0731888"),
        ("content", "   "),
        ("title", ""),
        ("category", 999999),
        ("request_type", "nope"),
        ("channel", "fax"),
        ("priority", "asap"),
        ("latitude", "95"),
    ],
)
def test_bad_intake_input_is_rejected_by_field_and_creates_nothing(new_order, field, value):
    with pytest.raises(InvalidInput) as exc:
        new_order(**{field: value})
    assert field in exc.value.errors
    assert WorkOrder.objects.count() == 0 and OrderEvent.objects.count() == 0


@pytest.mark.parametrize("phone", ["13800138000", "0731-88888888", "073188888888", "010-12345678-801", "400-800-1234"])
def test_accepted_phone_formats(new_order, phone):
    assert new_order(caller_phone=phone).caller_phone == phone


def test_category_must_be_a_leaf(new_order):
    top = Category.objects.get(level=1, name="城乡建设")
    with pytest.raises(InvalidInput, match="三级"):
        new_order(category=top.pk)


def test_enterprise_request_needs_name_and_credit_code(new_order):
    with pytest.raises(InvalidInput) as exc:
        new_order(is_enterprise=True, enterprise_credit_code="123")
    assert set(exc.value.errors) == {"enterprise_name", "enterprise_credit_code"}
    with pytest.raises(InvalidInput, match="校验位"):
        new_order(is_enterprise=True, enterprise_name="某某科技有限公司", enterprise_credit_code="91430100MA4L8XYM39")
    order = new_order(
        is_enterprise=True, enterprise_name="某某科技有限公司", enterprise_credit_code="91430100MA4L8XYM38"
    )
    assert order.is_enterprise


def test_idempotent_intake_returns_the_first_order(staff, order_data):
    first, created = t.intake(staff["operator"], order_data, idempotency_key="abc-1")
    again, created_again = t.intake(staff["operator"], {**order_data, "title": "重试"}, idempotency_key="abc-1")
    assert created and not created_again and again.pk == first.pk
    assert WorkOrder.objects.count() == 1


def test_only_front_desk_roles_take_requests(staff, order_data):
    with pytest.raises(Forbidden):
        t.intake(staff["h1"], order_data)
    with pytest.raises(Forbidden):
        t.intake(staff["leader"], order_data)


@pytest.mark.parametrize(
    "fn,kwargs,closure",
    [
        (t.answer_directly, {"answer": "按政策可以办理。"}, Closure.DIRECT),
        (t.transfer, {"line": "110"}, Closure.TRANSFERRED),
        (t.invalidate, {"reason": "无声电话"}, Closure.INVALID),
        (t.withdraw, {"reason": "市民来电撤回"}, Closure.WITHDRAWN),
    ],
)
def test_closing_at_the_front_desk(new_order, staff, fn, kwargs, closure):
    order = fn(new_order(), staff["operator"], **kwargs)
    assert (order.state, order.closure) == (State.ARCHIVED, closure)
    assert order.archived_at is not None
    with pytest.raises(Conflict):
        fn(order, staff["operator"], **kwargs)  # already closed


def test_front_desk_closings_need_their_reason(new_order, staff):
    order = new_order()
    with pytest.raises(InvalidInput, match="撤回原因"):
        t.withdraw(order, staff["operator"], reason="")
    with pytest.raises(InvalidInput):
        t.transfer(order, staff["operator"], line="999")
    with pytest.raises(Forbidden):
        t.invalidate(order, staff["h1"], reason="x")
    assert WorkOrder.objects.get(pk=order.pk).state == State.PENDING_DISPATCH


def test_withdraw_only_before_dispatch(new_order, staff, city):
    order = t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["d1"])
    with pytest.raises(Conflict):
        t.withdraw(order, staff["operator"], reason="不需要了")


def test_dispatch_sets_deadlines_and_co_units(new_order, staff, city):
    order = t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["d1"], co_units=[city["dept"], city["d1"]])
    assert order.state == State.PENDING_SIGN and order.lead_unit == city["d1"]
    assert [a.unit for a in order.co_assignments.all()] == [city["dept"]]  # the lead is not its own co-unit
    assert order.sign_due_at > order.dispatched_at and order.due_at > order.sign_due_at


def test_dispatch_is_for_dispatchers_and_real_units(new_order, staff, city):
    order = new_order()
    with pytest.raises(Forbidden):
        t.dispatch(order, staff["operator"], lead_unit=city["d1"])
    with pytest.raises(InvalidInput) as exc:
        t.dispatch(order, staff["dispatcher"], lead_unit=city["center"])
    assert "lead_unit" in exc.value.errors
    with pytest.raises(InvalidInput):
        t.dispatch(order, staff["dispatcher"], lead_unit="NOPE")


def test_direct_dispatch_rule_skips_the_dispatcher(staff, order_data, city):
    power = Category.objects.get(full_name="城乡建设 › 城市建设和市政管理 › 电力供应")
    DirectDispatchRule.objects.create(category=power.parent, unit=city["power"])
    order, _ = t.intake(staff["operator"], {**order_data, "category": power.pk, "title": "停电"})
    assert order.state == State.PENDING_SIGN and order.lead_unit == city["power"]
    dispatch_event = order.events.get(action=Action.DISPATCH)
    assert dispatch_event.actor is None and "直派规则" in dispatch_event.note


def test_sign_only_by_the_lead_unit(new_order, staff, city):
    order = t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["d1"])
    with pytest.raises(Forbidden):
        t.sign(order, staff["h2"])
    with pytest.raises(Forbidden):
        t.sign(order, staff["dispatcher"])
    with pytest.raises(Forbidden):
        t.sign(order, staff["hs1"])  # a sub-unit's staff is not the lead unit
    order = t.sign(order, staff["h1"])
    assert order.state == State.IN_PROGRESS and order.signed_at


def test_unit_manager_acts_for_sub_units(new_order, staff, city, make_user):
    manager = make_user("handler", city["d1"], manager=True, username="boss")
    order = t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["s1"])
    assert t.sign(order, manager).state == State.IN_PROGRESS


def test_return_approved_goes_back_to_the_queue_and_counts(new_order, staff, city):
    order = t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["d1"])
    with pytest.raises(InvalidInput, match="退单理由"):
        t.request_return(order, staff["h1"], reason=" ")
    order = t.request_return(order, staff["h1"], reason="不属于本区管辖")
    with pytest.raises(Conflict):
        t.request_return(order, staff["h1"], reason="再申请")
    with pytest.raises(Forbidden):
        t.decide_return(order, staff["h1"], approve=True)
    order = t.decide_return(order, staff["dispatcher"], approve=True)
    assert order.state == State.PENDING_DISPATCH and order.lead_unit is None and order.return_count == 1
    assert actions(order)[-2:] == [Action.RETURN_REQUEST, Action.RETURN_APPROVE]


def test_return_rejected_stays_with_the_unit_and_needs_a_reason(new_order, staff, city):
    order = t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["d1"])
    order = t.request_return(order, staff["h1"], reason="不归我们管")
    with pytest.raises(InvalidInput, match="驳回理由"):
        t.decide_return(order, staff["dispatcher"], approve=False)
    order = t.decide_return(order, staff["dispatcher"], approve=False, note="属于区级职责")
    assert order.state == State.PENDING_SIGN and order.return_count == 0
    assert actions(order)[-1] == Action.RETURN_REJECT


def test_return_after_signing_only_within_the_window(signed, staff):
    late = signed.signed_at + timedelta(days=3)
    with pytest.raises(Conflict, match="工作小时内"):
        t.request_return(signed, staff["h1"], reason="其实不归我们", at=late)
    assert t.request_return(signed, staff["h1"], reason="其实不归我们").state == State.IN_PROGRESS


def test_extension_moves_the_deadline_at_most_twice(signed, staff):
    order = signed
    for n in (1, 2):
        new_due = order.due_at + timedelta(days=3)
        order = t.request_extension(order, staff["h1"], new_due_at=new_due, reason="需要协调施工队")
        order = t.decide_extension(order, staff["dispatcher"], approve=True)
        assert order.due_at == new_due and order.extension_count == n
    with pytest.raises(Conflict, match="最多延期 2 次"):
        t.request_extension(order, staff["h1"], new_due_at=order.due_at + timedelta(days=1), reason="再延")


def test_extension_must_be_later_and_before_the_deadline(signed, staff):
    with pytest.raises(InvalidInput) as exc:
        t.request_extension(signed, staff["h1"], new_due_at=signed.due_at - timedelta(hours=1), reason="x")
    assert "new_due_at" in exc.value.errors
    with pytest.raises(Conflict, match="超过办结时限"):
        t.request_extension(
            signed, staff["h1"], new_due_at=signed.due_at + timedelta(days=9), reason="x",
            at=signed.due_at + timedelta(minutes=1),
        )  # fmt: skip
    order = t.request_extension(signed, staff["h1"], new_due_at=signed.due_at + timedelta(days=2), reason="协调")
    order = t.decide_extension(order, staff["dispatcher"], approve=False, note="时限足够")
    assert order.due_at == signed.due_at and order.extension_count == 0


def test_co_unit_gives_its_opinion_the_lead_cannot(signed, staff):
    with pytest.raises(Forbidden):
        t.co_opinion(signed, staff["h1"], opinion="x")
    order = t.co_opinion(signed, staff["hdept"], opinion="已核实，属市政维护范围。")
    assert order.co_assignments.get().opinion.startswith("已核实")


def test_interim_reply_and_reply(signed, staff):
    order = t.interim_reply(signed, staff["h1"], content="已联系维修队，预计三天内修复。")
    with pytest.raises(InvalidInput) as exc:
        t.reply(order, staff["h1"], result="done", content="", measures="")
    assert set(exc.value.errors) == {"result", "content", "measures"}
    order = t.reply(order, staff["h1"], result="resolved", content="已修复。", measures="更换灯泡。")
    assert order.state == State.PENDING_CALLBACK and order.callback_due_at > order.replied_at
    with pytest.raises(Conflict):
        t.interim_reply(order, staff["h1"], content="x")


def test_satisfied_callback_archives(replied, staff):
    with pytest.raises(Forbidden):
        t.callback(replied, staff["operator"], contact_result="reached", satisfaction="satisfied", resolved=True)
    with pytest.raises(InvalidInput) as exc:
        t.callback(replied, staff["callback"], contact_result="reached")
    assert set(exc.value.errors) == {"satisfaction", "resolved"}
    order = t.callback(replied, staff["callback"], contact_result="reached", satisfaction="basic", resolved=True)
    assert (order.state, order.closure, order.satisfaction) == (State.ARCHIVED, Closure.HANDLED, "basic")


def test_unsatisfied_callback_reopens_to_the_same_unit(replied, staff, city):
    with pytest.raises(Conflict):
        t.reopen(replied, staff["callback"], reason="x")  # no unsatisfied callback yet
    order = t.callback(replied, staff["callback"], contact_result="reached", satisfaction="unsatisfied", resolved=False)
    assert order.state == State.PENDING_CALLBACK
    with pytest.raises(Forbidden):
        t.reopen(order, staff["h1"], reason="x")
    order = t.reopen(order, staff["callback"], reason="路灯仍然不亮")
    assert order.state == State.IN_PROGRESS and order.lead_unit == city["d1"] and order.reopen_count == 1
    assert order.due_at > timezone.now()


def test_unreachable_caller_then_archive_with_a_note(replied, staff):
    with pytest.raises(Conflict, match="请先回访"):
        t.archive(replied, staff["callback"], note="x")
    order = t.callback(replied, staff["callback"], contact_result="unreachable")
    with pytest.raises(InvalidInput):
        t.archive(order, staff["callback"], note="")
    order = t.archive(order, staff["callback"], note="三次未接通，按规定归档")
    assert order.state == State.ARCHIVED


def test_merge_duplicates_into_a_parent(new_order, staff, city):
    parent = t.dispatch(new_order(), staff["dispatcher"], lead_unit=city["d1"])
    child = new_order(caller_phone="13900139000")
    with pytest.raises(InvalidInput):
        t.merge(child, staff["dispatcher"], parent=child)
    child = t.merge(child, staff["dispatcher"], parent=parent, note="同一路灯")
    assert (child.state, child.closure, child.parent) == (State.ARCHIVED, Closure.MERGED, parent)
    assert parent.events.filter(action=Action.MERGE).exists()
    parent = t.sign(parent, staff["h1"])
    parent = t.reply(parent, staff["h1"], result="resolved", content="已修复。", measures="更换灯泡。")
    child.refresh_from_db()
    assert child.outcome_order.reply_content == "已修复。"
    grandchild = new_order(caller_phone="13700137000")
    with pytest.raises(InvalidInput, match="不能并入"):
        t.merge(grandchild, staff["dispatcher"], parent=child)


def test_stale_version_is_a_conflict_and_changes_nothing(new_order, staff, city):
    order = new_order()
    seen = order.version
    t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"], version=seen)
    with pytest.raises(Conflict, match="刷新"):
        t.dispatch(order, staff["dispatcher"], lead_unit=city["d2"], version=seen)
    order.refresh_from_db()
    assert order.lead_unit == city["d1"] and order.events.count() == 2


def test_full_life_cycle_timeline(replied, staff):
    order = t.callback(replied, staff["callback"], contact_result="reached", satisfaction="unsatisfied", resolved=False)
    order = t.reopen(order, staff["callback"], reason="仍未修好")
    order = t.reply(order, staff["h1"], result="resolved", content="再次维修。", measures="更换线路。")
    order = t.callback(order, staff["callback"], contact_result="reached", satisfaction="satisfied", resolved=True)
    assert actions(order) == [
        Action.INTAKE, Action.DISPATCH, Action.SIGN, Action.REPLY, Action.CALLBACK,
        Action.REOPEN, Action.REPLY, Action.CALLBACK,
    ]  # fmt: skip
    states = list(order.events.values_list("from_state", "to_state"))
    assert states[-1] == (State.PENDING_CALLBACK, State.ARCHIVED)
    assert order.version == len(states) - 1  # every transition after intake bumped the version


def test_events_are_append_only(new_order):
    event = new_order().events.get()
    event.note = "改写历史"
    with pytest.raises(Exception, match="只能追加"):
        event.save()
    with pytest.raises(Exception, match="不能删除"):
        event.delete()


def test_allowed_actions_follow_role_unit_and_state(signed, staff):
    assert set(t.allowed_actions(signed, staff["h1"])) >= {Action.REPLY, Action.INTERIM_REPLY, Action.EXTENSION_REQUEST}
    assert Action.REPLY not in t.allowed_actions(signed, staff["h2"])
    assert Action.CO_OPINION in t.allowed_actions(signed, staff["hdept"])
    assert t.allowed_actions(signed, staff["leader"]) == []


def test_deadline_across_a_holiday(staff, order_data, city):
    # Dispatched Tuesday 30 Sept 2025 at 16:00: a complaint has 5 working days; 1–8 October are holidays.
    at = datetime(2025, 9, 30, 16, 0, tzinfo=SH)
    order, _ = t.intake(staff["operator"], order_data, at=at)
    order = t.dispatch(order, staff["dispatcher"], lead_unit=city["d1"], at=at)
    assert order.sign_due_at == datetime(2025, 10, 9, 9, 30, tzinfo=SH)  # 1.5 h that day, 0.5 h on the 9th
    # 1.5 h on the 30th, then 9, 10, 11 (make-up Saturday), 13 and 5.5 h of the 14th: five working days of 7 h
    assert order.due_at == datetime(2025, 10, 14, 16, 0, tzinfo=SH)


def test_enterprise_and_urgent_limits(staff, order_data, city):
    at = datetime(2025, 10, 13, 10, 0, tzinfo=SH)  # a Monday
    ent, _ = t.intake(
        staff["operator"],
        {
            **order_data,
            "is_enterprise": True,
            "enterprise_name": "某公司",
            "enterprise_credit_code": "91430100MA4L8XYM38",
        },
        at=at,
    )
    ent = t.dispatch(ent, staff["dispatcher"], lead_unit=city["d1"], at=at)
    assert ent.due_at == datetime(2025, 10, 16, 10, 0, tzinfo=SH)  # 3 working days
    urgent, _ = t.intake(staff["operator"], {**order_data, "priority": "urgent"}, at=at)
    urgent = t.dispatch(urgent, staff["dispatcher"], lead_unit=city["d1"], at=at)
    assert urgent.sign_due_at == at + timedelta(minutes=30) and urgent.due_at == at + timedelta(hours=24)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_attachments_checked_by_size_extension_and_bytes(new_order, staff):
    from orders.validators import MAX_ATTACHMENT_BYTES

    order = new_order()
    for name, content, reason in [
        ("photo.png", PNG + b"\x00" * MAX_ATTACHMENT_BYTES, "超过"),
        ("photo.png", b"MZ\x90\x00 an executable", "不符"),
        ("virus.exe", b"MZ\x90\x00", "不支持"),
        ("empty.pdf", b"", "为空"),
    ]:
        with pytest.raises(InvalidInput, match=reason) as exc:
            t.attach(order, staff["operator"], name=name, content=content)
        assert "file" in exc.value.errors
    assert order.attachments.count() == 0 and order.events.count() == 1
    order = t.attach(order, staff["operator"], name="../../etc/photo.png", content=PNG)
    saved = order.attachments.get()
    assert saved.name == ".._.._etc_photo.png" and saved.content_type == "image/png" and saved.size == len(PNG)
    assert order.events.last().action == Action.ATTACH
    with pytest.raises(Forbidden):
        t.attach(order, staff["leader"], name="photo.png", content=PNG)
