"""赋色预警: the colour of every open order, recomputed in a fixed number of UPDATE statements.

At the unit (待签收, 办理中), per warning rule (the rule of the order's tag, else the default):
- red     overdue (past ``due_at``), or not signed ``red_hours`` after dispatch;
- orange  not signed ``orange_hours`` after dispatch;
- yellow  less than ``yellow_share`` of the allowed time (``limit_started_at`` → ``due_at``) left;
- green   otherwise.
待回访 is red once the callback is overdue, else green; 待派发 is green; closed orders have none.
Hours after dispatch are calendar hours; deadlines were already counted on the working-day calendar.

No order is loaded into Python: all orders at units are recoloured by one
``UPDATE … SET warning = CASE … END WHERE warning IS DISTINCT FROM CASE … END``, so neither the work per
order nor the number of queries grows in a loop.
"""

from datetime import datetime, timedelta

from django.db.models import Case, Exists, F, FloatField, Func, IntegerField, OuterRef, Q, Value, When
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
    """The condition of each colour under ``rule`` at ``now``, most severe first (each holds only if the ones
    before it do not: they are the branches of one CASE)."""
    red_since = now - timedelta(hours=float(rule.red_hours))
    orange_since = now - timedelta(hours=float(rule.orange_hours))
    share = float(rule.yellow_share)
    # due - now < share × (due - start)  ⇔  (1 − share)·due + share·start < now
    yellow = LessThan(
        Value(1 - share) * Epoch(F("due_at")) + Value(share) * Epoch(F("limit_started_at")), Value(now.timestamp())
    )
    return {
        Warning.RED: Q(due_at__lt=now) | Q(state=State.PENDING_SIGN, dispatched_at__lte=red_since),
        Warning.ORANGE: Q(state=State.PENDING_SIGN, dispatched_at__lte=orange_since),
        Warning.YELLOW: Q(yellow, limit_started_at__isnull=False, due_at__isnull=False),
    }


def _has_tag(tag_id: int) -> Exists:
    return Exists(WorkOrder.tags.through.objects.filter(workorder_id=OuterRef("pk"), tag_id=tag_id))


def colour_at_unit(now: datetime) -> Case:
    """One CASE over every rule: a tag rule's branches first (for orders carrying the tag), then the default's."""
    branches = []
    for rule in WarningRule.objects.exclude(tag=None).order_by("pk"):
        has_tag = _has_tag(rule.tag_id)
        branches += [
            When(has_tag & condition, then=Value(colour)) for colour, condition in colour_conditions(rule, now).items()
        ]
        branches.append(When(has_tag, then=Value(Warning.GREEN)))
    branches += [
        When(condition, then=Value(colour)) for colour, condition in colour_conditions(default_rule(), now).items()
    ]
    return Case(*branches, default=Value(Warning.GREEN), output_field=IntegerField())


def recompute(now: datetime | None = None) -> int:
    """Recolour every order whose colour changed; returns how many rows changed.

    Five statements whatever the number of orders or rules; ``warning`` is deliberately not indexed, so
    that PostgreSQL can update it in place (HOT) without touching the order table's other indexes."""
    now = now or timezone.now()
    orders = WorkOrder.objects.all()
    colour = colour_at_unit(now)
    changed = orders.filter(state__in=AT_UNIT).exclude(warning=colour).update(warning=colour)
    callback = Case(When(callback_due_at__lt=now, then=Value(Warning.RED)), default=Value(Warning.GREEN),
                    output_field=IntegerField())  # fmt: skip
    changed += orders.filter(state=State.PENDING_CALLBACK).exclude(warning=callback).update(warning=callback)
    changed += orders.filter(state=State.PENDING_DISPATCH).exclude(warning=Warning.GREEN).update(warning=Warning.GREEN)
    changed += orders.filter(state=State.ARCHIVED, warning__isnull=False).update(warning=None)
    return changed
