"""不满意工单动态清零: every order with a reached callback that was 不满意 or 未解决, and how far its follow-up got.

The follow-up status is derived from the order alone, in one query (two correlated subqueries on the callbacks):
``last_bad_at`` is the latest reached callback that was unsatisfied or unresolved, ``last_good_at`` the latest
reached one that was satisfied (or basically) and resolved. Then, first match wins:

- 已清零: a good callback came after the last bad one (that callback archived the order);
- 已解释归档: archived without that — the callback desk archived it with its explanation;
- 已重新答复: waiting for a callback, replied again after the last bad callback (reopened and replied);
- 待处理: waiting for a callback since the bad one: not yet reopened or archived;
- 重办中: otherwise — reopened and back with a unit (in progress, or re-dispatched).

待处理, 重办中 and 已重新答复 are open; 已解释归档 and 已清零 are cleared. Handlers see the orders their units lead.
"""

from django.db import models
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from orders.models import Callback, ContactResult, Satisfaction, State, WorkOrder

VIEWERS = (Role.SUPERVISOR, Role.DISPATCHER, Role.CALLBACK, Role.LEADER, Role.HANDLER)


class FollowUp(models.TextChoices):
    PENDING = "pending", _("待处理")
    REOPENED = "reopened", _("重办中")
    REPLIED = "replied", _("已重新答复")
    EXPLAINED = "explained", _("已解释归档")
    CLEARED = "cleared", _("已清零")


OPEN = (FollowUp.PENDING, FollowUp.REOPENED, FollowUp.REPLIED)
DONE = (FollowUp.EXPLAINED, FollowUp.CLEARED)

BAD = Q(contact_result=ContactResult.REACHED) & (Q(satisfaction=Satisfaction.UNSATISFIED) | Q(resolved=False))
GOOD = Q(contact_result=ContactResult.REACHED, resolved=True) & ~Q(satisfaction=Satisfaction.UNSATISFIED)


def _latest(condition: Q) -> Subquery:
    callbacks = Callback.objects.filter(condition, order=OuterRef("pk")).order_by("-created_at", "-pk")
    return Subquery(callbacks.values("created_at")[:1])


def unsatisfied_orders(user: User | None = None) -> QuerySet[WorkOrder]:
    """Every order with an unsatisfied or unresolved reached callback, annotated with ``last_bad_at``,
    ``last_good_at`` and ``follow_up`` (a ``FollowUp`` value); limited to what ``user`` may see."""
    orders = (
        WorkOrder.objects.filter(Exists(Callback.objects.filter(BAD, order=OuterRef("pk"))))
        .select_related("lead_unit")
        .annotate(last_bad_at=_latest(BAD), last_good_at=_latest(GOOD))
        .annotate(
            follow_up=Case(
                When(last_good_at__gt=F("last_bad_at"), then=Value(FollowUp.CLEARED.value)),
                When(state=State.ARCHIVED, then=Value(FollowUp.EXPLAINED.value)),
                When(state=State.PENDING_CALLBACK, replied_at__gt=F("last_bad_at"), then=Value(FollowUp.REPLIED.value)),
                When(state=State.PENDING_CALLBACK, then=Value(FollowUp.PENDING.value)),
                default=Value(FollowUp.REOPENED.value),
                output_field=models.CharField(),
            )
        )
    )
    if user is None or (user.is_citywide and user.has_role(*VIEWERS)):
        return orders
    if user.has_role(Role.HANDLER):
        return orders.filter(lead_unit__in=user.visible_units)
    return orders.none()


def unit_counts(orders: QuerySet[WorkOrder]) -> list[dict]:
    """Per lead unit: open, cleared and total, most open first."""
    return list(
        orders.order_by()
        .values("lead_unit__code", "lead_unit__name")
        .annotate(
            open=Count("pk", filter=Q(follow_up__in=OPEN)),
            cleared=Count("pk", filter=Q(follow_up__in=DONE)),
            total=Count("pk"),
        )
        .order_by("-open", "lead_unit__name")
    )


def latest_bad_callbacks(orders) -> dict[int, Callback]:
    """The last unsatisfied or unresolved callback of each order, for a page of the list."""
    latest: dict[int, Callback] = {}
    for callback in Callback.objects.filter(BAD, order__in=[o.pk for o in orders]).order_by("created_at", "pk"):
        latest[callback.order_id] = callback
    return latest
