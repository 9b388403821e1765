"""督办工作台: colours and counts that link to their lists, the supervision orders, 疑难工单, 吹哨报到, 红黑榜,
专员抽查 and 不满意工单动态清零."""

import csv
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from accounts.roles import Role
from orders.errors import Forbidden, InvalidInput, TransitionError
from orders.forms import apply_errors
from orders.models import WorkOrder
from orders.queries import visible_orders
from org.models import Unit
from supervision import actions, difficult, queries, spotchecks, unsatisfied, whistles
from supervision.forms import (
    AnswerForm,
    ChecklistForm,
    CloseWhistleForm,
    FindingAnswerForm,
    FlagForm,
    IssueForm,
    ReportForm,
    ReviewForm,
    SpotCheckForm,
    WhistleForm,
)
from supervision.models import (
    CaseStatus,
    Cause,
    DifficultCase,
    SpotCheck,
    SpotCheckStatus,
    SupervisionStatus,
    Whistle,
    WhistleStatus,
)
from supervision.ranking import notice_text, rank_units
from system.config import get_setting

WATCHERS = (Role.SUPERVISOR, Role.LEADER, Role.ADMIN, Role.DISPATCHER)


@role_required(*WATCHERS)
def dashboard(request):
    now = timezone.now()
    context = {
        "title": "督办",
        "colours": queries.colour_counts(request.user),
        "units": queries.unit_colour_table(request.user),
        "counts": queries.dashboard_counts(request.user, now),
        "recent": queries.supervision_orders(request.user)[:10],
    }
    return render(request, "supervision/dashboard.html", context)


@role_required()
def supervision_list(request):
    items = queries.supervision_orders(request.user)
    status = request.GET.get("status", "")
    if status in SupervisionStatus.values:
        items = items.filter(status=status)
    if unit := request.GET.get("unit", "").strip():
        items = items.filter(unit__code=unit)
    if number := request.GET.get("order", "").strip():
        items = items.filter(orders__number=number)
    page = Paginator(items, 20).get_page(request.GET.get("page"))
    context = {
        "title": "督办单", "page": page, "items": page.object_list, "statuses": SupervisionStatus.choices,
        "status": status, "query": request.GET.copy().urlencode(),
    }  # fmt: skip
    return render(request, "supervision/list.html", context)


@role_required(Role.SUPERVISOR)
def issue(request):
    initial = {"orders": request.GET.get("orders", ""), "unit": request.GET.get("unit", "")}
    if not request.POST and initial["orders"] and not initial["unit"]:
        first = WorkOrder.objects.filter(number=initial["orders"].split(",")[0]).select_related("lead_unit").first()
        initial["unit"] = first.lead_unit.code if first and first.lead_unit else ""
    form = IssueForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            numbers, data = form.cleaned_data["orders"], form.cleaned_data
            found = list(visible_orders(request.user).filter(number__in=numbers))
            missing = sorted(set(numbers) - {o.number for o in found})
            unit = Unit.objects.filter(code=data["unit"]).first()
            if missing:  # said with whatever else is wrong, all at once
                errors = actions.issue_errors(unit, found, data["requirements"], data["deadline"], timezone.now())
                apply_errors(form, InvalidInput({**errors, "orders": f"工单不存在：{'、'.join(missing)}"}))
            else:
                try:
                    supervision = actions.issue(
                        request.user, unit, found, data["requirements"], data["deadline"]
                    )  # fmt: skip
                except TransitionError as exc:
                    apply_errors(form, exc)
                    status = exc.status
                else:
                    messages.success(request, f"已发出督办单 {supervision.number}")
                    return redirect("supervision:detail", supervision.number)
    return render(request, "supervision/issue.html", {"title": "发督办单", "form": form}, status=status)


@role_required()
def detail(request, number: str):
    supervision = get_object_or_404(queries.supervision_orders(request.user), number=number)
    form = AnswerForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                actions.answer(request.user, supervision, form.cleaned_data["answer"])
            except TransitionError as exc:
                apply_errors(form, exc)
                status = exc.status
            else:
                messages.success(request, "已答复督办单")
                return redirect("supervision:detail", number)
    can_answer = (
        supervision.status == SupervisionStatus.OPEN
        and request.user.has_role(Role.HANDLER)
        and request.user.visible_units.filter(pk=supervision.unit_id).exists()
    )
    context = {
        "title": f"督办单 {supervision.number}", "s": supervision, "form": form, "can_answer": can_answer,
        "orders": supervision.orders.select_related("lead_unit"),
        "chain": _chain(supervision),
    }  # fmt: skip
    return render(request, "supervision/detail.html", context, status=status)


