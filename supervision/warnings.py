"""赋色预警: the colour of every open order, recomputed in a fixed number of UPDATE statements.

At the unit (待签收, 办理中), per warning rule (the rule of the order's tag, else the default):
- red     overdue (past ``due_at``), or not signed ``red_hours`` after dispatch;
- orange  not signed ``orange_hours`` after dispatch;
- yellow  less than ``yellow_share`` of the allowed time (``limit_started_at`` → ``due_at``) left;
- green   otherwise.
待回访 is red once the callback is overdue, else green; 待派发 is green; closed orders have none.
Hours after dispatch are calendar hours; deadlines were already counted on the working-day calendar.

No order is loaded into Python: each colour is one ``UPDATE … WHERE <condition> AND warning <> colour``,
so the work and the number of queries do not grow with the number of orders in a loop.
"""

from datetime import datetime, timedelta

from django.db.models import F, FloatField, Func, Q, QuerySet, Value
from django.db.models.lookups import LessThan
from django.utils import timezone

from orders.models import State, Warning, WorkOrder
from supervision.models import WarningRule

AT_UNIT = (State.PENDING_SIGN, State.IN_PROGRESS)


class Epoch(Func):
    """Seconds since 1970 of a datetime column, on SQLite and PostgreSQL."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)")

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)")


def default_rule() -> WarningRule:
    return WarningRule.objects.filter(tag=None).first() or WarningRule()


def colour_conditions(rule: WarningRule, now: datetime) -> dict[int, Q]:
    """The condition of each colour under ``rule`` at ``now``, most severe first (each excludes the ones before)."""
    red_since = now - timedelta(hours=float(rule.red_hours))
    orange_since = now - timedelta(hours=float(rule.orange_hours))
    share = float(rule.yellow_share)
    # due - now < share × (due - start)  ⇔  (1 − share)·due + share·start < now
    yellow = LessThan(
        Value(1 - share) * Epoch(F("due_at")) + Value(share) * Epoch(F("limit_started_at")), Value(now.timestamp())
    )
    red = Q(due_at__lt=now) | Q(state=State.PENDING_SIGN, dispatched_at__lte=red_since)
    orange = Q(state=State.PENDING_SIGN, dispatched_at__lte=orange_since)
    return {
        Warning.RED: red,
        Warning.ORANGE: ~red & orange,
        Warning.YELLOW: ~red & ~orange & Q(yellow, limit_started_at__isnull=False, due_at__isnull=False),
        Warning.GREEN: ~red & ~orange & ~Q(yellow, limit_started_at__isnull=False, due_at__isnull=False),
    }


def _paint(orders: QuerySet, conditions: dict[int, Q]) -> int:
    changed = 0
    for colour, condition in conditions.items():
        changed += orders.filter(condition).exclude(warning=colour).update(warning=colour)
    return changed


def recompute(now: datetime | None = None) -> int:
    """Recolour every order whose colour changed; returns how many rows changed."""
    now = now or timezone.now()
    orders = WorkOrder.objects.all()
    changed = 0
    rules = list(WarningRule.objects.exclude(tag=None).select_related("tag"))
    at_unit = orders.filter(state__in=AT_UNIT)
    tagged_ids = []
    for rule in rules:
        scope = at_unit.filter(tags=rule.tag).exclude(tags__in=tagged_ids)
        changed += _paint(WorkOrder.objects.filter(pk__in=scope.values("pk")), colour_conditions(rule, now))
        tagged_ids.append(rule.tag_id)
    rest = at_unit.exclude(tags__in=tagged_ids) if tagged_ids else at_unit
    changed += _paint(WorkOrder.objects.filter(pk__in=rest.values("pk")) if tagged_ids else rest,
                      colour_conditions(default_rule(), now))  # fmt: skip

    callback = orders.filter(state=State.PENDING_CALLBACK)
    changed += _paint(callback, {
        Warning.RED: Q(callback_due_at__lt=now),
        Warning.GREEN: Q(callback_due_at__gte=now) | Q(callback_due_at__isnull=True),
    })  # fmt: skip
    changed += orders.filter(state=State.PENDING_DISPATCH).exclude(warning=Warning.GREEN).update(warning=Warning.GREEN)
    changed += orders.filter(state=State.ARCHIVED).exclude(warning=None).update(warning=None)
    return changed
