"""The hourly 监测预警 job: count orders per series, run the detector, raise or update one alert per series.

Series (``Series``), counted by ``received_at`` over every order except those closed as 无效:
- 分类 × 区域: the order's level-1 and level-2 category, each in its district (区/县, from the order's area, which
  may be a district, street or community) and citywide (全市);
- 承办单位: the lead unit;
- 涉企: enterprise orders, citywide, per level-1 category and all together.

Each run, for each active kind of check (短时激增 first, then 持续上升; thresholds from ``AlertRule`` or the
detector's defaults):
1. count the current window per series; only series with at least the minimum count are candidates, so the
   history queries are limited to the candidates' categories, units and the 涉企 flag;
2. count the same window in each baseline week and over the level span (``detector.windows``), score each
   candidate (``detector.detect``);
3. smallest and most specific series first, each finding either updates the series' alert that is not closed yet
   (numbers, window, newly seen orders) or creates one — unless more than half of its orders are already behind
   another alert (open or closed, raised within the longest window) or behind a finding kept earlier in this run:
   a burst of water complaints in A3区 raises one alert on 供水 × A3区, not a second one on 城乡建设 × A3区,
   供水 × 全市 or the water company, nor a 持续上升 alert on the same orders during the following week, nor a new
   alert on the same orders once the first has closed;
4. a new alert goes to its responsible unit's people (``notify_unit``) and to every supervisor (``notify_role``).

Responsible unit: for 分类 × 区域 and 涉企, the category's default handling unit when it has an active one, else
the district (none citywide); for a unit series, the unit itself. Handlers see the alerts of their units.

Two schedulers at once: the scheduler's claim already runs the job once per tick; beyond that, at most one
alert per kind and series is not closed (a partial unique constraint), so the loser of a concurrent insert
updates the winner's alert, and only the winner notifies. Closing is one conditional UPDATE.

Self-closing (``close_finished``): an alert none of whose orders is still open — all merged, archived or
otherwise closed — is closed, in every run and whenever its page is opened.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from alerts import detector
from alerts.models import AlertRule, Dimension, Kind, Status, TrendAlert
from categories.models import Category
from notifications.send import notify_role, notify_unit
from orders.models import OPEN_STATES, Closure, WorkOrder
from org.models import Unit, UnitKind

ROW = ("category__parent_id", "category__parent__parent_id", "area__path", "lead_unit_id", "is_enterprise")
ALERT_ORDERS = TrendAlert.orders.through
WEEK_HOURS = 7 * 24
CLOSED_REASON = "相关工单均已办结、归档或并单，预警自动关闭"
DEFAULTS = {
    Kind.BURST: (detector.BURST, detector.BURST_THRESHOLDS),
    Kind.RISE: (detector.RISE, detector.RISE_THRESHOLDS),
}


@dataclass(frozen=True)
class Series:
    dimension: str
    category_id: int | None = None
    district_id: int | None = None
    unit_id: int | None = None
    category_level: int = 0

    @property
    def rank(self) -> int:
        """Specificity, most specific first: 分类 × 区/县 (level 2, then 1), 分类 × 全市, unit, 涉企."""
        if self.dimension == Dimension.CATEGORY_AREA:
            return (0 if self.district_id else 2) + (0 if self.category_level == 2 else 1)
        if self.dimension == Dimension.UNIT:
            return 4
        return 5 if self.category_id else 6

    @property
    def key(self) -> str:
        if self.dimension == Dimension.UNIT:
            return f"u:{self.unit_id}"
        prefix = "e" if self.dimension == Dimension.ENTERPRISE else "ca"
        return f"{prefix}:{self.category_id or '*'}:{self.district_id or '*'}"


@dataclass
class Finding:
    kind: str
    series: Series
    window: tuple[datetime, datetime]
    score: detector.Score
    order_ids: set[int]


@dataclass(frozen=True)
class Check:
    kind: str
    spec: detector.Spec
    thresholds: detector.Thresholds


def active_checks() -> list[Check]:
    """The kinds to run, in order: each from its ``AlertRule`` row, or the defaults when the row is missing."""
    rows = {rule.kind: rule for rule in AlertRule.objects.all()}
    checks = []
    for kind in Kind:
        rule = rows.get(kind)
        if rule is None:
            checks.append(Check(kind, *DEFAULTS[kind]))
        elif rule.is_active:
            spec = detector.Spec(window_hours=rule.window_hours, weeks=rule.baseline_weeks)
            checks.append(Check(kind, spec, detector.Thresholds(rule.min_count, rule.min_ratio, rule.max_p)))
    return checks


# ---------------------------------------------------------------- counting


class SeriesCounter:
    """Counts orders per series over time spans; knows the districts by the second id of a unit's path."""

    def __init__(self) -> None:
        self.districts = set(Unit.objects.filter(kind=UnitKind.DISTRICT).values_list("pk", flat=True))
        self.memo: dict[tuple, list[Series]] = {}

    def district_of(self, path: str | None) -> int | None:
        ids = (path or "").strip("/").split("/")
        district = int(ids[1]) if len(ids) > 1 and ids[1].isdigit() else None
        return district if district in self.districts else None

    def series_of(self, cat2: int | None, cat1: int | None, path: str | None, unit: int | None, enterprise: bool):
        """The series an order with these values of ``ROW`` counts in."""
        district = self.district_of(path)
        areas = (district, None) if district else (None,)
        found = [
            Series(Dimension.CATEGORY_AREA, cat, area, category_level=level)
            for cat, level in ((cat2, 2), (cat1, 1))
            if cat
            for area in areas
        ]
        if unit:
            found.append(Series(Dimension.UNIT, unit_id=unit))
        if enterprise:
            found += [Series(Dimension.ENTERPRISE, cat1, category_level=1), Series(Dimension.ENTERPRISE)]
        return found

    def count(self, start: datetime, end: datetime, scope: Q | None = None) -> Counter:
        orders = counted_orders().filter(received_at__gte=start, received_at__lt=end)
        if scope is not None:
            orders = orders.filter(scope)
        counts: Counter = Counter()
        for *values, n in orders.values_list(*ROW).annotate(n=Count("id")).order_by():
            key = tuple(values)
            if key not in self.memo:
                self.memo[key] = self.series_of(*key)
            for series in self.memo[key]:
                counts[series] += n
        return counts


