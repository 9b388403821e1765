"""统计分析 pages: the leader overview (ECharts), the orders behind any number, and the public monthly disclosure."""

from datetime import date, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.permissions import role_required
from accounts.roles import Role
from analytics import indicators, reply_quality, reports, rollup
from analytics.indicators import Filters
from analytics.models import HotIssue, ReplyScore, Report, ReportKind, ReportSubscription, RollupState
from categories.models import Category
from orders.paging import CappedPaginator
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


def _period_end(day: date, period: str) -> date:
    """The last day of the week, month or year starting on ``day`` (the day itself for "day")."""
    if period == "day":
        return day
    if period == "week":
        return day + timedelta(days=6)
    if period == "month":
        return (day + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return day.replace(month=12, day=31)


def _dashboard(start: date, end: date, filters: Filters, base: dict, panels: list[dict]) -> dict:
    """What every dashboard shows for a choice of orders: KPI cards with 环比/同比, the trend and the breakdown
    panels, each number and segment with the URL of the orders behind it (``base`` is that choice as a query)."""
    stop = end + timedelta(days=1)
    comparison = indicators.compare(start, stop, filters)
    cards = []
    for label, counter, attribute in KPIS:
        now, before, last_year = (
            getattr(c, attribute) for c in (comparison.current, comparison.previous, comparison.last_year)
        )
        cards.append({
            "label": label, "value": now, "is_rate": attribute.endswith("_rate"),
            "mom": comparison.change(now, before), "yoy": comparison.change(now, last_year),
            "url": _drill(counter, start, end, **base),
        })  # fmt: skip
    period = "day" if (end - start).days <= 92 else "month"
    trend = indicators.series(period, start, stop, filters)
    chart = {
        "trend": {
            "x": [d.isoformat() for d, _ in trend],
            "received": [
                {"value": c.received,
                 "url": _drill("received", max(d, start), min(_period_end(d, period), end), **base)}
                for d, c in trend
            ],
            "direct": [c.direct for _, c in trend],
        },
        "panels": [
            {"id": p["id"], "type": p["type"],
             "data": [{"name": r["label"], "value": r["counts"].received, "url": r["url"]} for r in p["rows"][:15]]}
            for p in panels
        ],
    }  # fmt: skip
    return {
        "start": start, "end": end, "cards": cards, "chart": chart, "panels": panels,
        "composite": comparison.current.composite(), "received_url": _drill("received", start, end, **base),
    }  # fmt: skip


def _panel(
    panel_id: str, title: str, chart: str, start: date, end: date, base: dict, rows, key: str, page=None
) -> dict:
    """A breakdown panel: rows (key, label, counts) become table rows and chart segments that drill down with
    ``key`` set to the row's key; ``page`` gives the URL of the row's own analysis page, if it has one."""
    items = []
    for value, label, counts in rows:
        if value is None or value == "":
            continue
        value = getattr(value, "pk", value)
        query = {**base, key: value} if key != "unit_only" else {**base, "unit": value, "sub": 0}
        items.append({"label": label, "counts": counts, "url": _drill("received", start, end, **query),
                      "page": page(value, label) if page else None})  # fmt: skip
    # 直接办结 happens at the hotline centre before any unit is involved: a unit's 直办率 would always be 0.
    return {"id": panel_id, "title": title, "type": chart, "rows": items, "direct": key not in ("unit", "unit_only")}


def _updated():
    state = RollupState.objects.filter(name=rollup.STATE).first()
    return state.watermark if state else None


@role_required(*READERS)
def overview(request):
    """领导驾驶舱: KPI cards with 环比/同比, the volume trend, categories, areas, hot issues and warnings;
    every number drills down."""
    start, end = _period(request)
    stop = end + timedelta(days=1)
    category_page = lambda pk, _: f"{reverse('analytics:category')}?category={pk}"  # noqa: E731
    unit_page = lambda pk, _: f"{reverse('analytics:unit')}?unit={pk}"  # noqa: E731
    panels = [
        _panel("categories", "诉求分类", "pie", start, end, {}, indicators.breakdown("category1", start, stop),
               "category", category_page),
        _panel("areas", "区域分布（区/县）", "bar", start, end, {}, indicators.area_breakdown(start, stop), "area",
               unit_page),
    ]  # fmt: skip
    context = _dashboard(start, end, Filters(), {}, panels)
    context.update({
        "title": "领导驾驶舱", "colours": supervision_queries.colour_counts(request.user),
        "updated": _updated(), "hot_issues": HotIssue.latest()[:10],
    })  # fmt: skip
    return render(request, "analytics/overview.html", context)


def _chosen_unit(request) -> Unit | None:
    value = request.GET.get("unit", "")
    units = request.user.visible_units
    if not value:
        return None if request.user.is_citywide else request.user.unit
    unit = units.filter(pk=value).first() if value.isdigit() else None
    if unit is None:
        raise Http404("没有这个单位，或无权查看")
    return unit


@role_required(*READERS, Role.HANDLER)
def unit_dashboard(request):
    """单位看板: one unit's indicators, with or without its sub-units, its sub-units and categories; without a
    unit, every unit's indicators side by side."""
    start, end = _period(request)
    stop = end + timedelta(days=1)
    unit = _chosen_unit(request)
    if unit is None:
        rows = [(s, _drill("received", start, end, unit=s.unit_id, sub=0)) for s in indicators.unit_scores(start, stop)]
        rows.sort(key=lambda r: -r[0].received)
        context = {"title": "单位看板", "start": start, "end": end, "scores": rows, "updated": _updated()}
        return render(request, "analytics/units.html", context)
    sub_units = request.GET.get("sub", "1") != "0"
    filters = Filters(unit=unit, sub_units=sub_units)
    base = {"unit": unit.pk} if sub_units else {"unit": unit.pk, "sub": 0}
    unit_page = lambda pk, _: f"{reverse('analytics:unit')}?unit={pk}"  # noqa: E731
    panels = []
    if sub_units and unit.children.exists():
        rows = indicators.sub_unit_breakdown(unit, start, stop)
        own = [(u, label, c) for u, label, c in rows if u.pk == unit.pk]
        others = [(u, label, c) for u, label, c in rows if u.pk != unit.pk]
        panel = _panel("units", "下级单位", "bar", start, end, {}, others, "unit", unit_page)
        if own:
            panel["rows"] += _panel("", "", "", start, end, {}, own, "unit_only")["rows"]
        panels.append(panel)
    panels.append(_panel("categories", "诉求分类（二级）", "pie", start, end, base,
                         indicators.breakdown("category2", start, stop, filters), "category"))  # fmt: skip
    context = _dashboard(start, end, filters, base, panels)
    context.update({
        "title": f"单位看板 · {unit.name}", "unit": unit, "sub_units": sub_units, "updated": _updated(),
        "keep": list(base.items()),
        "colours": supervision_queries.colour_counts(request.user, unit=unit),
        "ancestors": [u for u in unit.ancestors() if request.user.visible_units.filter(pk=u.pk).exists()],
    })  # fmt: skip
    return render(request, "analytics/unit.html", context)


@role_required(*READERS)
def category_analysis(request):
    """分类分析: a category at any level (all categories without one) — its sub-categories, areas and units."""
    start, end = _period(request)
    stop = end + timedelta(days=1)
    value = request.GET.get("category", "")
    category = Category.objects.filter(pk=value).first() if value.isdigit() else None
    if value and category is None:
        raise Http404("没有这个分类")
    filters = Filters(category=category)
    base = {"category": category.pk} if category else {}
    page = lambda pk, _: f"{reverse('analytics:category')}?category={pk}"  # noqa: E731
    panels = []
    level = category.level if category else 0
    if level < 3:
        rows = indicators.breakdown(f"category{level + 1}", start, stop, filters)
        panels.append(_panel("children", "下级分类" if category else "一级分类", "pie", start, end, {}, rows,
                             "category", page))  # fmt: skip
    panels.append(_panel("areas", "区域分布（区/县）", "bar", start, end, base,
                         indicators.area_breakdown(start, stop, filters), "area"))  # fmt: skip
    panels.append(_panel("units", "承办单位", "bar", start, end, base,
                         indicators.breakdown("unit", start, stop, filters), "unit_only"))  # fmt: skip
    context = _dashboard(start, end, filters, base, panels)
    ancestors = []
    node = category.parent if category else None
    while node is not None:
        ancestors.insert(0, node)
        node = node.parent
    context.update({"title": f"分类分析 · {category.full_name}" if category else "分类分析", "category": category,
                    "ancestors": ancestors, "updated": _updated(), "keep": list(base.items())})  # fmt: skip
    return render(request, "analytics/category.html", context)


@role_required(*READERS)
def hot_issue(request, pk: int):
    """One hot issue of a snapshot and the orders behind it."""
    issue = get_object_or_404(HotIssue, pk=pk)
    found = visible_orders(request.user).filter(pk__in=issue.orders.values("pk")).order_by("-received_at")
    page = Paginator(found, 20).get_page(request.GET.get("page"))
    context = {"title": f"热点问题 · {issue.description}", "issue": issue, "page": page, "orders": page.object_list,
               "query": ""}  # fmt: skip
    return render(request, "analytics/hot_issue.html", context)


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
    if request.user.is_citywide:  # everything is visible: filter the orders directly, no second IN over the table
        found = found.select_related("category", "request_type", "lead_unit", "area")
    else:  # a unit's handler: only its own orders
        found = visible_orders(request.user).filter(pk__in=found.values("pk"))
    found = found.order_by("-received_at")
    page = CappedPaginator(found, 20).get_page(request.GET.get("page"))  # a year of a city: not counted whole
    label = next((k[0] for k in KPIS if k[1] == counter), dict(COUNTER_LABELS).get(counter, counter))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "title": f"{label} · {start:%Y-%m-%d} 至 {end:%Y-%m-%d}", "page": page, "orders": page.object_list,
        "query": query.urlencode(),
    }  # fmt: skip
    return render(request, "analytics/orders.html", context)


