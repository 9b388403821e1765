"""催办: when an order's colour rises above what its unit was last urged for, urge the unit once.

Algorithm (safe with any number of schedulers and workers, on SQLite and PostgreSQL):
1. candidates are orders whose ``warning`` is above ``warned`` (yellow or worse);
2. for each, in one transaction: ``UPDATE … SET warned = <warning> WHERE pk = … AND warned = <read>``;
   one row updated means this process owns the reminder, zero means another process sent it;
3. the owner writes the 催办 event on the timeline, the in-app messages and the queued email in the
   same transaction — so a reminder is never sent twice, and never claimed without being sent.
A worker that was stopped finds the same candidates on restart: nothing is lost.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from notifications.send import notify_role, notify_unit
from orders import transitions
from orders.models import Action, State, Warning, WorkOrder

REASONS = {
    Warning.YELLOW: "剩余办理时间不足",
    Warning.ORANGE: "派单后超过规定时间未签收",
    Warning.RED: "已超期或长时间未签收",
}
BATCH = 500


def _message(order: WorkOrder) -> tuple[str, str]:
    colour = Warning(order.warning)
    if order.state == State.PENDING_CALLBACK:
        return f"【{colour.label}预警】工单 {order.number} 回访已超期", "请尽快回访。"
    due = timezone.localtime(order.due_at).strftime("%Y-%m-%d %H:%M") if order.due_at else "—"
    return f"【{colour.label}预警】工单 {order.number} {REASONS[colour]}", f"{order.title}\n办结时限：{due}"


def send_reminders(now: datetime | None = None) -> int:
    """Urge every order that crossed a threshold since its last reminder; returns how many were sent here."""
    now = now or timezone.now()
    sent = 0
    candidates = (
        WorkOrder.objects.filter(warning__gte=Warning.YELLOW, warning__gt=F("warned"))
        .select_related("lead_unit")
        .order_by("pk")
    )
    for order in candidates[:BATCH]:
        with transaction.atomic():
            won = WorkOrder.objects.filter(pk=order.pk, warned=order.warned, warning=order.warning).update(
                warned=order.warning
            )
            if won != 1:
                continue  # another scheduler sent it, or the colour changed meanwhile
            title, body = _message(order)
            link = reverse("orders:detail", args=[order.number])
            transitions.record(order, None, Action.URGE, note=title, data={"warning": order.warning}, at=now)
            if order.state == State.PENDING_CALLBACK:
                notify_role(Role.CALLBACK, title, body, link)
            elif order.lead_unit is not None:
                notify_unit(order.lead_unit, title, body, link)
            sent += 1
    return sent
