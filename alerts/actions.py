"""What a supervisor or dispatcher does with an alert: 转为多人一诉 or 转为督办单.

Both go through the modules that own the change — ``orders.transitions.merge`` for each order (one call per
order, so one refusal does not undo the others) and ``supervision.actions.issue`` — and so are subject to their
role, state and input checks: 并单 is a front-desk action (派单员) on orders still waiting for dispatch; a
督办单 is issued by a 督办员. The alert is then marked 已处置 with a conditional UPDATE (never over 已关闭).
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from alerts.models import Status, TrendAlert
from orders import transitions
from orders.errors import Conflict, Forbidden, InvalidInput, TransitionError
from orders.models import OPEN_STATES, WorkOrder
from org.models import Unit
from supervision import actions as supervision_actions
from supervision.models import SupervisionOrder

CONVERTERS = (Role.SUPERVISOR, Role.DISPATCHER)


@dataclass
class MergeOutcome:
    parent: WorkOrder
    merged: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (order number, reason)


def open_orders(alert: TrendAlert):
    return alert.orders.filter(state__in=OPEN_STATES).order_by("received_at", "pk")


def _check(alert: TrendAlert, actor: User) -> None:
    if not actor.has_role(*CONVERTERS):
        raise Forbidden(f"{actor.get_role_display()}不能处置监测预警")
    if alert.status == Status.CLOSED:
        raise Conflict("该预警已关闭")


def _mark_handled(alert: TrendAlert, actor: User, at: datetime, **fields) -> None:
    TrendAlert.objects.filter(pk=alert.pk).exclude(status=Status.CLOSED).update(
        status=Status.HANDLED, handled_by=actor, handled_at=at, **fields
    )
    alert.refresh_from_db()


def to_merged(alert: TrendAlert, actor: User, parent: object, note: str = "") -> MergeOutcome:
    """转为多人一诉: every other order of the alert is merged into ``parent`` (one of its open orders)."""
    _check(alert, actor)
    try:
        parent = open_orders(alert).filter(pk=int(getattr(parent, "pk", parent))).first()
    except (TypeError, ValueError):
        parent = None
    if parent is None:
        raise InvalidInput({"parent": "请从本预警的未办结工单中选择主工单"})
    note = (note or "").strip() or f"监测预警转为多人一诉，并入 {parent.number}"
    outcome = MergeOutcome(parent)
    for order in alert.orders.exclude(pk=parent.pk).order_by("received_at", "pk"):
        if order.parent_id == parent.pk:
            continue  # merged into it already
        try:
            transitions.merge(order, actor, parent=parent, note=note)
        except TransitionError as exc:
            outcome.refused.append((order.number, exc.message))
        else:
            outcome.merged.append(order.number)
    if outcome.merged:
        _mark_handled(alert, actor, timezone.now(), parent_order=parent)
    return outcome


def to_supervision(
    alert: TrendAlert, actor: User, unit: Unit | None, requirements: str, deadline: datetime | None
) -> SupervisionOrder:
    """转为督办单: one 督办单 to ``unit`` over the alert's orders that are still open."""
    _check(alert, actor)
    orders = list(open_orders(alert))
    if not orders:
        raise Conflict("该预警的工单均已办结，无需督办")
    with transaction.atomic():
        supervision = supervision_actions.issue(actor, unit, orders, requirements, deadline)
        _mark_handled(alert, actor, supervision.issued_at, supervision=supervision)
    return supervision
