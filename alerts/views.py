"""监测预警 pages: the list (open first) and an alert with its numbers, its orders and the two conversions.

Who: supervisors, dispatchers, leaders (read-only) and admins see every alert; a handler sees the alerts whose
responsible unit is one of its units, and only the orders behind them it may see anyway.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from accounts.permissions import role_required
from accounts.roles import Role
from alerts import actions, trends
from alerts.forms import MergeForm
from alerts.models import Kind, Status, TrendAlert
from orders.errors import TransitionError
from orders.forms import HANDLING_KINDS, apply_errors
from orders.queries import visible_orders
from org.models import Unit
from supervision.forms import SuperviseForm

VIEWERS = (Role.SUPERVISOR, Role.DISPATCHER, Role.LEADER, Role.ADMIN, Role.HANDLER)
STATUS_ORDER = Case(
    When(status=Status.OPEN, then=Value(0)), When(status=Status.HANDLED, then=Value(1)), default=Value(2),
    output_field=IntegerField(),
)  # fmt: skip


def visible_alerts(user):
    alerts = TrendAlert.objects.select_related("category", "district", "unit", "responsible_unit")
    if user.is_citywide:
        return alerts
    return alerts.filter(responsible_unit__in=user.visible_units.values("pk"))


@role_required(*VIEWERS)
def alert_list(request):
    items = visible_alerts(request.user)
    status, kind = request.GET.get("status", ""), request.GET.get("kind", "")
    if status in Status.values:
        items = items.filter(status=status)
    if kind in Kind.values:
        items = items.filter(kind=kind)
    items = items.annotate(status_rank=STATUS_ORDER).order_by("status_rank", "-last_detected_at", "-pk")
    page = Paginator(items, 20).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "title": "监测预警", "page": page, "items": page.object_list, "statuses": Status.choices,
        "kinds": Kind.choices, "status": status, "kind": kind, "query": query.urlencode(), "unit": "条",
        "checks": trends.active_checks(),
    }  # fmt: skip
    return render(request, "alerts/list.html", context)


def _supervise_initial(alert: TrendAlert) -> dict:
    unit = alert.responsible_unit
    deadline = timezone.localtime() + timedelta(days=2)
    return {
        "unit": unit.code if unit and unit.kind in HANDLING_KINDS else "",
        "requirements": (
            f"监测预警：{alert.series_label}，{alert.window_hours:.0f} 小时内受理 {alert.observed} 件，"
            f"约为预期（{alert.expected:.1f} 件）的 {alert.ratio:.1f} 倍。请核查原因、集中处置，并答复处置情况。"
        ),
        "deadline": deadline.replace(minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M"),
    }


@role_required(*VIEWERS)
def detail(request, pk: int):
    alert = get_object_or_404(visible_alerts(request.user), pk=pk)
    if trends.close_finished(alerts=TrendAlert.objects.filter(pk=alert.pk)):
        alert.refresh_from_db()
    open_orders = list(actions.open_orders(alert))
    action = request.POST.get("action", "")
    merge_form = MergeForm(request.POST if action == "merge" else None, orders=open_orders)
    supervise_form = SuperviseForm(request.POST if action == "supervise" else None, initial=_supervise_initial(alert))
    status = 200
    if request.method == "POST":
        if not request.user.has_role(*actions.CONVERTERS):
            raise PermissionDenied("当前角色不能处置监测预警")
        status = 422
        if action == "merge" and merge_form.is_valid():
            try:
                outcome = actions.to_merged(alert, request.user, merge_form.cleaned_data["parent"],
                                            merge_form.cleaned_data["note"])  # fmt: skip
            except TransitionError as exc:
                apply_errors(merge_form, exc)
                status = exc.status
            else:
                if outcome.merged:
                    messages.success(request, f"已将 {len(outcome.merged)} 张工单并入 {outcome.parent.number}")
                if outcome.refused:
                    refused = "；".join(f"{number}：{reason}" for number, reason in outcome.refused)
                    messages.error(request, f"{len(outcome.refused)} 张工单未能并入（{refused}）")
                return redirect("alerts:detail", alert.pk)
        elif action == "supervise" and supervise_form.is_valid():
            d = supervise_form.cleaned_data
            try:
                supervision = actions.to_supervision(
                    alert, request.user, Unit.objects.filter(code=d["unit"]).first(), d["requirements"], d["deadline"]
                )
            except TransitionError as exc:
                apply_errors(supervise_form, exc)
                status = exc.status
            else:
                messages.success(request, f"已发出督办单 {supervision.number}")
                return redirect("alerts:detail", alert.pk)
        elif action not in ("merge", "supervise"):
            messages.error(request, "未知的操作")
            status = 400
    orders = visible_orders(request.user).filter(trend_alerts=alert).order_by("-received_at", "-pk")
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    active = alert.status != Status.CLOSED
    context = {
        "title": f"监测预警 · {alert.series_label}", "a": alert, "page": page, "orders": page.object_list,
        "hidden": alert.orders.count() - page.paginator.count, "merge_form": merge_form,
        "supervise_form": supervise_form, "open_count": len(open_orders),
        "can_merge": active and request.user.has_role(Role.DISPATCHER) and len(open_orders) >= 2,
        "can_supervise": active and request.user.has_role(Role.SUPERVISOR) and bool(open_orders),
        "converter": active and request.user.has_role(*actions.CONVERTERS), "query": "",
    }  # fmt: skip
    return render(request, "alerts/detail.html", context, status=status)
