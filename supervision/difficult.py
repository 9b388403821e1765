"""疑难工单: flagged by editable rules or by hand, reviewed jointly (联席研判), tracked until archived.

``flag_by_rules`` runs on the task worker with the other watch jobs. An order is flagged at most once:
the case is one row per order (a unique key), so two workers racing create one case between them.
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from orders import transitions
from orders.errors import Conflict, Forbidden, InvalidInput
from orders.models import OPEN_STATES, Action, State, WorkOrder
from supervision.models import CaseStatus, Cause, DifficultCase, DifficultyRule, JointReview, RuleKind

MAX_TEXT = 5000


def matching(rule: DifficultyRule, now: datetime) -> QuerySet[WorkOrder]:
    """Open orders, not yet flagged, that meet ``rule``."""
    orders = WorkOrder.objects.filter(state__in=OPEN_STATES, difficult__isnull=True)
    n = rule.threshold
    if rule.kind == RuleKind.RETURNS:
        return orders.filter(return_count__gte=n)
    if rule.kind == RuleKind.REOPENS:
        return orders.filter(reopen_count__gte=n)
    if rule.kind == RuleKind.UNITS:  # the lead unit plus its co-units
        return orders.filter(lead_unit__isnull=False).annotate(co=Count("co_assignments")).filter(co__gte=n - 1)
    if rule.kind == RuleKind.OVERDUE_DAYS:
        at_unit = (State.PENDING_SIGN, State.IN_PROGRESS)
        return orders.filter(state__in=at_unit, due_at__lt=now - timedelta(days=n))
    if rule.kind == RuleKind.CALLERS:  # the order and the duplicates merged into it
        return orders.annotate(dups=Count("children")).filter(dups__gte=n - 1)
    raise ValueError(rule.kind)


def flag_by_rules(now: datetime | None = None) -> int:
    now = now or timezone.now()
    flagged = 0
    for rule in DifficultyRule.objects.filter(is_active=True):
        for order in matching(rule, now)[:500]:
            reason = f"自动列入：{rule.get_kind_display()} {rule.threshold}"
            if _create(order, None, rule.cause, reason, rule.kind, now):
                flagged += 1
    return flagged


def _create(order: WorkOrder, actor: User | None, cause: str, reason: str, rule: str, at: datetime) -> bool:
    try:
        with transaction.atomic():
            DifficultCase.objects.create(
                order=order, cause=cause, reason=reason, rule=rule, flagged_by=actor, flagged_at=at
            )
            transitions.record(order, actor, Action.SUPERVISE, f"列为疑难工单（{Cause(cause).label}）：{reason}", at=at)
    except IntegrityError:
        return False  # flagged already, by a rule or by someone else
    return True


def flag(actor: User, order: WorkOrder, cause: str, reason: str) -> DifficultCase:
    """By hand: a supervisor lists an open order as difficult, with its cause."""
    if not actor.has_role(Role.SUPERVISOR):
        raise Forbidden("只有督办员可以列入疑难工单")
    errors = {}
    if cause not in Cause.values:
        errors["cause"] = "请选择原因"
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "请填写列入说明"
    elif len(reason) > MAX_TEXT:
        errors["reason"] = f"说明不能超过 {MAX_TEXT} 字"
    if errors:
        raise InvalidInput(errors)
    if order.state not in OPEN_STATES:
        raise Conflict("工单已归档，不能列为疑难工单")
    if not _create(order, actor, cause, reason, "", timezone.now()):
        raise Conflict("该工单已是疑难工单")
    return order.difficult


def review(
    actor: User,
    case: DifficultCase,
    *,
    participants: str,
    conclusion: str,
    lead_unit,
    co_units,
    new_deadline,
    held_at: datetime | None = None,
) -> JointReview:
    """联席研判: record the meeting and send the order to the units it named, with its new deadline."""
    if not actor.has_role(Role.SUPERVISOR):
        raise Forbidden("只有督办员可以记录联席研判")
    if case.status != CaseStatus.OPEN:
        raise Conflict("该疑难工单已办结")
    errors = {}
    for field, label, value in (
        ("participants", "参会单位和人员", participants),
        ("conclusion", "研判结论", conclusion),
    ):
        if not (value or "").strip():
            errors[field] = f"请填写{label}"
    if errors:
        raise InvalidInput(errors)
    held_at = held_at or timezone.now()
    with transaction.atomic():
        order = transitions.reassign(
            case.order, actor, lead_unit=lead_unit, co_units=co_units, due_at=new_deadline,
            note=f"联席研判结论：{conclusion.strip()}",
        )  # fmt: skip
        meeting = JointReview.objects.create(
            case=case, held_at=held_at, participants=participants.strip(), conclusion=conclusion.strip(),
            lead_unit=order.lead_unit, new_deadline=new_deadline, recorded_by=actor,
        )  # fmt: skip
        meeting.co_units.set([a.unit for a in order.co_assignments.all()])
    return meeting


def close_finished(now: datetime | None = None) -> int:
    """Cases whose order has been archived are done."""
    return DifficultCase.objects.filter(status=CaseStatus.OPEN, order__state=State.ARCHIVED).update(
        status=CaseStatus.RESOLVED, resolved_at=now or timezone.now()
    )


def cases(status: str = "", cause: str = "") -> QuerySet[DifficultCase]:
    items = DifficultCase.objects.select_related("order__lead_unit", "flagged_by")
    if status in CaseStatus.values:
        items = items.filter(status=status)
    if cause in Cause.values:
        items = items.filter(cause=cause)
    return items


def counts_by_cause() -> dict[str, int]:
    rows = DifficultCase.objects.values("cause").annotate(n=Count("pk"))
    return {Cause(r["cause"]).label: r["n"] for r in rows}
