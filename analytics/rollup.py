"""The roll-up: what each counter counts, and keeping `OrderFact` and `RollupCell` in step with the orders.

Each counter is defined once here (`COUNTER_SOURCES`): which records it counts, on which date, under which
condition. `OrderFact` holds each order's counts per day with the order's dimensions; `RollupCell` sums them per
day and per month for each grain of `GRAINS` (a few dimensions each). The indicators read the coarsest table that
has the dimensions they need; the drill-down lists (`orders_behind`) use the very same definitions, so a number
and the list behind it always agree.

`refresh()` runs every minute (system/schedule.py):
1. claim the run by moving the watermark with a conditional UPDATE (another scheduler's run gets 0 rows);
2. find the orders changed since the previous watermark (minus a safety margin for slow transactions) and those
   put under a supervision order since then;
3. for each batch of them: compute their facts anew from the source tables, replace their old facts, and add the
   difference (new minus old) to every cell it touches, one upsert per cell;
all in the same transaction as the claim, so a failed run leaves the watermark, the facts and the cells as they
were. Its cost follows the number of orders changed, not the number of orders or days.
"""

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, models, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from analytics.models import COUNTERS, OrderFact, RollupCell, RollupState, Span
from orders.models import (
    Action,
    Callback,
    Closure,
    ContactResult,
    ExtensionRequest,
    NonAcceptanceRequest,
    OrderEvent,
    RequestStatus,
    ReturnRequest,
    Satisfaction,
    WorkOrder,
)
from supervision.models import SupervisionOrder

STATE = "daily"
SAFETY_MARGIN = timedelta(minutes=5)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

# The order's dimensions as stored on a fact or cell, by the path from the WorkOrder.
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
    # 提级办理: escalations made that day; 不予受理: non-acceptance requests approved that day
    "escalated": Source(OrderEvent, "order__", "created_at", Q(action=Action.ESCALATE)),
    "not_accepted": Source(NonAcceptanceRequest, "order__", "decided_at", Q(status=RequestStatus.APPROVED)),
}
assert set(COUNTER_SOURCES) == set(COUNTERS)


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime.combine(start, time.min, tz), datetime.combine(end, time.min, tz)


# The grains of the roll-up cells: each a few dimensions, summed per day and per month. Indicators use the first
# grain that has every dimension a query filters or groups by, else the per-order facts.
GRAINS: dict[str, tuple[str, ...]] = {
    "total": (),
    "unit": ("unit_id", "unit_path"),
    "category": ("category1_id", "category2_id", "category3_id"),
    "area": ("area_id", "area_path"),
    "kind": ("channel", "request_type_id", "is_enterprise"),
    "unit_category": ("unit_id", "unit_path", "category1_id", "category2_id", "category3_id"),
    "category_area": ("category1_id", "category2_id", "category3_id", "area_id", "area_path"),
    "unit_area": ("unit_id", "unit_path", "area_id", "area_path"),
}
TEXT = {"unit_path", "area_path", "channel"}  # NOT NULL text columns: an order without a unit or area gives ""
BATCH = 2000


def _seconds_sql(column: str) -> str:
    """SQL turning a sum of durations into whole seconds: an interval on PostgreSQL, microseconds on SQLite."""
    if connection.vendor == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"
    return f"CAST({column} / 1000000 AS INTEGER)"


