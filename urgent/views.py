"""热线要情 pages: the leaders' inbox and claim, the supervisors' overview, the admins' rules."""

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from accounts.roles import Role
from orders.errors import Forbidden, TransitionError
from orders.models import Tag
from urgent import claims, stats
from urgent.forms import RuleForm
from urgent.models import ItemStatus, LeaderWebhook, UrgentItem, UrgentRule

WATCHERS = (Role.SUPERVISOR, Role.ADMIN)
PER_PAGE = 20
TARGET_MINUTES = 60  # the seeds' city answers an urgent item within the hour
MAX_TARGET = 24 * 60


def _waited(item: UrgentItem, now) -> float:
    """Minutes the item waited: until its claim, its closing, or now."""
    end = item.claimed_at or item.closed_at or now
    return (end - item.pushed_at).total_seconds() / 60


def _inbox_context(request) -> dict:
    mine = UrgentItem.objects.filter(leaders=request.user)
    rank = Case(
        When(status=ItemStatus.OPEN, then=Value(0)), When(status=ItemStatus.CLAIMED, then=Value(1)),
        default=Value(2), output_field=IntegerField(),
    )  # fmt: skip
    items = (
        mine.annotate(rank=rank)
        .select_related("order__lead_unit", "order__area", "claimed_by")
        .order_by("rank", "-pushed_at", "-pk")
    )
    page = Paginator(items, PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    for item in page.object_list:
        item.waited = _waited(item, now)
    return {
        "title": "热线要情", "page": page, "items": page.object_list, "query": "",
        "open_count": mine.filter(status=ItemStatus.OPEN).count(),
    }  # fmt: skip


@role_required(Role.LEADER)
def inbox(request):
    """The items pushed to this leader: open ones first, newest first within each status."""
    return render(request, "urgent/inbox.html", _inbox_context(request))


@role_required(Role.LEADER)
@require_POST
def claim(request):
    """认领 the item named in the form: 403 when it was not pushed to this leader, 409 when taken or closed."""
    try:
        pk = int(request.POST.get("item", ""))
    except ValueError:
        raise Http404("要情不存在") from None
    item = get_object_or_404(UrgentItem, pk=pk)
    try:
        claims.claim(request.user, item)
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except TransitionError as exc:
        messages.error(request, exc.text)
        return render(request, "urgent/inbox.html", _inbox_context(request), status=exc.status)
    messages.success(request, f"已认领工单 {item.order.number} 的要情")
    return redirect(f"{reverse('urgent:inbox')}#item-{pk}")


def _period(request) -> tuple[date, date]:
    """The period asked for (both days included); the last 30 days by default or on bad input."""
    today = timezone.localdate()
    try:
        start = date.fromisoformat(request.GET.get("start", ""))
        end = date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        return today - timedelta(days=29), today
    if end < start or (end - start).days > 366:
        return today - timedelta(days=29), today
    return start, end


def _target(request) -> int:
    try:
        target = int(request.GET.get("target", TARGET_MINUTES))
    except ValueError:
        return TARGET_MINUTES
    return target if 1 <= target <= MAX_TARGET else TARGET_MINUTES


@role_required(*WATCHERS)
def overview(request):
    """Every item of a period with its push→claim and push→first-action times, and their averages and medians."""
    start, end = _period(request)
    target = _target(request)
    items = stats.period_items(start, end)
    summary = stats.summarise(items, target)
    status = request.GET.get("status", "")
    listed = items.filter(status=status) if status in ItemStatus.values else items
    listed = listed.select_related("order__lead_unit", "claimed_by").prefetch_related("leaders")
    page = Paginator(listed.order_by("-pushed_at", "-pk"), PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "title": "热线要情总览", "page": page, "items": page.object_list, "summary": summary, "start": start,
        "end": end, "target": target, "status": status, "statuses": ItemStatus.choices, "query": query.urlencode(),
    }  # fmt: skip
    return render(request, "urgent/overview.html", context)


def _rules_context() -> dict:
    names = dict(Tag.objects.values_list("code", "name"))
    rules = list(UrgentRule.objects.annotate(item_count=Count("items")).order_by("kind", "name"))
    for rule in rules:
        rule.tag_names = [names.get(code, f"{code}（已删除）") for code in rule.tags]
    return {"title": "要情规则", "rules": rules, "hooks": LeaderWebhook.objects.select_related("unit")}


@role_required(Role.ADMIN)
def rules(request):
    return render(request, "urgent/rules.html", _rules_context())


@role_required(Role.ADMIN)
def rule_form(request, pk: str | None = None):
    """Create a rule (no ``pk``) or edit one; refused with the field named and nothing saved (422)."""
    rule = get_object_or_404(UrgentRule, pk=pk) if pk else None
    form = RuleForm(request.POST or None, instance=rule)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            saved = form.save()
            messages.success(request, f"已保存要情规则“{saved.name}”")
            return redirect("urgent:rules")
        status = 422
    title = f"编辑要情规则：{rule.name}" if rule else "新建要情规则"
    return render(request, "urgent/rule_form.html", {"title": title, "form": form, "rule": rule}, status=status)


@role_required(Role.ADMIN)
@require_POST
def rule_toggle(request):
    """停用 a rule at once, or 启用 it again after checking it is still valid (its tags may be gone)."""
    try:
        pk = int(request.POST.get("rule", ""))
    except ValueError:
        raise Http404("规则不存在") from None
    rule = get_object_or_404(UrgentRule, pk=pk)
    if rule.is_active:
        UrgentRule.objects.filter(pk=pk).update(is_active=False, updated_at=timezone.now())
        messages.success(request, f"已停用要情规则“{rule.name}”")
        return redirect("urgent:rules")
    rule.is_active = True
    try:
        rule.save()
    except ValidationError as exc:
        messages.error(request, f"规则“{rule.name}”当前无效，请先编辑：{'；'.join(exc.messages)}")
        return render(request, "urgent/rules.html", _rules_context(), status=422)
    messages.success(request, f"已启用要情规则“{rule.name}”")
    return redirect("urgent:rules")
