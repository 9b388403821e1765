"""What the supervisor dashboard counts; every count has a list behind it (a URL of the order list)."""

from datetime import timedelta

from django.db.models import Count, Q

from accounts.models import User
from orders.models import OPEN_STATES, State, Warning
from orders.queries import overdue_q, visible_orders
from supervision import unsatisfied
from supervision.models import SupervisionOrder, SupervisionStatus
from system.config import get_setting


def colour_counts(user: User, unit=None) -> list[dict]:
    """Open orders per warning colour, reddest first, with the URL of each list; ``unit`` limits them to the
    orders a unit and its sub-units lead."""
    open_orders = visible_orders(user).filter(state__in=OPEN_STATES)
    suffix = ""
    if unit is not None:
        open_orders = open_orders.filter(lead_unit__path__startswith=unit.path)
        suffix = f"&unit={unit.code}"
    # order_by(): a handler's visible orders are DISTINCT, which carries the model's sort column into the grouping
    # and split each colour into one group per order
    counts = dict(open_orders.order_by().values_list("warning").annotate(n=Count("pk")).values_list("warning", "n"))
    return [
        {"colour": c.value, "label": c.label, "count": counts.get(c.value, 0),
         "url": f"/orders/?warning={c.value}{suffix}"}
        for c in reversed(Warning)
    ]  # fmt: skip


def unit_colour_table(user: User, limit: int = 30) -> list[dict]:
    """Units with open orders at them, worst first: counts per colour."""
    rows = (
        visible_orders(user)
        .filter(state__in=(State.PENDING_SIGN, State.IN_PROGRESS), lead_unit__isnull=False)
        .values("lead_unit__code", "lead_unit__name")
        .annotate(
            red=Count("pk", filter=Q(warning=Warning.RED)),
            orange=Count("pk", filter=Q(warning=Warning.ORANGE)),
            yellow=Count("pk", filter=Q(warning=Warning.YELLOW)),
            green=Count("pk", filter=Q(warning=Warning.GREEN)),
            total=Count("pk"),
        )
        .order_by("-red", "-orange", "-yellow", "-total")[:limit]
    )
    return list(rows)


def supervision_orders(user: User):
    orders = SupervisionOrder.objects.select_related("unit", "issued_by")
    if user.is_citywide:
        return orders
    return orders.filter(unit__in=user.visible_units)


def open_supervisions(user: User) -> tuple[str, int, str]:
    """(label, count, link) of the 督办单 still to be answered that this user sees."""
    count = supervision_orders(user).filter(status=SupervisionStatus.OPEN).count()
    return "待答复督办单", count, "/supervision/orders/?status=open"


def dashboard_counts(user: User, now) -> list[tuple[str, int, str]]:
    from supervision.models import CaseStatus, DifficultCase, Whistle, WhistleStatus

    visible = visible_orders(user)
    counts = [
        (
            "疑难工单",
            DifficultCase.objects.filter(status=CaseStatus.OPEN).count(),
            "/supervision/difficult/?status=open",
        ),
        ("屡办不成/久拖不决", stuck_orders(now).count(), "/supervision/stuck/"),
        ("吹哨报到中", Whistle.objects.filter(status=WhistleStatus.OPEN).count(), "/supervision/whistles/"),
        ("超期工单（含超期办结）", visible.filter(overdue_q(now)).count(), "/orders/?overdue=1"),
        open_supervisions(user),
        (
            "已升级督办单",
            supervision_orders(user).filter(status=SupervisionStatus.ESCALATED).count(),
            "/supervision/orders/?status=escalated",
        ),
    ]
    if user.has_role(*unsatisfied.VIEWERS):
        open_ones = unsatisfied.unsatisfied_orders(user).filter(follow_up__in=unsatisfied.OPEN).count()
        counts.append(("不满意未清零", open_ones, "/supervision/unsatisfied/"))
    return counts


def stuck_orders(now):
    """屡办不成 (reopened at least ``stuck_reopen_count`` times) or 久拖不决 (overdue by ``stuck_overdue_days``)."""
    from orders.models import WorkOrder

    reopened = Q(reopen_count__gte=get_setting("stuck_reopen_count"))
    dragging = Q(
        state__in=(State.PENDING_SIGN, State.IN_PROGRESS),
        due_at__lt=now - timedelta(days=get_setting("stuck_overdue_days")),
    )
    return (
        WorkOrder.objects.select_related("category", "request_type", "lead_unit")
        .filter(state__in=OPEN_STATES)
        .filter(reopened | dragging)
        .order_by("due_at")
    )


def stuck_reasons(order, now) -> list[str]:
    """Why an order is on the 屡办不成 / 久拖不决 list, with the citizens' words from the callbacks that reopened it."""
    from orders.models import Action

    reasons = []
    if order.reopen_count >= get_setting("stuck_reopen_count"):
        notes = list(order.events.filter(action=Action.REOPEN).values_list("note", flat=True))
        reasons.append(f"重办 {order.reopen_count} 次：" + "；".join(n for n in notes if n)[:200])
    if order.due_at and order.due_at < now and order.state in (State.PENDING_SIGN, State.IN_PROGRESS):
        reasons.append(f"超期 {(now - order.due_at).days} 天")
    if order.return_count:
        reasons.append(f"退单 {order.return_count} 次")
    return reasons
