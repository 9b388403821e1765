"""统计报告 on the rhythm 日梳理、周统计、月报告、年分析: what each report contains, and its HTML, XLSX and PDF.

A report is collected once into plain data (title, summary lines, tables) and archived as ``analytics.Report``;
the page, the Excel workbook and the PDF are three renderings of the same data, so they never disagree.
All figures come from the indicators module; lists of orders (urgent, red, repeat callers) from the orders.

- 热线要情 (daily): the day's volume against the day before, by channel; urgent orders; orders now red;
  hot issues that appeared that day; 一人多诉 (callers with several orders in 30 days, one of them that day);
  多人一诉 (hot issues raised by several callers, active that day).
- 周统计 / 月报告 / 年度分析: the indicators with 环比 (and 同比 for month and year), the volume by day (by month
  for a year), categories, areas, the units' red and black lists, and the period's hot issues.

``generate_due()`` runs every 15 minutes in the worker: for each kind it makes the latest finished period's
report if it is not archived yet (the unique (kind, start) row decides, so two workers never make it twice)
and emails it to the kind's subscribers once (a conditional UPDATE of ``mailed_at`` claims the mailing).
"""

import io
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from analytics import indicators, rollup
from analytics.fonts import NoChineseFont, chinese_font  # noqa: F401 - NoChineseFont is raised through here
from analytics.models import HotIssue, Report, ReportKind, ReportSubscription
from orders.models import OPEN_STATES, Priority, Warning, WorkOrder

logger = logging.getLogger(__name__)

REPEAT_CALLER_DAYS = 30
LIST_LIMIT = 50  # rows of a list of orders or callers in a report


# --- periods -------------------------------------------------------------------------------------------------


def period_of(kind: str, day: date) -> tuple[date, date]:
    """The period of a kind of report that contains ``day``: (first day, last day)."""
    if kind == ReportKind.DAILY:
        return day, day
    if kind == ReportKind.WEEKLY:
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    if kind == ReportKind.MONTHLY:
        first = day.replace(day=1)
        return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    if kind == ReportKind.ANNUAL:
        return day.replace(month=1, day=1), day.replace(month=12, day=31)
    raise ValueError(f"未知的报告类型：{kind}")


def last_finished(kind: str, today: date) -> tuple[date, date]:
    """The latest period of the kind that ended before ``today``."""
    start, end = period_of(kind, today - timedelta(days=1))
    if end >= today:
        start, end = period_of(kind, start - timedelta(days=1))
    return start, end


def title_of(kind: str, start: date) -> str:
    if kind == ReportKind.DAILY:
        return f"12345热线要情（{start:%Y年%m月%d日}）"
    if kind == ReportKind.WEEKLY:
        return f"12345热线周统计（{start:%Y年%m月%d日}至{start + timedelta(days=6):%m月%d日}）"
    if kind == ReportKind.MONTHLY:
        return f"12345热线月报告（{start:%Y年%m月}）"
    return f"12345热线年度分析（{start:%Y年}）"


# --- collecting the figures ------------------------------------------------------------------------------------


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _change(now, before) -> str:
    change = indicators.Comparison.change(now, before)
    return "—" if change is None else f"{change * 100:+.1f}%"


