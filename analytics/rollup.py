"""The daily roll-up: what each counter counts, and keeping `DailyStat` in step with the orders.

Each counter is defined once here (`COUNTER_SOURCES`): which records it counts, on which date, under which
condition. The roll-up sums them per day and per dimension combination; the drill-down lists (`orders_behind`)
use the very same definitions, so a number and the list behind it always agree.

`refresh()` runs every minute (system/schedule.py):
1. claim the run by moving the watermark with a conditional UPDATE (another scheduler's run gets 0 rows);
2. find the orders changed since the previous watermark (minus a safety margin for slow transactions) and the
   supervision orders issued since then;
3. collect every day on which one of their counted events falls;
4. recompute those days from the source tables (delete the day's rows, insert the new ones), in the same
   transaction as the claim, so a failed run leaves the watermark where it was.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db import models, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.models import COUNTERS, DailyStat, RollupState
from orders.models import (
    Action,
    Callback,
    Closure,
    ContactResult,
    ExtensionRequest,
    OrderEvent,
    ReturnRequest,
    Satisfaction,
    WorkOrder,
)
from supervision.models import SupervisionOrder

STATE = "daily"
SAFETY_MARGIN = timedelta(minutes=5)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

# The order's dimensions as stored on a DailyStat row, by the path from the WorkOrder.
DIMENSIONS = {
    "unit_id": "lead_unit_id",
    "unit_path": "lead_unit__path",
    "category3_id": "category_id",
    "category2_id": "category__parent_id",
    "category1_id": "category__parent__parent_id",
    "area_id": "area_id",
    "area_path": "area__path",
    "channel": "channel",
    "request_type_id": "request_type_id",
    "is_enterprise": "is_enterprise",
}


@dataclass(frozen=True)
class Source:
    """A counter: the `model` records whose `date` falls on the day and that match `where`, counted (or summed)."""

    model: type[models.Model]
    order: str  # path from the model to its WorkOrder, "" for the order itself
    date: str
    where: Q = field(default_factory=Q)
    value: object = None  # aggregate; Count of records by default

    def records(self):
        return self.model.objects.filter(self.where)

    def order_path(self, name: str) -> str:
        return f"{self.order}{name}" if self.order else name


HANDLING = ExpressionWrapper(F("replied_at") - F("dispatched_at"), output_field=DurationField())
# Finished by a unit and still finished: 重办 clears the reply's result, and the order counts again when the unit
# replies anew, against its new deadline.
UNIT_FINISHED = Q(dispatched_at__isnull=False, replied_at__isnull=False) & ~Q(reply_result="")

COUNTER_SOURCES: dict[str, Source] = {
    # 受理量 and 直接办结: orders received that day
    "received": Source(WorkOrder, "", "received_at"),
    "direct": Source(WorkOrder, "", "received_at", Q(closure=Closure.DIRECT)),
    # 派单 and 响应 (signed within the sign limit): orders dispatched that day
    "dispatched": Source(WorkOrder, "", "dispatched_at"),
    "responded": Source(WorkOrder, "", "dispatched_at", Q(signed_at__isnull=False, signed_at__lte=F("sign_due_at"))),
    # 办结 by a unit, on time, and its handling time: orders replied that day
    "finished": Source(WorkOrder, "", "replied_at", UNIT_FINISHED),
    "on_time": Source(WorkOrder, "", "replied_at", UNIT_FINISHED & Q(replied_at__lte=F("due_at"))),
    "handling_seconds": Source(WorkOrder, "", "replied_at", UNIT_FINISHED, Sum(HANDLING)),
    # 回访: callbacks made that day in which the citizen was reached
    "valid_callbacks": Source(Callback, "order__", "created_at", Q(contact_result=ContactResult.REACHED)),
    "resolved": Source(Callback, "order__", "created_at", Q(contact_result=ContactResult.REACHED, resolved=True)),
    "satisfied": Source(
        Callback,
        "order__",
        "created_at",
        Q(contact_result=ContactResult.REACHED, satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASIC]),
    ),  # fmt: skip
    # 退单, 重办, 延期 requested that day
    "returns": Source(ReturnRequest, "order__", "created_at"),
    "reopens": Source(OrderEvent, "order__", "created_at", Q(action=Action.REOPEN)),
    "extensions": Source(ExtensionRequest, "order__", "created_at"),
    # 督办量: orders put under a supervision order that day
    "supervised": Source(SupervisionOrder.orders.through, "workorder__", "supervisionorder__issued_at"),
}
assert set(COUNTER_SOURCES) == set(COUNTERS)


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime.combine(start, time.min, tz), datetime.combine(end, time.min, tz)


def _seconds(value) -> int:
    if value is None:
        return 0
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return int(value) // 1_000_000  # SQLite sums durations as microseconds


def compute(start: date, end: date) -> list[DailyStat]:
    """The roll-up rows of the days start … end - 1, computed from the source tables."""
    low, high = day_bounds(start, end)
    rows: dict[tuple, dict] = {}
    tz = timezone.get_current_timezone()
    for name, source in COUNTER_SOURCES.items():
        # Aliased: "channel", "area_id" … are also field names of the source models.
        dims = {f"d_{key}": F(source.order_path(path)) for key, path in DIMENSIONS.items()}
        grouped = (
            source.records()
            .filter(**{f"{source.date}__gte": low, f"{source.date}__lt": high})
            .values(day=TruncDate(source.date, tzinfo=tz), **dims)
            .annotate(v=source.value or Count("pk"))
            .order_by()
        )
        for row in grouped:
            value = row.pop("v")
            row = {"day": row["day"], **{key: row[f"d_{key}"] for key in DIMENSIONS}}
            target = rows.setdefault(tuple(row.values()), row)
            target[name] = _seconds(value) if name == "handling_seconds" else value
    text = {"unit_path", "area_path", "channel"}  # NOT NULL text columns: an order without a unit or area gives ""
    return [DailyStat(**{k: (v or "") if k in text else v for k, v in row.items()}) for row in rows.values()]


@transaction.atomic
def rebuild(start: date, end: date) -> int:
    """Recompute the days start … end - 1; returns the number of rows written."""
    fresh = compute(start, end)
    DailyStat.objects.filter(day__gte=start, day__lt=end).delete()
    DailyStat.objects.bulk_create(fresh, batch_size=2000)
    return len(fresh)


def _days(values: Iterable[datetime | None]) -> set[date]:
    tz = timezone.get_current_timezone()
    return {timezone.localtime(v, tz).date() for v in values if v is not None}


def changed_days(since: datetime) -> set[date]:
    """Every day on which a counted event of an order changed since ``since`` falls."""
    orders = WorkOrder.objects.filter(updated_at__gte=since)
    days = set()
    for received, dispatched, replied in orders.values_list("received_at", "dispatched_at", "replied_at"):
        days |= _days((received, dispatched, replied))
    ids = orders.values("pk")
    for model in (Callback, ReturnRequest, ExtensionRequest):
        days |= _days(model.objects.filter(order__in=ids).values_list("created_at", flat=True).distinct())
    reopens = OrderEvent.objects.filter(order__in=ids, action=Action.REOPEN).values_list("created_at", flat=True)
    days |= _days(reopens)
    supervised = SupervisionOrder.objects.filter(Q(issued_at__gte=since) | Q(orders__in=ids)).values_list(
        "issued_at", flat=True
    )
    return days | _days(supervised)


def _ranges(days: set[date]) -> list[tuple[date, date]]:
    """Consecutive days as [start, end) ranges."""
    ranges: list[list[date]] = []
    for day in sorted(days):
        if ranges and ranges[-1][1] == day:
            ranges[-1][1] = day + timedelta(days=1)
        else:
            ranges.append([day, day + timedelta(days=1)])
    return [(a, b) for a, b in ranges]


def refresh(now: datetime | None = None) -> int | None:
    """Bring the roll-up up to date; the number of days recomputed, None when another run holds the claim."""
    now = now or timezone.now()
    with transaction.atomic():
        state, _ = RollupState.objects.get_or_create(name=STATE, defaults={"watermark": EPOCH})
        if RollupState.objects.filter(name=STATE, watermark=state.watermark).update(watermark=now) != 1:
            return None
        days = changed_days(state.watermark - SAFETY_MARGIN)
        for start, end in _ranges(days):
            rebuild(start, end)
        return len(days)


def orders_behind(counter: str, start: date, end: date) -> models.QuerySet:
    """The orders a counter counts on the days start … end - 1: the list behind a number on a dashboard."""
    source = COUNTER_SOURCES[counter]
    low, high = day_bounds(start, end)
    records = source.records().filter(**{f"{source.date}__gte": low, f"{source.date}__lt": high})
    if source.model is WorkOrder:
        return WorkOrder.objects.filter(pk__in=records.values("pk"))
    return WorkOrder.objects.filter(pk__in=records.values(source.order_path("pk").replace("__pk", "_id")))