def _chain(supervision) -> list:
    """The escalation chain this supervision order belongs to, lowest unit first."""
    first = supervision
    while first.escalated_from_id:
        first = first.escalated_from
    chain = [first]
    while hasattr(chain[-1], "escalated_to"):
        chain.append(chain[-1].escalated_to)
    return chain


def _period(request) -> tuple[date, date]:
    """The period in the query (start, end, both included); the last 30 days by default or on bad input."""
    today = timezone.localdate()
    try:
        start = date.fromisoformat(request.GET.get("start", ""))
        end = date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        return today - timedelta(days=29), today
    if end < start or (end - start).days > 366:
        return today - timedelta(days=29), today
    return start, end


@role_required(*WATCHERS)
def rankings(request):
    """红黑榜 over a period, with the arithmetic behind every score."""
    start, end = _period(request)
    ranking = rank_units(start, end)
    return render(request, "supervision/rankings.html", {"title": "红黑榜", "r": ranking})


@role_required(*WATCHERS)
def notice(request):
    """通报 text of the period's red and black lists, as a file."""
    start, end = _period(request)
    response = HttpResponse(notice_text(rank_units(start, end)), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="notice-{start:%Y%m%d}-{end:%Y%m%d}.txt"'
    return response


# ---------------------------------------------------------------- 疑难工单


@role_required(*WATCHERS)
def difficult_list(request):
    status, cause = request.GET.get("status", ""), request.GET.get("cause", "")
    items = difficult.cases(status, cause)
    if request.GET.get("export") == "csv":
        return _cases_csv(items)
    page = Paginator(items, 20).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "title": "疑难工单", "page": page, "items": page.object_list, "statuses": CaseStatus.choices,
        "causes": Cause.choices, "status": status, "cause": cause, "by_cause": difficult.counts_by_cause(),
        "query": query.urlencode(),
    }  # fmt: skip
    return render(request, "supervision/difficult_list.html", context)


def _cases_csv(items) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="difficult-orders.csv"'
    response.write("\ufeff")  # Excel reads UTF-8 only with the byte-order mark
    writer = csv.writer(response)
    writer.writerow(["工单编号", "标题", "主办单位", "原因", "列入说明", "触发规则", "列入时间", "状态", "研判次数"])
    for case in items.annotate(review_count=Count("reviews")):
        writer.writerow([
            case.order.number, case.order.title, case.order.lead_unit.name if case.order.lead_unit else "",
            case.get_cause_display(), case.reason, case.get_rule_display() or "人工列入",
            timezone.localtime(case.flagged_at).strftime("%Y-%m-%d %H:%M"), case.get_status_display(),
            case.review_count,
        ])  # fmt: skip
    return response


@role_required(Role.SUPERVISOR)
@require_POST
def difficult_flag(request, number: str):
    order = get_object_or_404(WorkOrder, number=number)
    form = FlagForm(request.POST)
    if form.is_valid():
        try:
            difficult.flag(request.user, order, form.cleaned_data["cause"], form.cleaned_data["reason"])
        except TransitionError as exc:
            messages.error(request, exc.text)
        else:
            messages.success(request, "已列为疑难工单")
            return redirect("supervision:case", number)
    else:
        messages.error(request, "请选择原因并填写说明")
    return redirect("orders:detail", number)


@role_required(*WATCHERS)
def case_detail(request, number: str):
    case = get_object_or_404(DifficultCase.objects.select_related("order__lead_unit"), order__number=number)
    form = ReviewForm(
        request.POST or None, initial={"lead_unit": case.order.lead_unit.code if case.order.lead_unit else ""}
    )
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            d = form.cleaned_data
            try:
                difficult.review(
                    request.user, case, participants=d["participants"], conclusion=d["conclusion"],
                    lead_unit=d["lead_unit"], co_units=d["co_units"], new_deadline=d["new_deadline"],
                )  # fmt: skip
            except TransitionError as exc:
                apply_errors(form, exc)
                status = exc.status
            else:
                messages.success(request, "已记录联席研判，工单已改派")
                return redirect("supervision:case", number)
    context = {
        "title": f"疑难工单 {number}", "case": case, "form": form, "reviews": case.reviews.select_related("lead_unit"),
        "can_review": request.user.has_role(Role.SUPERVISOR) and case.status == CaseStatus.OPEN,
    }  # fmt: skip
    return render(request, "supervision/case.html", context, status=status)


