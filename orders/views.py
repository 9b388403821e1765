"""The workbenches: intake, dispatcher queue, unit inbox, callback queue, order lists and the order page.

Views only read queries (``orders.queries``) and hand input to forms that call ``orders.transitions``.
A refused action re-renders the page with the reason and the status the API would give (403/409/422).
"""

from django.contrib import messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from accounts.roles import Role
from analytics import reply_quality
from audit import log as audit_log
from audit.models import AuditAction
from calls import events as calls
from categories.models import Category
from orders import queries
from orders.assist import assist
from orders.errors import InvalidInput, TransitionError
from orders.forms import ACTION_FORMS, IntakeForm, OrderFilterForm, apply_errors
from orders.models import Attachment, Closure, RequestStatus, WorkOrder
from orders.paging import CappedPaginator
from orders.transitions import allowed_actions
from orders.validators import normalize_phone, phone_error
from portal import actions as portal_actions
from portal.models import Status as SubmissionStatus
from portal.models import Submission
from supervision.panel import for_order as supervision_panel

PAGE_SIZE = 20
INTAKE_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.ADMIN)
DISPATCH_ROLES = (Role.DISPATCHER,)
INBOX_ROLES = (Role.HANDLER,)
CALLBACK_ROLES = (Role.CALLBACK,)


def _page(request, orders: QuerySet, cap: int | None = None, counted: tuple[int, bool] | None = None) -> dict:
    page = CappedPaginator(orders, PAGE_SIZE, cap=cap, counted=counted).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {"page": page, "orders": page.object_list, "query": query.urlencode()}


@role_required()
def order_list(request):
    """工单查询: every order this user may see, filtered."""
    form = OrderFilterForm(request.GET or None, user=request.user)
    orders = queries.OrderFilter(**form.filters()).apply(queries.visible_orders(request.user))
    context = {"title": "工单查询", "form": form, **_page(request, orders.order_by("-received_at", "-pk"))}
    return render(request, "orders/list.html", context)


