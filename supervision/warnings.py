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

Incremental: each order carries ``warning_due``, the instant (Unix seconds) from which its colour may change —
the next of its yellow, orange, red and deadline edges under its rule. A run recolours only the orders whose
instant has come or that have none (new orders, and every transition clears it; so does a change of the
warning rules or of an order's tags), through the indexed ``warning_due``. A run therefore costs what changed,
not the number of open orders; ``recompute(full=True)`` recolours every order as the first run after an
upgrade does.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, Exists, F, FloatField, Func, IntegerField, OuterRef, Q, Value, When
from django.db.models.functions import Least
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.utils import timezone

from orders.models import State, Warning, WorkOrder
from supervision.models import WarningRule
from system.dbfunctions import Epoch

AT_UNIT = (State.PENDING_SIGN, State.IN_PROGRESS)


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


FAR = 1e11  # an instant no order reaches: nothing can change until a transition clears ``warning_due``


def _next(instants: list[tuple[Q | None, Any]], now: float) -> Func:
    """The earliest of ``instants`` (epoch expressions, each counted only where its condition holds) that is not
    before ``now`` less a second, else FAR. An edge that has just come is kept, so it is looked at again once it
    has surely passed: SQLite's epoch arithmetic is off by microseconds, and an edge must never be skipped."""
    later = []
    for condition, instant in instants:
        when = Q(GreaterThanOrEqual(instant, Value(now - 1.0)))
        if condition is not None:
            when &= condition
        later.append(Case(When(when, then=instant), default=Value(FAR), output_field=FloatField()))
    return Least(*later) if len(later) > 1 else later[0]


def next_change_at_unit(rule: WarningRule, now: float) -> Func:
    """When the colour of an order at its unit can next change under ``rule``: the mirror of ``colour_conditions``."""
    share = float(rule.yellow_share)
    dates = Q(limit_started_at__isnull=False, due_at__isnull=False)
    unsigned = Q(state=State.PENDING_SIGN, dispatched_at__isnull=False)
    return _next(
        [
            (dates, Value(1 - share) * Epoch(F("due_at")) + Value(share) * Epoch(F("limit_started_at"))),
            (Q(due_at__isnull=False), Epoch(F("due_at"))),
            (unsigned, Epoch(F("dispatched_at")) + Value(float(rule.orange_hours) * 3600)),
            (unsigned, Epoch(F("dispatched_at")) + Value(float(rule.red_hours) * 3600)),
        ],
        now,
    )


def next_change(now: float) -> Case:
    """``next_change_at_unit`` under each order's rule, in the same order of branches as ``colour_at_unit``."""
    branches = [
        When(_has_tag(rule.tag_id), then=next_change_at_unit(rule, now))
        for rule in WarningRule.objects.exclude(tag=None).order_by("pk")
    ]
    return Case(*branches, default=next_change_at_unit(default_rule(), now), output_field=FloatField())


def due(now: datetime) -> Q:
    """Orders whose colour must be looked at: never computed since their last change, or at one of their edges."""
    return Q(warning_due__isnull=True) | Q(warning_due__lte=now.timestamp())


def invalidate(orders=None) -> int:
    """Have the next run recolour ``orders`` (default: every order not archived), e.g. after a rule changed."""
    if orders is None:
        orders = WorkOrder.objects.exclude(state=State.ARCHIVED)
    return orders.update(warning_due=None)


def recompute(now: datetime | None = None, *, full: bool = False) -> int:
    """Recolour the orders that are due (every order with ``full``); returns how many changed colour.

    Twelve statements whatever the number of orders or rules: the rules read for the colour and for the next
    instant, then for each group of states one UPDATE of the rows whose colour changed and one that moves the
    others' ``warning_due`` on. ``warning`` is deliberately not
    indexed, so that PostgreSQL can update it in place (HOT) without touching the order table's other indexes."""
    now = now or timezone.now()
    stamp = now.timestamp()
    orders = WorkOrder.objects.all() if full else WorkOrder.objects.filter(due(now))
    callback = Case(When(callback_due_at__lt=now, then=Value(Warning.RED)), default=Value(Warning.GREEN),
                    output_field=IntegerField())  # fmt: skip
    groups = [
        (orders.filter(state__in=AT_UNIT), colour_at_unit(now), next_change(stamp)),
        (
            orders.filter(state=State.PENDING_CALLBACK),
            callback,
            _next([(Q(callback_due_at__isnull=False), Epoch(F("callback_due_at")))], stamp),
        ),
        (orders.filter(state=State.PENDING_DISPATCH), Value(Warning.GREEN), Value(FAR)),
        (orders.filter(state=State.ARCHIVED), None, Value(FAR)),
    ]
    changed = 0
    for rows, colour, until in groups:
        if colour is None:
            changed += rows.filter(warning__isnull=False).update(warning=None, warning_due=until)
        else:
            changed += rows.exclude(warning=colour).update(warning=colour, warning_due=until)
        # the rows whose colour held: only their next instant moves on (the ones just updated are not due any more)
        rows.update(warning_due=until)
    return changed


def _rules_changed(**kwargs) -> None:
    invalidate()


def _tags_changed(instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    if not action.startswith("post_"):
        return
    if reverse:  # tag.workorder_set changed: the orders are pk_set (all of the tag's orders on clear)
        orders = WorkOrder.objects.filter(pk__in=pk_set) if pk_set else WorkOrder.objects.filter(tags=instance)
        invalidate(orders.exclude(state=State.ARCHIVED))
    else:
        invalidate(WorkOrder.objects.filter(pk=instance.pk))


def connect() -> None:
    """Changes that move an order's colour edges without a transition clear ``warning_due`` too."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    post_save.connect(_rules_changed, sender=WarningRule, dispatch_uid="warning-rule-saved")
    post_delete.connect(_rules_changed, sender=WarningRule, dispatch_uid="warning-rule-deleted")
    m2m_changed.connect(_tags_changed, sender=WorkOrder.tags.through, dispatch_uid="order-tags-changed")
