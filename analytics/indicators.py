"""考核指标: every indicator is defined here, once; dashboards, reports, rankings and exports call these functions.

The counters come from the roll-up (analytics/rollup.py says what each one counts and on which day): the cells of
the coarsest grain that has the dimensions a question needs, whole months from the monthly cells and the days at
either end from the daily ones, else the per-order facts;
the rates are ratios of counters, over a period of days and any filter of the order's dimensions:
- 受理量 received          orders received;
- 直办率 direct            orders closed 直接办结 at intake ÷ received;
- 响应率 response          orders dispatched and signed within the sign limit ÷ dispatched;
- 按时办结率 on-time        orders a unit finished by their deadline ÷ finished;
- 解决率 resolution        valid callbacks (citizen reached) saying resolved ÷ valid callbacks;
- 满意率 satisfaction      valid callbacks 满意 or 基本满意 ÷ valid callbacks;
- 退单率 / 重办率 / 延期率  return requests / reopenings / extension requests ÷ dispatched;
- 督办量 supervised         orders put under a supervision order;
- 提级量 escalated          escalations (提级办理) of orders to a higher unit, on the day of each;
- 不予受理量 not_accepted    non-acceptance requests approved, on the day of the decision;
- 平均办理时长             hours from dispatch to reply, averaged over the orders finished;
- 综合得分 composite        100 × (w₁·响应率 + w₂·解决率 + w₃·满意率), weights from the setting ``kpi_weights``.
同比 compares with the same days a year earlier, 环比 with the same number of days just before.
A rate with nothing to divide by is None (no data), never 0.
"""

from dataclasses import dataclass, field, make_dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth, TruncWeek, TruncYear

from analytics.models import COUNTERS, OrderFact, RollupCell, Span
from analytics.rollup import GRAINS
from orders.models import Channel
from system.config import get_setting


def parse_weights(text: str) -> tuple[Decimal, Decimal, Decimal]:
    try:
        weights = tuple(Decimal(part.strip()) for part in text.split(","))
    except ArithmeticError as exc:
        raise ValueError("权重必须是小数") from exc
    if len(weights) != 3 or any(w < 0 for w in weights) or sum(weights) != 1:
        raise ValueError("需要三个非负小数，且和为 1，如 0.10,0.45,0.45")
    return weights


def weights() -> tuple[Decimal, Decimal, Decimal]:
    return get_setting("kpi_weights")


def ratio(part: int, whole: int) -> Decimal | None:
    return None if not whole else Decimal(part) / Decimal(whole)


class Rates:
    """The indicators of a set of counters (see the module docstring)."""

    @property
    def direct_rate(self) -> Decimal | None:
        return ratio(self.direct, self.received)

    @property
    def response_rate(self) -> Decimal | None:
        return ratio(self.responded, self.dispatched)

    @property
    def on_time_rate(self) -> Decimal | None:
        return ratio(self.on_time, self.finished)

    @property
    def resolution_rate(self) -> Decimal | None:
        return ratio(self.resolved, self.valid_callbacks)

    @property
    def satisfaction_rate(self) -> Decimal | None:
        return ratio(self.satisfied, self.valid_callbacks)

    @property
    def return_rate(self) -> Decimal | None:
        return ratio(self.returns, self.dispatched)

    @property
    def reopen_rate(self) -> Decimal | None:
        return ratio(self.reopens, self.dispatched)

    @property
    def extension_rate(self) -> Decimal | None:
        return ratio(self.extensions, self.dispatched)

    @property
    def average_handling_hours(self) -> Decimal | None:
        if not self.finished:
            return None
        return (Decimal(self.handling_seconds) / self.finished / 3600).quantize(Decimal("0.1"))

    def composite(self, weights: tuple[Decimal, Decimal, Decimal] | None = None) -> Decimal | None:
        """综合得分 out of 100; None unless all three rates have data."""
        rates = (self.response_rate, self.resolution_rate, self.satisfaction_rate)
        if any(r is None for r in rates):
            return None
        weights = weights or get_setting("kpi_weights")
        return (sum(w * r for w, r in zip(weights, rates, strict=True)) * 100).quantize(Decimal("0.01"))


_COUNTER_FIELDS = [(name, int, field(default=0)) for name in COUNTERS]
Counts = make_dataclass("Counts", _COUNTER_FIELDS, bases=(Rates,))
UnitScore = make_dataclass("UnitScore", [("unit_id", int), ("unit_name", str), *_COUNTER_FIELDS], bases=(Rates,))