@role_required(*WATCHERS)
def stuck(request):
    """屡办不成 / 久拖不决."""
    now = timezone.now()
    page = Paginator(queries.stuck_orders(now), 20).get_page(request.GET.get("page"))
    rows = [(order, queries.stuck_reasons(order, now)) for order in page.object_list]
    flagged = set(DifficultCase.objects.filter(order__in=page.object_list).values_list("order_id", flat=True))
    context = {
        "title": "屡办不成 / 久拖不决", "page": page, "rows": rows, "query": "", "flagged": flagged,
        "reopens": get_setting("stuck_reopen_count"), "days": get_setting("stuck_overdue_days"),
    }  # fmt: skip
    return render(request, "supervision/stuck.html", context)


# ---------------------------------------------------------------- 吹哨报到


@role_required()
def whistle_list(request):
    start, end = _period(request)
    tz = timezone.get_current_timezone()
    items = Whistle.objects.select_related("street", "order").prefetch_related("calls__department")
    if not request.user.is_citywide:
        units = request.user.visible_units
        items = items.filter(Q(street__in=units) | Q(calls__department__in=units)).distinct()
    period = (datetime.combine(start, time.min, tz), datetime.combine(end + timedelta(days=1), time.min, tz))
    context = {"title": "吹哨报到", "items": items[:50], "start": start, "end": end, "stats": whistles.stats(*period)}
    return render(request, "supervision/whistles.html", context)


@role_required(Role.HANDLER)
@require_POST
def whistle_blow(request, number: str):
    order = get_object_or_404(visible_orders(request.user), number=number)
    form = WhistleForm(request.POST)
    if form.is_valid():
        departments = list(Unit.objects.filter(code__in=form.cleaned_data["departments"]))
        try:
            whistle = whistles.blow(request.user, order, departments, form.cleaned_data["description"])
        except TransitionError as exc:
            messages.error(request, exc.text)
        else:
            messages.success(request, "已吹哨，被召集部门须按时报到")
            return redirect("supervision:whistle", whistle.pk)
    return redirect("orders:detail", number)


@role_required()
def whistle_detail(request, pk: int):
    whistle = get_object_or_404(Whistle.objects.select_related("street", "order"), pk=pk)
    units = set(request.user.visible_units.values_list("pk", flat=True))
    calls = list(whistle.calls.select_related("department", "reported_by"))
    involved = whistle.street_id in units or any(c.department_id in units for c in calls)
    if not request.user.is_citywide and not involved:
        raise Http404("吹哨不存在或无权查看")
    my_call = next((c for c in calls if c.department_id in units and c.reported_at is None), None)
    report_form = ReportForm(request.POST if "report" in request.POST else None)
    close_form = CloseWhistleForm(request.POST if "close" in request.POST else None)
    status = 200
    if request.method == "POST":
        status = 422
        form, run = (
            (report_form, lambda d: whistles.report(request.user, my_call, d["action"]))
            if "report" in request.POST
            else (close_form, lambda d: whistles.close(request.user, whistle, d["resolved"], d["outcome"]))
        )
        if form.is_valid():
            try:
                if "report" in request.POST and my_call is None:
                    raise Forbidden("您的单位没有待报到的召集")
                run(form.cleaned_data)
            except TransitionError as exc:
                apply_errors(form, exc)
                status = exc.status
            else:
                messages.success(request, "已提交")
                return redirect("supervision:whistle", pk)
    context = {
        "title": f"吹哨报到 · 工单 {whistle.order.number}", "w": whistle, "calls": calls, "my_call": my_call,
        "report_form": report_form, "close_form": close_form,
        "can_close": whistle.status == WhistleStatus.OPEN and request.user.unit_id == whistle.street_id,
    }  # fmt: skip
    return render(request, "supervision/whistle.html", context, status=status)


# ---------------------------------------------------------------- 专员抽查

SPOT_READERS = spotchecks.READERS  # the sample pages: supervisors review, leaders read
SPOT_ROLES = (*spotchecks.READERS, Role.HANDLER)  # handlers see their units' checks and findings


