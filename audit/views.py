"""审计日志 for administrators: search and export."""

import csv
from datetime import datetime, time

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.permissions import role_required
from accounts.roles import Role
from audit.log import record
from audit.models import AuditAction, AuditEntry

PAGE = 50
EXPORT_LIMIT = 100_000


def _day(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return None


def search(params) -> tuple[object, dict]:
    """The entries matching the filters in ``params``, newest first, and the filters as understood."""
    entries = AuditEntry.objects.order_by("-at", "-pk")
    filters = {k: (params.get(k) or "").strip()[:150] for k in ("user", "action", "order", "date_from", "date_to")}
    if filters["user"]:
        entries = entries.filter(username=filters["user"])
    if filters["action"] in AuditAction.values:
        entries = entries.filter(action=filters["action"])
    if filters["order"]:
        entries = entries.filter(order_number=filters["order"])
    tz = timezone.get_current_timezone()
    if start := _day(filters["date_from"]):
        entries = entries.filter(at__gte=datetime.combine(start.date(), time.min, tz))
    if end := _day(filters["date_to"]):
        entries = entries.filter(at__lte=datetime.combine(end.date(), time.max, tz))
    return entries, filters


@role_required(Role.ADMIN)
def entries(request):
    found, filters = search(request.GET)
    problems = [f"{label}不是有效日期（如 2026-12-01），已忽略" for name, label in (("date_from", "开始日期"),
                ("date_to", "结束日期")) if filters[name] and _day(filters[name]) is None]  # fmt: skip
    start, end = _day(filters["date_from"]), _day(filters["date_to"])
    if start and end and start > end:
        problems.append("开始日期晚于结束日期，没有记录会符合")
    page = Paginator(found, PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "title": "审计日志", "page": page, "entries": page.object_list, "filters": filters,
        "actions": AuditAction.choices, "query": query.urlencode(), "problems": problems,
    }  # fmt: skip
    return render(request, "audit/entries.html", context)


@role_required(Role.ADMIN)
def export(request):
    found, _ = search(request.GET)
    record(request, AuditAction.EXPORT, status=200, reason="导出审计日志")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit.csv"'
    response.write("\ufeff")  # Excel reads UTF-8 only with the byte-order mark
    writer = csv.writer(response)
    writer.writerow(["时间", "用户名", "角色", "单位", "IP", "类型", "方法", "地址", "结果", "工单编号", "理由"])
    for e in found[:EXPORT_LIMIT].iterator():
        at = timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow([at, e.username, e.role_label, e.unit, e.ip or "", e.get_action_display(), e.method, e.path,
                         e.status or "", e.order_number, e.reason])  # fmt: skip
    return response
