"""督办单: issue to a unit, answer by the unit, escalate to the unit's parent when unanswered.

Each step is one transaction that also writes a 督办 line on every order's timeline and tells the
people concerned. Escalation claims the overdue supervision order with a conditional UPDATE
(``status = open``), so two schedulers never escalate it twice.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from notifications.send import notify, notify_unit
from orders import transitions
from orders.errors import Conflict, Forbidden, InvalidInput
from orders.models import Action, WorkOrder
from org.models import Unit, UnitKind
from supervision.models import SupervisionCounter, SupervisionOrder, SupervisionStatus

ISSUERS = (Role.SUPERVISOR,)
MAX_TEXT = 5000


def _number(at: datetime) -> str:
    """DB + date + the day's 督办单 sequence."""
    day = timezone.localtime(at).date()
    return f"DB{day:%Y%m%d}{SupervisionCounter.next_in_day(day):06d}"


def issue_errors(
    unit: Unit | None, orders: list, requirements: str | None, deadline: datetime | None, at: datetime
) -> dict:
    """What is wrong with a 督办单's fields, every field at once (empty when nothing is)."""
    requirements = (requirements or "").strip()
    errors = {}
    if unit is None or not unit.is_active or unit.kind in (UnitKind.CENTER, UnitKind.CITY):
        errors["unit"] = "请选择具体的承办单位"
    if not orders:
        errors["orders"] = "请至少选择一张工单"
    if not requirements:
        errors["requirements"] = "请填写督办要求"
    elif len(requirements) > MAX_TEXT:
        errors["requirements"] = f"督办要求不能超过 {MAX_TEXT} 字"
    if deadline is None:
        errors["deadline"] = "请填写答复期限"
    elif deadline <= at:
        errors["deadline"] = "答复期限必须晚于现在"
    return errors


def issue(
    actor: User,
    unit: Unit | None,
    orders: Iterable[WorkOrder],
    requirements: str,
    deadline: datetime | None,
    at: datetime | None = None,
) -> SupervisionOrder:
    """督办: a supervisor demands that ``unit`` act on ``orders`` by ``deadline``."""
    if not actor.has_role(*ISSUERS):
        raise Forbidden(f"{actor.get_role_display()}不能发督办单")
    at = at or timezone.now()
    orders = list(orders)
    requirements = (requirements or "").strip()
    if errors := issue_errors(unit, orders, requirements, deadline, at):
        raise InvalidInput(errors)
    with transaction.atomic():
        supervision = SupervisionOrder.objects.create(
            number=_number(at), unit=unit, requirements=requirements, deadline=deadline, issued_by=actor,
            issued_at=at,
        )  # fmt: skip
        supervision.orders.set(orders)
        _tell(supervision, actor, f"督办单 {supervision.number} 发给{unit.name}：{requirements}", at)
    return supervision


def answer(actor: User, supervision: SupervisionOrder, text: str, at: datetime | None = None) -> SupervisionOrder:
    """督办答复 by the unit (or a manager above it)."""
    at = at or timezone.now()
    if not actor.has_role(Role.HANDLER) or not actor.visible_units.filter(pk=supervision.unit_id).exists():
        raise Forbidden("只有被督办单位可以答复督办单")
    text = (text or "").strip()
    if not text:
        raise InvalidInput({"answer": "请填写答复内容"})
    if len(text) > MAX_TEXT:
        raise InvalidInput({"answer": f"答复不能超过 {MAX_TEXT} 字"})
    with transaction.atomic():
        done = SupervisionOrder.objects.filter(pk=supervision.pk, status=SupervisionStatus.OPEN).update(
            status=SupervisionStatus.ANSWERED, answer=text, answered_by=actor, answered_at=at
        )
        if done != 1:
            raise Conflict("该督办单已答复或已升级，不能再答复")
        supervision.refresh_from_db()
        for order in supervision.orders.all():
            transitions.record(order, actor, Action.SUPERVISE, f"督办单 {supervision.number} 答复：{text}", at=at)
        if supervision.issued_by:
            notify([supervision.issued_by], f"督办单 {supervision.number} 已答复", text, _link(supervision))
    return supervision


def escalate_overdue(now: datetime | None = None) -> int:
    """Unanswered past the deadline: the supervision order goes up to the unit's parent. Returns how many."""
    now = now or timezone.now()
    escalated = 0
    for supervision in SupervisionOrder.objects.filter(status=SupervisionStatus.OPEN, deadline__lt=now).select_related(
        "unit__parent", "issued_by"
    ):
        parent = supervision.unit.parent
        with transaction.atomic():
            won = SupervisionOrder.objects.filter(pk=supervision.pk, status=SupervisionStatus.OPEN).update(
                status=SupervisionStatus.ESCALATED, escalated_at=now
            )
            if won != 1:
                continue
            escalated += 1
            if parent is None or parent.kind in (UnitKind.CITY, UnitKind.CENTER):
                note = f"督办单 {supervision.number} 逾期未答复，{supervision.unit.name}已无上级承办单位，请督办员处理"
                for order in supervision.orders.all():
                    transitions.record(order, None, Action.SUPERVISE, note, at=now)
                if supervision.issued_by:
                    notify([supervision.issued_by], f"督办单 {supervision.number} 逾期未答复", note, _link(supervision))
                continue
            requirements = (
                f"{supervision.unit.name}逾期未答复督办单 {supervision.number}，请督促办理。"
                f"原要求：{supervision.requirements}"
            )
            higher = SupervisionOrder.objects.create(
                number=_number(now), unit=parent, escalated_from=supervision, issued_by=supervision.issued_by,
                issued_at=now, deadline=now + (supervision.deadline - supervision.issued_at), requirements=requirements,
            )  # fmt: skip
            higher.orders.set(supervision.orders.all())
            _tell(higher, None, f"督办单 {supervision.number} 逾期未答复，升级至{parent.name}（{higher.number}）", now)
    return escalated


def _link(supervision: SupervisionOrder) -> str:
    return reverse("supervision:detail", args=[supervision.number])


def _tell(supervision: SupervisionOrder, actor: User | None, note: str, at: datetime) -> None:
    for order in supervision.orders.all():
        transitions.record(order, actor, Action.SUPERVISE, note, {"supervision": supervision.number}, at=at)
    deadline = timezone.localtime(supervision.deadline).strftime("%Y-%m-%d %H:%M")
    notify_unit(
        supervision.unit, f"督办单 {supervision.number}：请于 {deadline} 前答复", supervision.requirements,
        _link(supervision),
    )  # fmt: skip