COUNTER_LABELS = [("dispatched", "派单量"), ("finished", "办结量"), ("valid_callbacks", "有效回访"),
                  ("handling_seconds", "办理时长"), ("escalated", "提级量"),
                  ("not_accepted", "不予受理量")]  # fmt: skip


def _filters(request) -> Filters | None:
    """The dimension a number was broken down by, from its link; None when an id names nothing."""
    found = {"sub_units": request.GET.get("sub", "1") != "0"}
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
    rows.sort(key=lambda row: -row[1].dispatched)  # the table's first number (breakdown sorts by 受理量)
    context = {"title": f"{start:%Y年%m月} 承办单位办理情况公开", "rows": rows, "start": start,
               "total": indicators.totals(start, stop)}  # fmt: skip
    return render(request, "analytics/disclosure.html", context)


@role_required(*READERS)
def reply_quality_by_unit(request):
    """答复质量 per lead unit over the replies of a period (scores stored by the worker), worst first."""
    start, end = _period(request)
    low, high = rollup.day_bounds(start, end + timedelta(days=1))
    scores = ReplyScore.objects.filter(replied_at__gte=low, replied_at__lt=high)
    if not request.user.is_citywide:
        scores = scores.filter(unit__in=request.user.visible_units)
    context = {"title": "答复质量", "start": start, "end": end, "rows": reply_quality.unit_summary(scores)}
    return render(request, "analytics/reply_quality.html", context)