@dataclass(frozen=True)
class Filters:
    """Which orders: a unit (with its sub-units or alone), a category at any level, an area (with everything
    under it), a channel, a request type, enterprise or not. Unset means all."""

    unit: object = None
    sub_units: bool = True
    category: object = None
    area: object = None
    channel: str = ""
    request_type: object = None
    enterprise: bool | None = None

    def q(self) -> Q:
        q = Q()
        if self.unit is not None:
            q &= Q(unit_path__startswith=self.unit.path) if self.sub_units else Q(unit=self.unit)
        if self.category is not None:
            q &= Q(**{f"category{self.category.level}": self.category})
        if self.area is not None:
            q &= Q(area_path__startswith=self.area.path)
        if self.channel:
            q &= Q(channel=self.channel)
        if self.request_type is not None:
            q &= Q(request_type=self.request_type)
        if self.enterprise is not None:
            q &= Q(is_enterprise=self.enterprise)
        return q

    def dims(self) -> set[str]:
        """The roll-up columns these filters read."""
        dims = set()
        if self.unit is not None:
            dims.add("unit_path" if self.sub_units else "unit_id")
        if self.category is not None:
            dims.add(f"category{self.category.level}_id")
        if self.area is not None:
            dims.add("area_path")
        if self.channel:
            dims.add("channel")
        if self.request_type is not None:
            dims.add("request_type_id")
        if self.enterprise is not None:
            dims.add("is_enterprise")
        return dims

    def order_q(self) -> Q:
        """The same choice over work orders: the orders behind a number computed with these filters."""
        q = Q()
        if self.unit is not None:
            q &= Q(lead_unit__path__startswith=self.unit.path) if self.sub_units else Q(lead_unit=self.unit)
        if self.category is not None:
            q &= Q(**{CATEGORY_PATHS[self.category.level]: self.category})
        if self.area is not None:
            q &= Q(area__path__startswith=self.area.path)
        if self.channel:
            q &= Q(channel=self.channel)
        if self.request_type is not None:
            q &= Q(request_type=self.request_type)
        if self.enterprise is not None:
            q &= Q(is_enterprise=self.enterprise)
        return q


# The order's path to its category of each level (the order's own category is a leaf, level 3).
CATEGORY_PATHS = {3: "category", 2: "category__parent", 1: "category__parent__parent"}


ALL = Filters()
SUMS = {name: Sum(name) for name in COUNTERS}

# Breakdown dimensions: the roll-up column and the name shown for it.
DIMENSIONS = {
    "unit": ("unit", "unit__name"),
    "category1": ("category1", "category1__name"),
    "category2": ("category2", "category2__full_name"),
    "category3": ("category3", "category3__full_name"),
    "area": ("area", "area__name"),
    "channel": ("channel", None),
    "request_type": ("request_type", "request_type__name"),
    "enterprise": ("is_enterprise", None),
}
PERIODS = {"week": TruncWeek, "month": TruncMonth, "year": TruncYear}
CHANNELS = dict(Channel.choices)


def _counts(row: dict, cls=Counts, **extra):
    return cls(**extra, **{name: row.get(name) or 0 for name in COUNTERS})


FOREIGN_KEYS = {"unit", "category1", "category2", "category3", "area", "request_type"}  # grouped by as "<name>_id"


def _grain(dims: set[str]) -> str | None:
    """The first grain whose cells carry every one of ``dims``; None when only the per-order facts do."""
    return next((grain for grain, has in GRAINS.items() if dims <= set(has)), None)