def _int_param(value) -> int | None:
    """A positive id from the query or the form; None for anything else (also beyond a database integer)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _param(request, name: str) -> str:
    """A filter from the query string, without U+0000 (which PostgreSQL refuses in any comparison)."""
    return request.GET.get(name, "").replace("\x00", "").strip()


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@role_required(*SPOT_ROLES)
def spotcheck_list(request):
    items = spotchecks.visible_checks(request.user)
    status = request.GET.get("status", "")
    if status in SpotCheckStatus.values:
        items = items.filter(status=status)
    if unit := _param(request, "unit"):
        items = items.filter(unit__code=unit)
    for name, lookup in (("start", "period_end__gte"), ("end", "period_start__lte")):
        try:
            items = items.filter(**{lookup: date.fromisoformat(request.GET.get(name, ""))})
        except ValueError:
            pass
    page = Paginator(items, 20).get_page(request.GET.get("page"))
    context = {
        "title": "专员抽查", "page": page, "items": page.object_list, "statuses": SpotCheckStatus.choices,
        "status": status, "query": _query_without_page(request), "unit": "次",
        "can_create": request.user.has_role(*spotchecks.CHECKERS),
        "can_read_samples": request.user.has_role(*SPOT_READERS),
    }  # fmt: skip
    return render(request, "supervision/spotchecks.html", context)


@role_required(*spotchecks.CHECKERS)
def spotcheck_new(request):
    form = SpotCheckForm(request.POST or None, initial={"unit": request.GET.get("unit", "")})
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            d = form.cleaned_data
            try:
                check = spotchecks.create(
                    request.user, Unit.objects.filter(code=d["unit"]).first() if d["unit"] else None,
                    d["period_start"], d["period_end"], d["size"], d["seed"],
                )  # fmt: skip
            except TransitionError as exc:
                apply_errors(form, exc)
                status = exc.status
            else:
                messages.success(request, f"已抽取 {check.sample_size} 张工单（随机种子 {check.seed}）")
                return redirect(spotchecks.check_link(check))
    return render(request, "supervision/spotcheck_new.html", {"title": "发起抽查", "form": form}, status=status)


def _checklist(item, data=None) -> ChecklistForm:
    """The checklist form of one sampled order, filled with its review so far."""
    implied = spotchecks.checklist_text(item)
    initial = {f: getattr(item, f) for f in ("substance", "contact", "result_true", "note")}
    initial["finding"] = item.finding and not implied  # flagged by hand, not by a “否”
    initial["finding_text"] = "" if item.finding_text == implied else item.finding_text  # written by hand
    return ChecklistForm(data, prefix=f"item-{item.pk}", initial=initial)


@role_required(*SPOT_READERS)
def spotcheck_detail(request):
    """The sample with the checklist of each order; supervisors review and close, leaders read."""
    check = get_object_or_404(
        SpotCheck.objects.select_related("unit", "created_by"), pk=_int_param(request.GET.get("id")) or 0
    )
    items = check.items.select_related("order__lead_unit", "reviewed_by", "answered_by").order_by("order_id")
    page = Paginator(items, 20).get_page(request.GET.get("page"))
    status, bound, close_error = 200, None, ""
    if request.method == "POST":
        if not request.user.has_role(*spotchecks.CHECKERS):
            raise PermissionDenied("只有督办员可以审核抽查样本")
        back = f"{spotchecks.check_link(check)}&page={page.number}"
        if "close" in request.POST:
            try:
                spotchecks.close(request.user, check)
            except TransitionError as exc:
                status, close_error = exc.status, exc.message
            else:
                messages.success(request, "已结束抽查")
                return redirect(back)
        else:
            item = get_object_or_404(items, pk=_int_param(request.POST.get("item")) or 0)
            bound, status = _checklist(item, request.POST), 422
            if bound.is_valid():  # an unknown choice or unstorable text stops here; review names what is missing
                try:
                    spotchecks.review(request.user, item, bound.cleaned_data)
                except TransitionError as exc:
                    apply_errors(bound, exc)
                    status = exc.status
                else:
                    messages.success(request, f"已保存工单 {item.order.number} 的审核结果")
                    return redirect(f"{back}#item-{item.pk}")
    rows = [
        (item, bound if bound is not None and bound.prefix == f"item-{item.pk}" else _checklist(item))
        for item in page.object_list
    ]
    context = {
        "title": f"专员抽查 · {check.unit.name}", "check": check, "page": page, "rows": rows,
        "can_review": request.user.has_role(*spotchecks.CHECKERS) and check.status == SpotCheckStatus.OPEN,
        "close_error": close_error, "query": f"id={check.pk}", "unit": "张",
        "reviewed": check.items.filter(reviewed_at__isnull=False).count(),
        "findings": check.items.filter(finding=True).count(),
    }  # fmt: skip
    return render(request, "supervision/spotcheck.html", context, status=status)


@role_required(*SPOT_ROLES)
def findings(request):
    """A unit's findings and its answers; handlers of the unit answer each one once."""
    items = spotchecks.visible_findings(request.user).order_by("-spot_check__created_at", "order_id")
    if check := _int_param(request.GET.get("check")):
        items = items.filter(spot_check_id=check)
    if unit := _param(request, "unit"):
        items = items.filter(spot_check__unit__code=unit)
    answered = request.GET.get("answered", "")
    if answered in ("0", "1"):
        items = items.filter(answered_at__isnull=answered == "0")
    status, failed, form = 200, None, None
    if request.method == "POST":
        if not request.user.has_role(Role.HANDLER):
            raise PermissionDenied("只有被抽查单位可以说明抽查问题")
        item = get_object_or_404(
            spotchecks.visible_findings(request.user), pk=_int_param(request.POST.get("item")) or 0
        )
        form = FindingAnswerForm(request.POST, prefix=f"item-{item.pk}")
        status, failed = 422, item.pk
        if form.is_valid():  # unstorable text stops here; spotchecks.answer checks the rest
            try:
                spotchecks.answer(request.user, item, form.cleaned_data["answer"])
            except TransitionError as exc:
                apply_errors(form, exc)
                status = exc.status
                if status != 422:  # e.g. answered meanwhile: the item shows no form any more
                    messages.error(request, exc.text)
            else:
                messages.success(request, f"已提交工单 {item.order.number} 的说明")
                return redirect(request.get_full_path())
    page = Paginator(items, 20).get_page(request.GET.get("page"))
    is_handler = request.user.has_role(Role.HANDLER)
    rows = [
        (item, (form if item.pk == failed else FindingAnswerForm(prefix=f"item-{item.pk}")))
        if is_handler and item.answered_at is None
        else (item, None)
        for item in page.object_list
    ]
    context = {
        "title": "抽查问题", "page": page, "rows": rows, "answered": answered, "query": _query_without_page(request),
        "unit": "个", "can_read_samples": request.user.has_role(*SPOT_READERS),
    }  # fmt: skip
    return render(request, "supervision/findings.html", context, status=status)