def insert_facts(ids: list[int] | None = None, *, after: int = 0, upto: int = 0) -> int:
    """Compute the facts of the orders ``ids`` (or of the ids after … upto) from the source tables and insert them,
    in one INSERT … SELECT: each counter's grouped query, side by side (UNION ALL), summed per order, day and
    dimensions. The database does the work, so rebuilding millions of orders moves no rows through Python; the
    ids are compared on each source table's own order column, so a batch reads only its orders' rows through
    their indexes, whatever the size of the tables. Returns the facts inserted."""
    tz = timezone.get_current_timezone()
    q = connection.ops.quote_name
    dims = [f"d_{key}" for key in DIMENSIONS]

    def orders_q(path: str) -> Q:
        return Q(**{f"{path}__in": ids}) if ids is not None else Q(**{f"{path}__gt": after, f"{path}__lte": upto})

    parts, params = [], []
    for name, source in COUNTER_SOURCES.items():
        # Aliased: "channel", "area_id" … are also field names of the source models.
        grouped = (
            source.records()
            .filter(orders_q(source.order_path("pk")), **{f"{source.date}__isnull": False})
            .values(o=F(source.order_path("pk")), day=TruncDate(source.date, tzinfo=tz),
                    **{f"d_{key}": F(source.order_path(path)) for key, path in DIMENSIONS.items()})
            .annotate(v=source.value or Count("pk"))
            .order_by()
        )  # fmt: skip
        sql, sql_params = grouped.query.sql_with_params()
        value = _seconds_sql(q("v")) if name == "handling_seconds" else q("v")
        counters = ", ".join(f"{value if n == name else 0} AS {q(n)}" for n in COUNTERS)
        parts.append(f"SELECT {q('o')}, {q('day')}, {', '.join(q(d) for d in dims)}, {counters} FROM ({sql}) s")  # noqa: S608
        params.extend(sql_params)
    keys = [q("o"), q("day"), *(q(d) for d in dims)]
    selected = [
        q("o"), q("day"),
        *(f"COALESCE({q(f'd_{key}')}, '')" if key in TEXT else q(f"d_{key}") for key in DIMENSIONS),
        *(f"SUM({q(n)})" for n in COUNTERS),
    ]  # fmt: skip
    columns = ["order_id", "day", *DIMENSIONS, *COUNTERS]
    # table and column names come from the models, every value is a parameter
    sql = (
        f"INSERT INTO {q(OrderFact._meta.db_table)} ({', '.join(q(c) for c in columns)}) "  # noqa: S608
        f"SELECT {', '.join(selected)} FROM ({' UNION ALL '.join(parts)}) u GROUP BY {', '.join(keys)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _month(day: date) -> date:
    return day.replace(day=1)


def _cells(rows: Iterable[dict], sign: int, into: dict) -> None:
    """Add ``sign`` × each row's counters to the cells it belongs to, per grain and span."""
    for row in rows:
        for grain, dims in GRAINS.items():
            values = tuple(row[d] for d in dims)
            for span, day in ((Span.DAY, row["day"]), (Span.MONTH, _month(row["day"]))):
                cell = into.get((grain, span, day, values))
                if cell is None:
                    cell = into[(grain, span, day, values)] = dict.fromkeys(COUNTERS, 0)
                for name in COUNTERS:
                    cell[name] += sign * (row[name] or 0)


def _key(values: tuple) -> str:
    return "|".join("" if v is None else str(int(v)) if isinstance(v, bool) else str(v) for v in values)


def _upsert(cells: dict) -> None:
    """Add each cell's counters to the stored cell, creating it if needed: one statement per batch of cells."""
    table = RollupCell._meta.db_table
    dims = list(DIMENSIONS)
    columns = ["grain", "span", "day", "key", *dims, *COUNTERS]
    adds = ", ".join(f"{n} = {table}.{n} + excluded.{n}" for n in COUNTERS)
    # table and column names come from the model, the values are parameters
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "  # noqa: S608
        f"ON CONFLICT (grain, span, day, key) DO UPDATE SET {adds}"
    )
    params = []
    for (grain, span, day, values), counts in cells.items():
        if not any(counts.values()):
            continue
        row = dict.fromkeys(dims)
        row.update(zip(GRAINS[grain], values, strict=True))
        dim_values = [(row[d] or "") if d in TEXT else (bool(row[d]) if d == "is_enterprise" else row[d]) for d in dims]
        params.append([grain, span, day, _key(values), *dim_values, *(counts[n] for n in COUNTERS)])
    with connection.cursor() as cursor:
        for i in range(0, len(params), 1000):
            cursor.executemany(sql, params[i : i + 1000])


def update_orders(ids: list[int]) -> int:
    """Recompute the facts of these orders and move the cells by the difference; returns the facts written."""
    written = 0
    for i in range(0, len(ids), BATCH):
        chunk = ids[i : i + BATCH]
        facts = OrderFact.objects.filter(order_id__in=chunk)
        cells: dict = {}
        _cells(facts.values("day", *DIMENSIONS, *COUNTERS), -1, cells)
        facts.delete()
        written += insert_facts(chunk)
        _cells(facts.values("day", *DIMENSIONS, *COUNTERS), 1, cells)
        _upsert(cells)
    return written


def rebuild(batch: int = 20_000, progress=None, jobs: int = 1) -> int:
    """Every fact and cell computed anew from the source tables, by ranges of order ids; returns the facts.

    On PostgreSQL the facts' secondary indexes are dropped while the facts are written and built again after
    (one sort each instead of millions of index insertions), and ``jobs`` threads, each with its own connection,
    take the ranges in turn; each range is its own transaction. A rebuild that fails leaves an incomplete roll-up:
    run it again."""
    postgres = connection.vendor == "postgresql"
    jobs = max(1, jobs) if postgres else 1
    with transaction.atomic():
        if postgres:
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (OrderFact, RollupCell))
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {tables}")
        else:
            OrderFact.objects.all().delete()
            RollupCell.objects.all().delete()
    top = WorkOrder.objects.aggregate(m=models.Max("pk"))["m"] or 0
    ranges = iter(range(0, top, batch))
    lock = threading.Lock()
    done = {"upto": 0, "facts": 0}

    def work() -> None:
        try:
            while True:
                with lock:
                    last = next(ranges, None)
                if last is None:
                    return
                with transaction.atomic():
                    written = insert_facts(after=last, upto=last + batch)
                with lock:
                    done["upto"] = max(done["upto"], min(last + batch, top))
                    done["facts"] += written
                    if progress:
                        progress(done["upto"], top, done["facts"])
        finally:
            if threading.current_thread() is not main:
                connection.close()

    main = threading.current_thread()
    indexes = list(OrderFact._meta.indexes) if postgres else []
    if indexes:
        with connection.schema_editor(atomic=False) as editor:
            for index in indexes:
                editor.execute(f"DROP INDEX IF EXISTS {editor.quote_name(index.name)}")
    try:
        if jobs == 1:
            work()
        else:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                for future in [pool.submit(work) for _ in range(jobs)]:
                    future.result()
    finally:
        if indexes:
            with connection.schema_editor(atomic=False) as editor:
                for index in indexes:
                    editor.add_index(OrderFact, index)
    with transaction.atomic():
        build_cells()
    return done["facts"]