def _month_after(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _rows(start: date, end: date, filters: Filters, by: tuple[str, ...] = (), daily: bool = False):
    """The roll-up rows to sum for the days start … end - 1 (end exclusive) under ``filters``, grouped later by
    the columns ``by``: cells of the coarsest grain that has them, whole months from the monthly cells unless
    ``daily``; the per-order facts when no grain has the dimensions."""
    dims = filters.dims() | {f"{c}_id" if c in FOREIGN_KEYS else c for c in by}
    grain = _grain(dims)
    if grain is None:
        return OrderFact.objects.filter(filters.q(), day__gte=start, day__lt=end)
    cells = RollupCell.objects.filter(filters.q(), grain=grain)
    first = start if start.day == 1 else _month_after(start)
    last = end.replace(day=1)
    if daily or first >= last:
        return cells.filter(span=Span.DAY, day__gte=start, day__lt=end)
    return cells.filter(
        Q(span=Span.MONTH, day__gte=first, day__lt=last)
        | Q(span=Span.DAY, day__gte=start, day__lt=first)
        | Q(span=Span.DAY, day__gte=last, day__lt=end)
    )


def totals(start: date, end: date, filters: Filters = ALL) -> Counts:
    return _counts(_rows(start, end, filters).aggregate(**SUMS))


def breakdown(dimension: str, start: date, end: date, filters: Filters = ALL) -> list[tuple[object, str, Counts]]:
    """(key, label, counts) per value of the dimension, largest 受理量 first."""
    column, label = DIMENSIONS[dimension]
    names = [column, label] if label else [column]
    rows = _rows(start, end, filters, by=(column,)).values(*names).annotate(**SUMS).order_by("-received", column)
    result = []
    for row in rows:
        key = row[column]
        text = row[label] if label else key
        if dimension == "channel":
            text = CHANNELS.get(key, key or "—")
        elif dimension == "enterprise":
            text = "涉企" if key else "非涉企"
        result.append((key, text if text not in (None, "") else "未指定", _counts(row)))
    return result


def _sum_by_owner(rows, path_field: str, owner_of) -> dict[object, dict]:
    """Counter sums of roll-up rows grouped by ``path_field``, added up per ``owner_of(path)`` (skipped when None)."""
    sums: dict[object, dict] = {}
    for row in rows:
        owner = owner_of(row[path_field])
        if owner is None:
            continue
        target = sums.setdefault(owner, {name: 0 for name in COUNTERS})
        for name in COUNTERS:
            target[name] += row[name] or 0
    return sums


def sub_unit_breakdown(unit, start: date, end: date, filters: Filters = ALL) -> list[tuple[object, str, Counts]]:
    """(unit, label, counts) for the orders a unit leads itself ("本级") and for each direct sub-unit with its own
    subtree, largest 受理量 first; the sum over the rows is the unit's total with sub-units."""
    children = list(unit.children.all())
    chosen = replace(filters, unit=unit, sub_units=True)
    rows = _rows(start, end, chosen, by=("unit_path",)).values("unit_path").annotate(**SUMS)
    sums = _sum_by_owner(rows, "unit_path", lambda path: next((c for c in children if path.startswith(c.path)), unit))
    result = [(owner, "本级" if owner == unit else owner.name, _counts(row)) for owner, row in sums.items()]
    return sorted(result, key=lambda r: (-r[2].received, r[0].path))


def area_breakdown(start: date, end: date, filters: Filters = ALL) -> list[tuple[object, str, Counts]]:
    """(area, label, counts) per 区/县: an order placed in a street or a community counts for the district above it,
    so that the rows are peers (an order's area is a district or lies under one); orders without an area have no
    row. Largest 受理量 first."""
    from org.models import Unit, UnitKind

    districts = list(Unit.objects.filter(kind=UnitKind.DISTRICT))
    rows = _rows(start, end, filters, by=("area_path",)).values("area_path").annotate(**SUMS)
    sums = _sum_by_owner(
        rows, "area_path", lambda path: next((d for d in districts if path and path.startswith(d.path)), None)
    )
    result = [(area, area.name, _counts(row)) for area, row in sums.items()]
    return sorted(result, key=lambda r: (-r[2].received, r[0].path))


def series(period: str, start: date, end: date, filters: Filters = ALL) -> list[tuple[date, Counts]]:
    """Counts per day, week (from Monday), month or year."""
    rows = _rows(start, end, filters, daily=period in ("day", "week"))
    if period == "day":
        grouped = rows.values("day").annotate(**SUMS).order_by("day")
        return [(row["day"], _counts(row)) for row in grouped]
    grouped = rows.annotate(bucket=PERIODS[period]("day")).values("bucket").annotate(**SUMS).order_by("bucket")
    return [(row["bucket"] if isinstance(row["bucket"], date) else row["bucket"].date(), _counts(row))
            for row in grouped]  # fmt: skip


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass
class Comparison:
    current: Counts
    previous: Counts  # 环比: the same number of days just before
    last_year: Counts  # 同比: the same days a year earlier

    @staticmethod
    def change(now: Decimal | int | None, before: Decimal | int | None) -> Decimal | None:
        """Relative change of a count, or of a rate in percentage points is the caller's choice: here relative."""
        if now is None or before in (None, 0):
            return None
        return (Decimal(now) - Decimal(before)) / Decimal(before)


def compare(start: date, end: date, filters: Filters = ALL) -> Comparison:
    length = end - start
    return Comparison(
        totals(start, end, filters),
        totals(start - length, start, filters),
        totals(_year_before(start), _year_before(end), filters),
    )


def unit_scores(start: date, end: date) -> list:
    """The counters of every lead unit with activity on the days start … end - 1."""
    rows = (
        _rows(start, end, ALL, by=("unit",))
        .filter(unit__isnull=False)
        .values("unit", "unit__name")
        .annotate(**SUMS)
        .order_by("unit__name")
    )
    return [_counts(row, UnitScore, unit_id=row["unit"], unit_name=row["unit__name"]) for row in rows]


@dataclass
class DirectRate:
    key: object
    received: int
    direct: int

    @property
    def rate(self) -> Decimal | None:
        return ratio(self.direct, self.received)


def direct_answer_rates(start: date, end: date, by: str = "request_type") -> list[DirectRate]:
    """直办率 of the orders received on the days start … end - 1, per value of a breakdown dimension."""
    return [DirectRate(label, c.received, c.direct) for _, label, c in breakdown(by, start, end)]