# ---------------------------------------------------------------- 不满意工单动态清零

FOLLOW_UP_VIEWS = {"": "未清零", "done": "已清零（含解释归档）", "all": "全部"}


@role_required(*unsatisfied.VIEWERS)
def unsatisfied_list(request):
    visible = unsatisfied.unsatisfied_orders(request.user)
    show = request.GET.get("show", "")
    orders = visible
    if unit := _param(request, "unit"):
        orders = orders.filter(lead_unit__code=unit)
    if show in unsatisfied.FollowUp.values:
        orders = orders.filter(follow_up=show)
    elif show == "done":
        orders = orders.filter(follow_up__in=unsatisfied.DONE)
    elif show != "all":
        show = ""
        orders = orders.filter(follow_up__in=unsatisfied.OPEN)
    orders = orders.order_by("last_bad_at", "pk") if show == "" else orders.order_by("-last_bad_at", "-pk")
    page = Paginator(orders, 20).get_page(request.GET.get("page"))
    bad = unsatisfied.latest_bad_callbacks(page.object_list)
    context = {
        "title": "不满意工单动态清零", "page": page, "counts": unsatisfied.unit_counts(visible), "show": show,
        "rows": [
            (o, bad.get(o.pk), unsatisfied.FollowUp(o.follow_up).label, o.follow_up in unsatisfied.OPEN)
            for o in page.object_list
        ],
        "views": FOLLOW_UP_VIEWS, "follow_ups": unsatisfied.FollowUp.choices, "query": _query_without_page(request),
    }  # fmt: skip
    return render(request, "supervision/unsatisfied.html", context)