def mask_phone(phone: str) -> str:
    """138****5678: enough to recognise a repeat caller, not enough to call them."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list]
    note: str = ""

    def as_dict(self) -> dict:
        """JSON-ready: numbers stay numbers, everything else (dates, lazy translations) becomes text."""
        rows = [[v if isinstance(v, int | float) else str(v) for v in row] for row in self.rows]
        return {"title": self.title, "columns": [str(c) for c in self.columns], "rows": rows, "note": self.note}


INDICATOR_ROWS = [  # (name, attribute, is a rate)
    ("受理量", "received", False), ("直办率", "direct_rate", True), ("派单量", "dispatched", False),
    ("响应率", "response_rate", True), ("按时办结率", "on_time_rate", True), ("解决率", "resolution_rate", True),
    ("满意率", "satisfaction_rate", True), ("退单率", "return_rate", True), ("重办率", "reopen_rate", True),
    ("延期率", "extension_rate", True), ("督办量", "supervised", False),
    ("平均办理时长（小时）", "average_handling_hours", False),
]  # fmt: skip


def _indicator_table(start: date, stop: date, with_yoy: bool) -> Table:
    comparison = indicators.compare(start, stop)
    columns = ["指标", "本期", "上期", "环比"] + (["去年同期", "同比"] if with_yoy else [])
    rows = []
    for name, attribute, is_rate in INDICATOR_ROWS:
        now, before, last_year = (getattr(c, attribute) for c in (comparison.current, comparison.previous,
                                                                  comparison.last_year))  # fmt: skip
        shown = _pct if is_rate else (lambda v: "—" if v is None else str(v))
        row = [name, shown(now), shown(before), _change(now, before)]
        if with_yoy:
            row += [shown(last_year), _change(now, last_year)]
        rows.append(row)
    composite = comparison.current.composite()
    rows.append(["综合得分", "—" if composite is None else str(composite), "", ""] + (["", ""] if with_yoy else []))
    return Table("主要指标", columns, rows, "比率为空（—）表示统计期内没有可计算的工单。")


def _breakdown_table(title: str, dimension: str, start: date, stop: date, limit: int = 15) -> Table:
    rows = [
        [label, c.received, _pct(c.direct_rate), _pct(c.on_time_rate), _pct(c.satisfaction_rate)]
        for key, label, c in indicators.breakdown(dimension, start, stop)[:limit]
    ]
    return Table(title, [title.removesuffix("分布"), "受理量", "直办率", "按时办结率", "满意率"], rows)


def _trend_table(kind: str, start: date, stop: date) -> Table:
    period = "month" if kind == ReportKind.ANNUAL else "day"
    rows = [[f"{d:%Y-%m}" if period == "month" else f"{d:%m-%d}", c.received, c.direct, c.finished]
            for d, c in indicators.series(period, start, stop)]  # fmt: skip
    return Table("受理量走势（按月）" if period == "month" else "受理量走势（按日）",
                 ["日期", "受理量", "直接办结", "单位办结"], rows)  # fmt: skip


def _ranking_tables(start: date, end: date) -> list[Table]:
    from supervision.ranking import rank_units

    ranking = rank_units(start, end)
    columns = ["名次", "承办单位", "派单量", "响应率", "解决率", "满意率", "综合得分"]

    def row(r):
        s = r.score
        return [r.rank, s.unit_name, s.dispatched, _pct(s.response_rate), _pct(s.resolution_rate),
                _pct(s.satisfaction_rate), str(r.composite)]  # fmt: skip

    top = [row(r) for r in ranking.ranked[:5]]
    bottom = [row(r) for r in ranking.ranked[-5:][::-1]] if len(ranking.ranked) > 5 else []
    return [Table("红榜（综合得分前五）", columns, top), Table("黑榜（综合得分后五）", columns, bottom)]


def _issue_rows(issues) -> list[list]:
    return [[i.rank, i.id, f"{i.heat:.2f}", i.time_range, i.place or "—", i.description, i.order_count,
             i.caller_count] for i in issues]  # fmt: skip


ISSUE_COLUMNS = ["热度排名", "问题ID", "热度指数", "时间范围", "地点/人群", "问题描述", "工单数", "诉求人数"]


def _hot_issues(start: date, stop: date) -> list[HotIssue]:
    """The hot issues of the latest snapshot that were active in the period."""
    low, high = rollup.day_bounds(start, stop)
    return [i for i in HotIssue.latest() if i.last_at >= low and i.first_at < high]


def _order_rows(orders) -> list[list]:
    return [[o.number, f"{timezone.localtime(o.received_at):%m-%d %H:%M}", o.get_priority_display(), o.title,
             o.lead_unit.name if o.lead_unit else "—", o.get_state_display()] for o in orders]  # fmt: skip


ORDER_COLUMNS = ["工单编号", "受理时间", "紧急程度", "标题", "主办单位", "状态"]


def _daily_tables(day: date) -> tuple[list[str], list[Table]]:
    stop = day + timedelta(days=1)
    low, high = rollup.day_bounds(day, stop)
    today, before = indicators.totals(day, stop), indicators.totals(day - timedelta(days=1), day)
    summary = [
        f"{day:%m月%d日}受理诉求 {today.received} 件，环比前一日 {_change(today.received, before.received)}；"
        f"直接办结 {today.direct} 件（直办率 {_pct(today.direct_rate)}），派单 {today.dispatched} 件，"
        f"单位办结 {today.finished} 件，有效回访 {today.valid_callbacks} 件，满意率 {_pct(today.satisfaction_rate)}。"
    ]
    tables = [
        Table(
            "受理渠道",
            ["渠道", "受理量"],
            [[label, c.received] for _, label, c in indicators.breakdown("channel", day, stop)],
        ),  # fmt: skip
        _breakdown_table("诉求分类", "category1", day, stop, 10),
    ]
    received = WorkOrder.objects.filter(received_at__gte=low, received_at__lt=high).select_related("lead_unit")
    urgent = received.exclude(priority=Priority.NORMAL).order_by("received_at")
    tables.append(
        Table(
            "紧急诉求",
            ORDER_COLUMNS,
            _order_rows(urgent[:LIST_LIMIT]),
            f"共 {urgent.count()} 件" + ("，列出前 50 件" if urgent.count() > LIST_LIMIT else ""),
        )
    )
    red = WorkOrder.objects.filter(state__in=OPEN_STATES, warning=Warning.RED).select_related("lead_unit")
    red_count = red.count()
    tables.append(
        Table(
            "红色预警工单（在办）",
            ORDER_COLUMNS,
            _order_rows(red.order_by("due_at")[:LIST_LIMIT]),
            f"生成报告时共 {red_count} 件" + ("，列出前 50 件" if red_count > LIST_LIMIT else ""),
        )
    )
    issues = _hot_issues(day, stop)
    new = [i for i in issues if i.first_at >= low]
    tables.append(Table("新增热点问题", ISSUE_COLUMNS, _issue_rows(new), "当日首次出现的热点问题"))
    since = high - timedelta(days=REPEAT_CALLER_DAYS)
    callers = (
        WorkOrder.objects.filter(received_at__gte=since, received_at__lt=high)
        .exclude(caller_phone="")
        .values("caller_phone")
        .annotate(total=Count("pk"), that_day=Count("pk", filter=Q(received_at__gte=low)))
        .filter(total__gte=2, that_day__gte=1)
        .order_by("-total", "caller_phone")
    )
    tables.append(Table(
        "一人多诉", ["诉求人电话", f"近{REPEAT_CALLER_DAYS}日工单数", "当日工单数"],
        [[mask_phone(c["caller_phone"]), c["total"], c["that_day"]] for c in callers[:LIST_LIMIT]],
        f"近{REPEAT_CALLER_DAYS}日内两次及以上来电、当日又有诉求的诉求人",
    ))  # fmt: skip
    crowd = [i for i in issues if i.caller_count >= 2]
    tables.append(Table("多人一诉", ISSUE_COLUMNS, _issue_rows(crowd), "当日仍有工单、两位及以上诉求人反映的同一问题"))
    summary.append(
        f"紧急诉求 {urgent.count()} 件；在办红色预警 {red_count} 件；新增热点问题 {len(new)} 个；"
        f"一人多诉 {callers.count()} 人；多人一诉 {len(crowd)} 个问题。"
    )
    return summary, tables


def _period_tables(kind: str, start: date, end: date) -> tuple[list[str], list[Table]]:
    stop = end + timedelta(days=1)
    totals = indicators.totals(start, stop)
    summary = [
        f"本期受理诉求 {totals.received} 件，直办率 {_pct(totals.direct_rate)}，派单 {totals.dispatched} 件，"
        f"响应率 {_pct(totals.response_rate)}，按时办结率 {_pct(totals.on_time_rate)}，"
        f"解决率 {_pct(totals.resolution_rate)}，满意率 {_pct(totals.satisfaction_rate)}。"
    ]
    tables = [
        _indicator_table(start, stop, with_yoy=kind in (ReportKind.MONTHLY, ReportKind.ANNUAL)),
        _trend_table(kind, start, stop),
        _breakdown_table("诉求分类", "category1", start, stop),
        _breakdown_table("区域分布", "area", start, stop),
        *_ranking_tables(start, end),
        Table("热点问题", ISSUE_COLUMNS, _issue_rows(_hot_issues(start, stop)[:10])),
    ]
    return summary, tables


def collect(kind: str, start: date) -> dict:
    """The figures of a report: title, period, summary lines and tables, as JSON-ready data."""
    start, end = period_of(kind, start)
    rollup.refresh()  # a report is published: it must include the last minute's work
    if kind == ReportKind.DAILY:
        summary, tables = _daily_tables(start)
    else:
        summary, tables = _period_tables(kind, start, end)
    return {
        "title": title_of(kind, start), "kind": kind, "start": start.isoformat(), "end": end.isoformat(),
        "generated_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"), "summary": summary,
        "tables": [t.as_dict() for t in tables],
    }  # fmt: skip


# --- renderings ----------------------------------------------------------------------------------------------


def to_xlsx(data: dict) -> bytes:
    """An Excel workbook: a 概要 sheet with the summary, then one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = "概要"
    sheet.append([data["title"]])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([f"统计期间：{data['start']} 至 {data['end']}；生成时间：{data['generated_at']}"])
    for line in data["summary"]:
        sheet.append([line])
    sheet.column_dimensions["A"].width = 120
    used = {"概要"}
    for table in data["tables"]:
        name = table["title"][:28].replace("/", "、")
        while name in used:
            name += "'"
        used.add(name)
        ws = book.create_sheet(name)
        ws.append(table["columns"])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="E6ECF5")
        for row in table["rows"]:
            ws.append(row)
        if not table["rows"]:
            ws.append(["无"])
        if table["note"]:
            ws.append([])
            ws.append([table["note"]])
        for index, column in enumerate(table["columns"], start=1):
            width = max([len(str(column))] + [len(str(r[index - 1])) for r in table["rows"]])
            ws.column_dimensions[ws.cell(row=1, column=index).column_letter].width = min(2 * width + 2, 60)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(data: dict) -> bytes:
    """A PDF with the Chinese font embedded (subset), A4 landscape so that wide tables fit."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_font("cjk", fname=str(chinese_font()))
    pdf.set_title(data["title"])
    pdf.set_creator("12345 政务服务便民热线")
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.multi_cell(0, 10, data["title"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(0, 6, f"统计期间：{data['start']} 至 {data['end']}    生成时间：{data['generated_at']}",
                   align="C", new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.set_font("cjk", size=11)
    for line in data["summary"]:
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    heading = FontFace(emphasis=None, fill_color=(230, 236, 245))
    for table in data["tables"]:
        pdf.ln(3)
        pdf.set_font("cjk", size=12)
        pdf.multi_cell(0, 8, table["title"], new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=8)
        if not table["rows"]:
            pdf.multi_cell(0, 6, "无", new_x="LMARGIN", new_y="NEXT")
        else:
            with pdf.table(headings_style=heading, line_height=5, padding=1) as grid:
                for values in [table["columns"], *table["rows"]]:
                    row = grid.row()
                    for value in values:
                        row.cell(str(value))
        if table["note"]:
            pdf.multi_cell(0, 5, table["note"], new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# --- archive, schedule, mail ---------------------------------------------------------------------------------


def generate(kind: str, day: date, user=None) -> Report:
    """Make (or make again) the report of the period of ``kind`` containing ``day`` and archive it."""
    if kind not in ReportKind.values:
        raise ValueError(f"未知的报告类型：{kind}")
    start, end = period_of(kind, day)
    if start > timezone.localdate():
        raise ValueError("统计期间尚未开始")
    data = collect(kind, start)
    files = {"xlsx": to_xlsx(data), "pdf": to_pdf(data)}
    values = {"end": end, "title": data["title"], "data": data, **files, "generated_at": timezone.now(),
              "generated_by": user}  # fmt: skip
    with transaction.atomic():
        report, created = Report.objects.select_for_update().get_or_create(kind=kind, start=start, defaults=values)
        if not created:
            for name, value in values.items():
                setattr(report, name, value)
            report.save()
    return report


def generate_due(today: date | None = None) -> list[Report]:
    """The latest finished period of each kind, archived if it is not yet and mailed to subscribers once."""
    today = today or timezone.localdate()
    made = []
    for kind in ReportKind.values:
        start, end = last_finished(kind, today)
        report = Report.objects.filter(kind=kind, start=start).first()
        if report is None:
            data = collect(kind, start)
            files = {"xlsx": to_xlsx(data), "pdf": to_pdf(data)}
            try:
                with transaction.atomic():
                    report = Report.objects.create(kind=kind, start=start, end=end, title=data["title"], data=data,
                                                   generated_at=timezone.now(), **files)  # fmt: skip
                made.append(report)
            except IntegrityError:  # another worker archived it first and mails it
                continue
        if report.mailed_at is None:
            mail(report)
    return made


def mail(report: Report) -> int:
    """Email a scheduled report to its kind's subscribers, once: the UPDATE that sets ``mailed_at`` claims it."""
    from django.core.mail import EmailMessage

    if Report.objects.filter(pk=report.pk, mailed_at__isnull=True).update(mailed_at=timezone.now()) != 1:
        return 0
    recipients = sorted(
        ReportSubscription.objects.filter(kind=report.kind, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not recipients:
        return 0
    body = "\n".join([report.title, "", *report.data["summary"], "", "完整报告见附件（PDF、Excel）。"])
    message = EmailMessage(f"【12345热线】{report.title}", body, settings.DEFAULT_FROM_EMAIL, bcc=recipients)
    stem = f"{report.kind}-{report.start:%Y%m%d}"
    message.attach(f"{stem}.pdf", bytes(report.pdf), "application/pdf")
    message.attach(f"{stem}.xlsx", bytes(report.xlsx),
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")  # fmt: skip
    try:
        message.send()
    except Exception:
        Report.objects.filter(pk=report.pk).update(mailed_at=None)  # the next run tries again
        logger.exception("mailing report %s failed", report.pk)
        raise
    return len(recipients)
