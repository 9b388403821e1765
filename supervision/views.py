"""督办工作台: colours and counts that link to their lists, and the supervision orders."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from accounts.permissions import role_required
from accounts.roles import Role
from orders.errors import TransitionError
from orders.forms import apply_errors
from orders.models import WorkOrder
from orders.queries import visible_orders
from org.models import Unit
from supervision import actions, queries
from supervision.forms import AnswerForm, IssueForm
from supervision.models import SupervisionStatus

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
            numbers = form.cleaned_data["orders"]
            found = list(visible_orders(request.user).filter(number__in=numbers))
            missing = sorted(set(numbers) - {o.number for o in found})
            if missing:
                form.add_error("orders", f"工单不存在：{'、'.join(missing)}")
            else:
                try:
                    supervision = actions.issue(
                        request.user, Unit.objects.filter(code=form.cleaned_data["unit"]).first(), found,
                        form.cleaned_data["requirements"], form.cleaned_data["deadline"],
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