@role_required(*INTAKE_ROLES)
def intake(request):
    """受理: one form, keyboard first; the caller's earlier orders appear as the number is typed."""
    submission = _submission(request)
    initial = portal_actions.intake_data(submission) if submission else None
    form = IntakeForm(request.POST or None, request.FILES or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if submission:  # a second operator taking in the same submission gets the first one's order
                form.cleaned_data["idempotency_key"] = portal_actions.idempotency_key(submission)
            try:
                with transaction.atomic():
                    order, created = form.submit(
                        request.user,
                        answer_directly="answer_directly" in request.POST,
                        transfer_line=request.POST.get("transfer_line", ""),
                        merge_into=request.POST.get("merge_into", ""),
                    )
                    if submission and created:
                        portal_actions.accept(submission, order, request.user)
                    if call_id := request.POST.get("call_id", "")[:64]:
                        calls.link(call_id, request.user, order)
            except TransitionError as exc:
                apply_errors(form, exc)
                status = exc.status
            else:
                if not created:
                    messages.info(request, f"该诉求已受理过，工单 {order.number}")
                elif order.parent_id:
                    messages.success(request, f"已受理并并入工单 {order.parent.number}（多人一诉）")
                elif order.closure:
                    messages.success(request, f"已直接办结，工单 {order.number}")
                else:
                    messages.success(request, f"已受理，工单 {order.number}（{order.get_state_display()}）")
                return redirect("orders:detail", order.number)
        else:
            status = 422
    context = {
        "title": "受理",
        "form": form,
        "submission": submission,
        "call_id": request.POST.get("call_id", "")[:64],
        "leaves": Category.objects.active().leaves().values_list("full_name", flat=True),
    }
    return render(request, "orders/intake.html", context, status=status)


def _submission(request) -> Submission | None:
    """The portal submission being taken in (``?submission=`` or the posted field), still waiting."""
    code = (request.POST.get("submission") or request.GET.get("submission") or "").strip()[:16]
    if not code:
        return None
    submission = Submission.objects.filter(code=code).prefetch_related("photos").first()
    if submission is None:
        raise Http404("没有这条网上诉求")
    if submission.status != SubmissionStatus.PENDING and request.method == "GET":
        messages.info(request, f"该网上诉求已处理（{submission.get_status_display()}）")
    return submission


@role_required(*INTAKE_ROLES)
def caller_history(request):
    """htmx fragment: 一人多诉 — the earlier orders of the number being typed."""
    phone = normalize_phone(request.GET.get("caller_phone", ""))[:30]
    orders = queries.caller_history(phone) if phone and not phone_error(phone) else None
    return render(request, "orders/_caller_history.html", {"phone": phone, "orders": orders})


@role_required(*INTAKE_ROLES)
def intake_assist(request):
    """htmx fragment: emergencies, category, place, enterprise and duplicates found in what is typed so far."""
    get = request.GET
    phone = normalize_phone(get.get("caller_phone", ""))[:30]
    result = assist(
        get.get("title", "")[:200], get.get("content", "")[:20000], get.get("address", "")[:200],
        phone if phone and not phone_error(phone) else "",
    )  # fmt: skip
    return render(request, "orders/_assist.html", {"a": result})


@role_required(*DISPATCH_ROLES)
def dispatch_queue(request):
    """派单员: orders waiting for dispatch, and units' return, extension and non-acceptance requests waiting for a
    decision."""
    context = {
        "title": "派单",
        "decisions": queries.pending_decisions().prefetch_related(
            "return_requests", "extension_requests", "non_acceptance_requests"
        ),
        **_page(request, queries.dispatcher_queue()),
    }
    return render(request, "orders/dispatch_queue.html", context)


@role_required(*INBOX_ROLES)
def inbox(request):
    """承办单位: 待签收 / 办理中 / 即将超期 / 已超期 / 已办结."""
    tab = request.GET.get("tab", "to_sign")
    if tab not in queries.INBOX_TABS:
        raise Http404("没有这个标签页")
    now = timezone.now()
    counts = queries.inbox_counts(request.user, now)
    tabs = [(key, label, *counts[key]) for key, label in queries.INBOX_TABS.items()]
    # a worklist: its pages go as far as its tab count; older orders are found in 工单查询
    orders = queries.inbox(request.user, tab, now)
    context = {"title": "承办工单", "tab": tab, "tabs": tabs, **_page(request, orders, counted=counts[tab])}
    return render(request, "orders/inbox.html", context)


@role_required(*CALLBACK_ROLES)
def callback_queue(request):
    """回访员: replied orders waiting for a callback, the most urgent first."""
    context = {"title": "回访", "now": timezone.now(), **_page(request, queries.callback_queue())}
    return render(request, "orders/callback_queue.html", context)


def _visible(request, number: str) -> WorkOrder:
    return get_object_or_404(queries.visible_orders(request.user), number=number)


QUALITY_READERS = (Role.SUPERVISOR, Role.LEADER, Role.ADMIN, Role.DISPATCHER, Role.CALLBACK)


def _detail(request, order: WorkOrder, bound: dict | None = None, status: int = 200) -> HttpResponse:
    """The order page: facts, timeline, and a form for each action this user may take now."""
    forms = []
    allowed = set(allowed_actions(order, request.user))
    for action, form_class in ACTION_FORMS.items():  # in the order the cards are shown
        if action not in allowed:
            continue
        if bound and bound["action"] == action:
            forms.append(bound["form"])
            continue
        forms.append(form_class(initial={"version": order.version}, prefix=action, order=order))
    order = (
        WorkOrder.objects.select_related("category", "request_type", "lead_unit", "area", "parent", "created_by")
        .prefetch_related("tags", "related", "children", "attachments", "co_assignments__unit")
        .get(pk=order.pk)
    )
    non_acceptance = order.non_acceptance_requests.select_related("unit", "duplicate_of")
    context = {
        "title": f"工单 {order.number}",
        "order": order,
        "phone": queries.caller_phone_for(request.user, order),
        "can_unmask": request.user.role in queries.MASKED_PHONE_ROLES,
        "events": order.events.select_related("actor", "actor_unit"),
        "forms": forms,
        "return_request": order.return_requests.filter(status=RequestStatus.PENDING).first(),
        "non_acceptance_request": non_acceptance.filter(status=RequestStatus.PENDING).first(),
        "non_acceptance": non_acceptance.filter(status=RequestStatus.APPROVED).first()
        if order.closure == Closure.NOT_ACCEPTED
        else None,
        "extension_request": order.extension_requests.filter(status=RequestStatus.PENDING).first(),
        "callbacks": order.callbacks.select_related("agent"),
        "history": queries.caller_history(order.caller_phone, exclude_pk=order.pk, limit=5),
        "overdue": queries.is_overdue(order),
        "supervisions": order.supervisions.select_related("unit"),
        "panel": supervision_panel(request.user, order),
        # 答复质量 for the people who judge replies, not for the unit that wrote it
        "quality": reply_quality.score_order(order)
        if order.closure != Closure.DIRECT and request.user.has_role(*QUALITY_READERS)
        else None,
    }
    return render(request, "orders/detail.html", context, status=status)


@role_required()
def detail(request, number: str):
    order = _visible(request, number)
    if request.user.role in queries.NEEDS_FULL_PHONE:  # the page shows the caller's number in full
        audit_log.view_personal(request, order.number)
    return _detail(request, order)


@role_required(*queries.MASKED_PHONE_ROLES)
@require_POST
def unmask(request, number: str):
    """查看完整号码: a role that sees the number masked asks for it with a reason; the audit log keeps both."""
    order = _visible(request, number)
    reason = request.POST.get("reason", "").strip()[:200]
    if not reason:
        messages.error(request, "请填写查看完整号码的理由")
        return redirect("orders:detail", order.number)
    audit_log.record(request, AuditAction.UNMASK, order_number=order.number, reason=reason, status=200)
    messages.info(request, f"诉求人电话：{order.caller_phone}（已记录查看）")
    return _detail(request, order)


@role_required()
@require_POST
def act(request, number: str, action: str):
    """Run one life-cycle action from the order page; on refusal show why, with 403/409/422."""
    order = _visible(request, number)
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        raise Http404("没有这个操作")
    form = form_class(request.POST, request.FILES, prefix=action, order=order)
    status = 422
    if form.is_valid():
        try:
            form.run(order, request.user, form.cleaned_data["version"])
        except TransitionError as exc:
            apply_errors(form, exc)
            status = exc.status
            if not isinstance(exc, InvalidInput):
                messages.error(request, exc.message)
        else:
            messages.success(request, f"{form_class.label}：已完成")
            return redirect(_after(request, order))
    if status == 422:  # said at the top too: the form itself may be far down the page
        problems = [str(e) for errors in form.errors.values() for e in errors if str(e)]
        messages.error(request, f"{form_class.label}未完成：{'；'.join(problems) or '请检查填写的内容'}")
    order.refresh_from_db()
    return _detail(request, order, {"action": action, "form": form}, status)


def _after(request, order: WorkOrder) -> str:
    """Back to the order if this user can still see it, else to the user's queue."""
    if queries.visible_orders(request.user).filter(pk=order.pk).exists():
        return reverse("orders:detail", args=[order.number])
    return reverse("orders:inbox")


@role_required()
def attachment(request, number: str, pk: int):
    order = _visible(request, number)
    item = get_object_or_404(Attachment, pk=pk, order=order)
    return FileResponse(item.file.open("rb"), as_attachment=True, filename=item.name, content_type=item.content_type)