def counted_orders():
    return WorkOrder.objects.exclude(closure=Closure.INVALID)


def scope_of(candidates: Iterable[Series]) -> Q:
    """The orders that can belong to any of the candidate series (a superset: districts are not filtered)."""
    candidates = list(candidates)
    categories = {s.category_id for s in candidates if s.dimension == Dimension.CATEGORY_AREA}
    units = {s.unit_id for s in candidates if s.dimension == Dimension.UNIT}
    scope = Q(category__parent_id__in=categories) | Q(category__parent__parent_id__in=categories)
    scope |= Q(lead_unit_id__in=units)
    if any(s.dimension == Dimension.ENTERPRISE for s in candidates):
        scope |= Q(is_enterprise=True)
    return scope


def orders_of(series: Series, start: datetime, end: datetime) -> set[int]:
    """The ids of the orders behind ``series`` in [start, end)."""
    orders = counted_orders().filter(received_at__gte=start, received_at__lt=end)
    if series.dimension == Dimension.UNIT:
        orders = orders.filter(lead_unit_id=series.unit_id)
    else:
        if series.category_id:
            cat = series.category_id
            orders = orders.filter(Q(category__parent_id=cat) | Q(category__parent__parent_id=cat))
        if series.district_id:
            orders = orders.filter(area__path__startswith=Unit.objects.get(pk=series.district_id).path)
        if series.dimension == Dimension.ENTERPRISE:
            orders = orders.filter(is_enterprise=True)
    return set(orders.values_list("pk", flat=True))


def first_order_at() -> datetime | None:
    return WorkOrder.objects.order_by("received_at").values_list("received_at", flat=True).first()


def evaluate(now: datetime, checks: list[Check] | None = None) -> list[Finding]:
    """Every series whose current window is anomalous at ``now``, per kind; reads, never writes."""
    since, counter, findings = first_order_at(), SeriesCounter(), []
    if since is None:
        return findings
    for check in checks if checks is not None else active_checks():
        win = detector.windows(now, check.spec, since)
        if not win.history:
            continue  # no full baseline week on record yet
        current = counter.count(*win.current)
        candidates = {s: n for s, n in current.items() if n >= check.thresholds.min_count}
        if not candidates:
            continue
        scope = scope_of(candidates)
        history = [counter.count(a, b, scope) for a, b in win.history]
        tiled = check.spec.window_hours == WEEK_HOURS  # weekly windows tile the level span: it is their mean
        level = None if tiled else counter.count(*win.level, scope)
        for series, observed in candidates.items():
            past = [h[series] for h in history]
            if tiled:
                level_per_window = sum(past) / len(past)
            else:
                level_per_window = level[series] / win.level_windows if win.level_windows else 0.0
            score = detector.detect(observed, past, level_per_window, check.thresholds)
            if score.alert:
                findings.append(Finding(check.kind, series, win.current, score, orders_of(series, *win.current)))
    return findings


# ---------------------------------------------------------------- alerts


def responsible_unit(series: Series) -> Unit | None:
    if series.dimension == Dimension.UNIT:
        return Unit.objects.filter(pk=series.unit_id).first()
    if series.category_id:
        category = Category.objects.select_related("default_unit").get(pk=series.category_id)
        if category.default_unit and category.default_unit.is_active:
            return category.default_unit
    return Unit.objects.filter(pk=series.district_id).first() if series.district_id else None


def _numbers(finding: Finding) -> dict:
    s = finding.score
    return {
        "window_start": finding.window[0], "window_end": finding.window[1], "observed": s.observed,
        "expected": s.expected, "ratio": s.ratio, "p_value": s.p_value,
    }  # fmt: skip


