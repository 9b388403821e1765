"""统计分析 pages: the leader overview (ECharts), the orders behind any number, and the public monthly disclosure."""

from datetime import date, timedelta

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.permissions import role_required
from accounts.roles import Role
from analytics import indicators, reply_quality, rollup
from analytics.indicators import Filters
from analytics.models import RollupState
from categories.models import Category
from orders.queries import visible_orders
from org.models import Unit
from supervision import queries as supervision_queries

READERS = (Role.LEADER, Role.SUPERVISOR, Role.ADMIN, Role.DISPATCHER)
KPIS = [  # (label, counter the number links to, attribute or rate)
    ("受理量", "received", "received"),
    ("直办率", "direct", "direct_rate"),
    ("响应率", "responded", "response_rate"),
    ("按时办结率", "on_time", "on_time_rate"),
    ("解决率", "resolved", "resolution_rate"),
    ("满意率", "satisfied", "satisfaction_rate"),
    ("退单率", "returns", "return_rate"),
    ("重办率", "reopens", "reopen_rate"),
    ("延期率", "extensions", "extension_rate"),
    ("督办量", "supervised", "supervised"),
]


def _day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _period(request) -> tuple[date, date]:
    """[start, end] from the query (inclusive dates), the last 30 days by default; at most ten years."""
    today = timezone.localdate()
    end = _day(request.GET.get("end"), today)
    start = _day(request.GET.get("start"), end - timedelta(days=29))
    if start > end:
        start, end = end, start
    return max(start, end - timedelta(days=3660)), end


def _drill(counter: str, start: date, end: date, **extra) -> str:
    query = {"counter": counter, "start": start.isoformat(), "end": end.isoformat(), **extra}
    return f"{reverse('analytics:orders')}?{urlencode(query)}"


@role_required(*READERS)
def overview(request):
    """领导驾驶舱: KPI cards with 环比/同比, the volume trend, categories, areas, warnings; every number drills down."""
    start, end = _period(request)
    stop = end + timedelta(days=1)
    comparison = indicators.compare(start, stop)
    cards = []
    for label, counter, attribute in KPIS:
        now, before, last_year = (
            getattr(c, attribute) for c in (comparison.current, comparison.previous, comparison.last_year)
        )
        cards.append({
            "label": label, "value": now, "is_rate": attribute.endswith("_rate"),
            "mom": comparison.change(now, before), "yoy": comparison.change(now, last_year),
            "url": _drill(counter, start, end),
        })  # fmt: skip
    trend = indicators.series("day" if (end - start).days <= 92 else "month", start, stop)
    categories = indicators.breakdown("category1", start, stop)
    areas = indicators.breakdown("area", start, stop)
    chart = {
        "trend": {
            "x": [d.isoformat() for d, _ in trend],
            "received": [c.received for _, c in trend],
            "direct": [c.direct for _, c in trend],
        },
        "categories": [
            {"name": label, "value": c.received, "url": _drill("received", start, end, category=key)}
            for key, label, c in categories if key
        ],
        "areas": [
            {"name": label, "value": c.received, "url": _drill("received", start, end, area=key)}
            for key, label, c in areas[:15] if key
        ],
    }  # fmt: skip
    state = RollupState.objects.filter(name=rollup.STATE).first()
    context = {
        "title": "领导驾驶舱", "start": start, "end": end, "cards": cards, "chart": chart,
        "categories": categories[:10], "colours": supervision_queries.colour_counts(request.user),
        "updated": state.watermark if state else None, "composite": comparison.current.composite(),
        "received_url": _drill("received", start, end),
    }  # fmt: skip
    return render(request, "analytics/overview.html", context)


@role_required()
def orders(request):
    """The orders behind a number: a counter, a period and the dimension it was broken down by."""
    counter = request.GET.get("counter", "")
    if counter not in rollup.COUNTER_SOURCES:
        raise Http404
    start, end = _period(request)
    found = rollup.orders_behind(counter, start, end + timedelta(days=1))
    filters = _filters(request)
    found = found.filter(filters.order_q()) if filters else found.none()
    found = visible_orders(request.user).filter(pk__in=found.values("pk")).order_by("-received_at")
    page = Paginator(found, 20).get_page(request.GET.get("page"))
    label = next((k[0] for k in KPIS if k[1] == counter), dict(COUNTER_LABELS).get(counter, counter))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "title": f"{label} · {start:%Y-%m-%d} 至 {end:%Y-%m-%d}", "page": page, "orders": page.object_list,
        "query": query.urlencode(),
    }  # fmt: skip
    return render(request, "analytics/orders.html", context)


COUNTER_LABELS = [("dispatched", "派单量"), ("finished", "办结量"), ("valid_callbacks", "有效回访"),
                  ("handling_seconds", "办理时长")]  # fmt: skip


def _filters(request) -> Filters | None:
    """The dimension a number was broken down by, from its link; None when an id names nothing."""
    found = {}
    for name, model in (("unit", Unit), ("category", Category), ("area", Unit)):
        value = request.GET.get(name, "")
        if value:
            found[name] = model.objects.filter(pk=value).first() if value.isdigit() else None
            if found[name] is None:
                return None
    return Filters(**found)


def disclosure(request):
    """定期公开: last month's indicators per unit, for everyone, with no personal data."""
    today = timezone.localdate()
    first = today.replace(day=1)
    month = _day(request.GET.get("month", "") + "-01" if request.GET.get("month") else "", first - timedelta(days=1))
    start = month.replace(day=1)
    stop = (start + timedelta(days=32)).replace(day=1)
    if start >= first:
        start, stop = (first - timedelta(days=1)).replace(day=1), first  # only finished months are published
    rows = [
        (label, c) for key, label, c in indicators.breakdown("unit", start, stop)
        if key and c.dispatched
    ]  # fmt: skip
    context = {"title": f"{start:%Y年%m月} 承办单位办理情况公开", "rows": rows, "start": start,
               "total": indicators.totals(start, stop)}  # fmt: skip
    return render(request, "analytics/disclosure.html", context)


@role_required(*READERS)
def reply_quality_by_unit(request):
    """答复质量 per lead unit over the replies of a period, worst first."""
    start, end = _period(request)
    low, high = rollup.day_bounds(start, end + timedelta(days=1))
    replied = (
        visible_orders(request.user)
        .filter(replied_at__gte=low, replied_at__lt=high, dispatched_at__isnull=False)
        .select_related("lead_unit")
    )
    context = {"title": "答复质量", "start": start, "end": end, "rows": reply_quality.unit_summary(replied)}
    return render(request, "analytics/reply_quality.html", context)