# --- 统计报告 -------------------------------------------------------------------------------------------------

REPORT_READERS = (Role.LEADER, Role.SUPERVISOR, Role.ADMIN)


@role_required(*REPORT_READERS)
def report_list(request):
    """The archive of reports, newest first, with generation on demand and the user's email subscriptions."""
    kind = request.GET.get("kind", "")
    found = Report.objects.defer("xlsx", "pdf", "data")
    if kind in ReportKind.values:
        found = found.filter(kind=kind)
    page = Paginator(found.order_by("-start", "kind"), 20).get_page(request.GET.get("page"))
    error, status = "", 400
    if request.method == "POST":
        if request.POST.get("action") == "subscribe":
            chosen = set(request.POST.getlist("kinds")) & set(ReportKind.values)
            ReportSubscription.objects.filter(user=request.user).exclude(kind__in=chosen).delete()
            for value in chosen:
                ReportSubscription.objects.get_or_create(user=request.user, kind=value)
            note = "" if request.user.email else "，但您的账号没有邮箱地址，收不到邮件"
            messages.success(request, f"订阅已保存{note}。")
            return redirect("analytics:reports")
        kind_value, day = request.POST.get("kind", ""), request.POST.get("day", "")
        try:
            if kind_value not in ReportKind.values:
                raise ValueError("报告类型：请选择日报、周统计、月报告或年度分析")
            try:
                chosen_day = date.fromisoformat(day)
            except ValueError:
                raise ValueError("统计日期：请填写 YYYY-MM-DD 格式的日期") from None
            report = reports.generate(kind_value, chosen_day, user=request.user)
        except ValueError as exc:
            error = str(exc)
        except reports.NoChineseFont as exc:
            error, status = str(exc), 503
        else:
            messages.success(request, f"已生成：{report.title}")
            return redirect("analytics:report", pk=report.pk)
    subscribed = set(ReportSubscription.objects.filter(user=request.user).values_list("kind", flat=True))
    context = {
        "title": "统计报告", "page": page, "kind": kind, "kinds": ReportKind.choices, "error": error,
        "subscribed": subscribed, "yesterday": timezone.localdate() - timedelta(days=1),
        "kind_query": urlencode({"kind": kind}) if kind else "",
    }  # fmt: skip
    return render(request, "analytics/reports.html", context, status=status if error else 200)


@role_required(*REPORT_READERS)
def report_detail(request, pk: int):
    report = get_object_or_404(Report.objects.defer("xlsx", "pdf"), pk=pk)
    return render(request, "analytics/report.html", {"title": report.title, "report": report, "data": report.data})


@role_required(*REPORT_READERS)
def report_file(request, pk: int, fmt: str):
    report = get_object_or_404(Report, pk=pk)
    content_type = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    "pdf": "application/pdf"}[fmt]  # fmt: skip
    response = HttpResponse(bytes(getattr(report, fmt)), content_type=content_type)
    filename = f"{report.kind}-{report.start:%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
