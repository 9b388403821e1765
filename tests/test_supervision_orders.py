"""督办单: issued by a supervisor, answered by the unit, escalated to the parent unit when unanswered."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification
from orders import transitions as t
from orders.errors import Conflict, Forbidden, InvalidInput
from orders.models import Action
from supervision import actions
from supervision.models import SupervisionOrder, SupervisionStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_street(staff, order_data, city):
    order, _ = t.intake(staff["operator"], order_data)
    return t.dispatch(order, staff["dispatcher"], lead_unit=city["s1"])


def test_supervisor_issues_and_the_unit_answers(at_street, staff, city, client):
    deadline = timezone.now() + timedelta(days=1)
    s = actions.issue(staff["supervisor"], city["s1"], [at_street], "请今天内到现场核实并答复", deadline)
    assert s.number.startswith("DB") and s.status == SupervisionStatus.OPEN
    assert at_street.events.filter(action=Action.SUPERVISE).count() == 1
    assert Notification.objects.filter(user=staff["hs1"], link=f"/supervision/orders/{s.number}/").exists()

    with pytest.raises(Forbidden):
        actions.answer(staff["h2"], s, "不是我们的")
    with pytest.raises(InvalidInput):
        actions.answer(staff["hs1"], s, "  ")
    actions.answer(staff["hs1"], s, "已到现场核实，路灯今日修复")
    s.refresh_from_db()
    assert (s.status, s.answered_by) == (SupervisionStatus.ANSWERED, staff["hs1"])
    assert Notification.objects.filter(user=staff["supervisor"], title__contains="已答复").exists()
    with pytest.raises(Conflict):
        actions.answer(staff["hs1"], s, "再答一次")
    client.force_login(staff["supervisor"])
    html = client.get(f"/orders/{at_street.number}/").content.decode()
    assert s.number in html and "督办单" in html


def test_issue_checks_role_and_every_field(at_street, staff, city):
    with pytest.raises(Forbidden):
        actions.issue(staff["dispatcher"], city["s1"], [at_street], "要求", timezone.now() + timedelta(days=1))
    with pytest.raises(InvalidInput) as exc:
        actions.issue(staff["supervisor"], city["center"], [], "", timezone.now() - timedelta(hours=1))
    assert set(exc.value.errors) == {"unit", "orders", "requirements", "deadline"}
    assert SupervisionOrder.objects.count() == 0


def test_unanswered_escalates_to_the_parent_once(at_street, staff, city):
    issued = timezone.now() - timedelta(days=2)
    s = actions.issue(staff["supervisor"], city["s1"], [at_street], "请尽快处理", issued + timedelta(days=1), at=issued)
    assert actions.escalate_overdue(issued + timedelta(hours=23)) == 0
    assert actions.escalate_overdue() == 1
    assert actions.escalate_overdue() == 0  # claimed already
    s.refresh_from_db()
    higher = s.escalated_to
    assert s.status == SupervisionStatus.ESCALATED and higher.unit == city["d1"]
    assert list(higher.orders.all()) == [at_street] and higher.status == SupervisionStatus.OPEN
    assert higher.deadline - higher.issued_at == timedelta(days=1)
    assert Notification.objects.filter(user=staff["h1"], link=f"/supervision/orders/{higher.number}/").exists()
    notes = list(at_street.events.filter(action=Action.SUPERVISE).values_list("note", flat=True))
    assert any("升级至一区" in n for n in notes)
    # the district does not answer either: there is no handling unit above it, the supervisor is told
    actions.escalate_overdue(timezone.now() + timedelta(days=2))
    higher.refresh_from_db()
    assert higher.status == SupervisionStatus.ESCALATED and not hasattr(higher, "escalated_to")
    assert Notification.objects.filter(user=staff["supervisor"], title__contains="逾期未答复").exists()


def test_supervision_pages(at_street, staff, city, client):
    client.force_login(staff["supervisor"])
    page = client.get(f"/supervision/orders/new/?orders={at_street.number}")
    assert page.status_code == 200 and 'value="T1-S1" selected' in page.content.decode()
    bad = client.post("/supervision/orders/new/", {"orders": "20990101000001", "unit": "T1-S1", "requirements": "x"})
    assert bad.status_code == 422 and "工单不存在" in bad.content.decode() and "请填写答复期限" in bad.content.decode()
    nothing = {"orders": "", "unit": "", "requirements": "", "deadline": ""}
    empty = client.post("/supervision/orders/new/", nothing).content.decode()  # every field named at once
    for field, message in (("orders", "请至少选择一张工单"), ("unit", "请选择具体的承办单位"),
                           ("requirements", "请填写督办要求"), ("deadline", "请填写答复期限")):  # fmt: skip
        assert f'data-field="{field}">{message}' in empty, field
    deadline = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    done = client.post(
        "/supervision/orders/new/",
        {"orders": at_street.number, "unit": "T1-S1", "requirements": "请答复", "deadline": deadline},
    )
    s = SupervisionOrder.objects.get()
    assert done.status_code == 302 and done.url == f"/supervision/orders/{s.number}/"
    assert s.number in client.get("/supervision/orders/?status=open").content.decode()
    assert client.get("/supervision/").status_code == 200

    client.force_login(staff["hs1"])
    assert client.get("/supervision/").status_code == 403
    assert client.get("/supervision/orders/new/").status_code == 403
    answered = client.post(f"/supervision/orders/{s.number}/", {"answer": "已处理完毕"})
    assert answered.status_code == 302
    client.force_login(staff["h2"])
    assert client.get(f"/supervision/orders/{s.number}/").status_code == 404


def test_supervision_orders_have_their_own_sequence(staff, order_data, city):
    """A 督办单 takes no number from the work orders: the day's orders stay without gaps, and so do the 督办单."""
    first, _ = t.intake(staff["operator"], order_data)
    deadline = timezone.now() + timedelta(days=1)
    s1 = actions.issue(staff["supervisor"], city["d1"], [first], "请核实", deadline)
    second, _ = t.intake(staff["operator"], order_data)
    s2 = actions.issue(staff["supervisor"], city["d1"], [second], "请核实", deadline)
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1
    assert (s1.number[-6:], s2.number[-6:]) == ("000001", "000002")
    assert s1.number[2:10] == first.number[:8]


def test_upgrade_starts_the_sequence_after_existing_numbers(staff, order_data, city):
    """Numbers issued before the sequence was split are not handed out again."""
    from importlib import import_module

    from django.apps import apps

    from supervision.models import SupervisionCounter

    order, _ = t.intake(staff["operator"], order_data)
    deadline = timezone.now() + timedelta(days=1)
    old = actions.issue(staff["supervisor"], city["d1"], [order], "请核实", deadline)
    day = timezone.localdate()
    SupervisionOrder.objects.filter(pk=old.pk).update(number=f"DB{day:%Y%m%d}000007")
    SupervisionCounter.objects.all().delete()
    import_module("supervision.migrations.0006_supervision_counter").start_from_existing(apps, None)
    new = actions.issue(staff["supervisor"], city["d1"], [order], "再次核实", deadline)
    assert new.number == f"DB{day:%Y%m%d}000008"