def _key_sql(column: str) -> str:
    """SQL spelling a dimension's value as `_key` does: '' for none, 0/1 for the enterprise flag."""
    q = connection.ops.quote_name(column)
    if column == "is_enterprise":
        return f"CASE WHEN {q} THEN '1' ELSE '0' END"
    return f"COALESCE(CAST({q} AS TEXT), '')"


def build_cells() -> int:
    """Every cell summed in the database, grain by grain, each grain and span one INSERT … SELECT (days from the
    facts, months from the days just written); returns the cells written."""
    RollupCell.objects.all().delete()
    q = connection.ops.quote_name
    columns = ["grain", "span", "day", "key", *DIMENSIONS, *COUNTERS]
    written = 0
    if connection.vendor == "postgresql" and connection.in_atomic_block:  # big groupings hash in memory, not on disk
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
    for grain, dims in GRAINS.items():
        for span in Span:
            bucket = F("day") if span == Span.DAY else TruncMonth("day")
            sums = {f"s_{n}": Sum(n) for n in COUNTERS}
            # the day cells from the facts; the month cells from the grain's day cells, a fraction of the rows
            days = RollupCell.objects.filter(grain=grain, span=Span.DAY)
            rows = OrderFact.objects.all() if span == Span.DAY else days
            grouped = rows.values(*dims, b=bucket).annotate(**sums).order_by()
            sql, sub_params = grouped.query.sql_with_params()
            params: list = [grain, span.value]
            selected = ["%s", "%s", q("b"), " || '|' || ".join(_key_sql(d) for d in dims) or "''"]
            for d in DIMENSIONS:
                if d in dims:
                    selected.append(q(d))
                elif d == "is_enterprise":
                    selected.append("%s")
                    params.append(False)
                else:
                    selected.append("''" if d in TEXT else "NULL")
            selected += [f"COALESCE({q(f's_{n}')}, 0)" for n in COUNTERS]
            # table and column names come from the models, every value is a parameter
            insert = (
                f"INSERT INTO {q(RollupCell._meta.db_table)} ({', '.join(q(c) for c in columns)}) "  # noqa: S608
                f"SELECT {', '.join(selected)} FROM ({sql}) s"
            )
            with connection.cursor() as cursor:
                cursor.execute(insert, [*params, *sub_params])
                written += cursor.rowcount
    return written


def changed_orders(since: datetime) -> list[int]:
    """The orders changed since ``since``, and those put under a supervision order since then."""
    ids = set(WorkOrder.objects.filter(updated_at__gte=since).order_by().values_list("pk", flat=True))
    supervised = SupervisionOrder.orders.through.objects.filter(supervisionorder__issued_at__gte=since)
    ids |= set(supervised.values_list("workorder_id", flat=True))
    return sorted(ids)


def refresh(now: datetime | None = None) -> int | None:
    """Bring the roll-up up to date; the number of orders recomputed, None when another run holds the claim."""
    now = now or timezone.now()
    with transaction.atomic():
        state, _ = RollupState.objects.get_or_create(name=STATE, defaults={"watermark": EPOCH})
        if RollupState.objects.filter(name=STATE, watermark=state.watermark).update(watermark=now) != 1:
            return None
        ids = changed_orders(state.watermark - SAFETY_MARGIN)
        update_orders(ids)
        return len(ids)


def orders_behind(counter: str, start: date, end: date) -> models.QuerySet:
    """The orders a counter counts on the days start … end - 1: the list behind a number on a dashboard."""
    source = COUNTER_SOURCES[counter]
    low, high = day_bounds(start, end)
    records = source.records().filter(**{f"{source.date}__gte": low, f"{source.date}__lt": high})
    if source.model is WorkOrder:  # the orders themselves: filtered directly, so the received_at index serves
        return records
    return WorkOrder.objects.filter(pk__in=records.values(source.order_path("pk").replace("__pk", "_id")))