def _update(alert: TrendAlert, finding: Finding, now: datetime) -> None:
    TrendAlert.objects.filter(pk=alert.pk).update(
        last_detected_at=now, peak_observed=max(alert.peak_observed, finding.score.observed), **_numbers(finding)
    )
    alert.orders.add(*finding.order_ids)


def _create(finding: Finding, now: datetime) -> TrendAlert:
    series = finding.series
    alert = TrendAlert.objects.create(
        kind=finding.kind, dimension=series.dimension, series_key=series.key, category_id=series.category_id,
        district_id=series.district_id, unit_id=series.unit_id,
        is_enterprise=series.dimension == Dimension.ENTERPRISE, responsible_unit=responsible_unit(series),
        first_detected_at=now, last_detected_at=now, peak_observed=finding.score.observed, **_numbers(finding),
    )  # fmt: skip
    alert.orders.add(*finding.order_ids)
    return alert


def message(alert: TrendAlert) -> tuple[str, str]:
    """The notification's title and body."""
    hours = round(alert.window_hours)
    span = f"{hours // 24} 天" if hours >= 48 and hours % 24 == 0 else f"{hours} 小时"
    title = f"监测预警（{alert.get_kind_display()}）：{alert.series_label}"
    start, end = timezone.localtime(alert.window_start), timezone.localtime(alert.window_end)
    body = (
        f"最近 {span}受理 {alert.observed} 件，预期约 {alert.expected:.1f} 件"
        f"（{alert.ratio:.1f} 倍，p={alert.p_value:.1g}）。统计窗口 {start:%m-%d %H:%M} 至 {end:%m-%d %H:%M}。"
    )
    return title, body


def _announce(alert: TrendAlert) -> None:
    title, body = message(alert)
    link = reverse("alerts:detail", args=[alert.pk])
    if alert.responsible_unit_id:
        notify_unit(alert.responsible_unit, title, body, link)
    notify_role(Role.SUPERVISOR, title, body, link)


def raise_alerts(now: datetime | None = None, checks: list[Check] | None = None) -> dict:
    """Evaluate at ``now`` and create or update the alerts; returns what was done, with the alerts touched."""
    now = now or timezone.now()
    checks = active_checks() if checks is None else checks
    if not checks:
        return {"created": [], "updated": [], "covered": 0}
    active = {(a.kind, a.series_key): a for a in TrendAlert.objects.exclude(status=Status.CLOSED)}
    # Orders already behind an alert, closed or not: an order in any current window came in within the longest
    # window, so only alerts raised since then can hold it.
    horizon = now - timedelta(hours=max(c.spec.window_hours for c in checks))
    recent = ALERT_ORDERS.objects.filter(trendalert__last_detected_at__gte=horizon)
    covered = set(recent.values_list("workorder_id", flat=True))
    findings = evaluate(now, checks)
    kind_order = {k: i for i, k in enumerate(Kind.values)}
    findings.sort(key=lambda f: (kind_order[f.kind], f.score.observed, f.series.rank, f.series.key))
    done = {"created": [], "updated": [], "covered": 0}
    for finding in findings:
        key = (finding.kind, finding.series.key)
        alert = active.get(key)
        if alert is None:
            if 2 * len(finding.order_ids & covered) > len(finding.order_ids):
                done["covered"] += 1
                continue
            try:
                with transaction.atomic():
                    alert = _create(finding, now)
                    _announce(alert)
                done["created"].append(alert)
            except IntegrityError:  # another run created it a moment ago: update that one
                alert = TrendAlert.objects.exclude(status=Status.CLOSED).filter(kind=key[0], series_key=key[1]).first()
                if alert is None:
                    continue
                _update(alert, finding, now)
                done["updated"].append(alert)
            active[key] = alert
        else:
            _update(alert, finding, now)
            done["updated"].append(alert)
        covered |= finding.order_ids
    return done


def close_finished(now: datetime | None = None, alerts=None) -> int:
    """Close the alerts (of ``alerts``, default all) none of whose orders is still open; returns how many."""
    open_order = ALERT_ORDERS.objects.filter(trendalert_id=OuterRef("pk"), workorder__state__in=OPEN_STATES)
    alerts = TrendAlert.objects.all() if alerts is None else alerts
    return (
        alerts.exclude(status=Status.CLOSED)
        .filter(~Exists(open_order))
        .update(status=Status.CLOSED, closed_at=now or timezone.now(), closed_reason=CLOSED_REASON)
    )


def run(now: datetime | None = None) -> dict:
    """The hourly job: close what is finished, then raise and update alerts."""
    now = now or timezone.now()
    closed = close_finished(now)
    done = raise_alerts(now)
    counts = {"created": len(done["created"]), "updated": len(done["updated"]), "covered": done["covered"]}
    return {"closed": closed, **counts}
