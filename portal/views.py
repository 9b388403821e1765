"""市民门户 pages (no login) and the operators' list of submissions waiting to be taken in."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from orders.errors import TransitionError
from orders.forms import apply_errors
from orders.transitions import INTAKE_ROLES
from portal import actions
from portal.forms import DeclineForm, EnterpriseForm, RatingForm, SubmissionForm, TrackForm
from portal.limits import allow
from portal.models import Photo, Status, Submission
from system.clientip import client_ip
from system.storage import StorageFull

SESSION_KEY = "portal_codes"  # tracking codes this browser has proven it may read
PAGE = 20


def _remember(request, code: str) -> None:
    codes = request.session.get(SESSION_KEY, [])
    if code not in codes:
        request.session[SESSION_KEY] = [*codes[-19:], code]


def home(request):
    return render(request, "portal/home.html", {"title": "网上诉求"})


def _submit(request, form_class: type[SubmissionForm], title: str):
    form = form_class(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            ip = client_ip(request)  # '' when unknown: counted under one key, stored as no address
            if not allow("submit:ip", ip or "unknown"):
                form.add_error(None, "提交过于频繁，请稍后再试或拨打 12345")
                status = 429
            elif not allow("submit:phone", form.cleaned_data["phone"]):
                form.add_error("phone", "该号码提交过于频繁，请一小时后再试或拨打 12345")
                status = 429
            else:
                try:
                    submission = actions.submit(form.submission_fields(), form.cleaned_data["photos"], ip or None)
                except StorageFull as exc:
                    apply_errors(form, exc)
                    status = exc.status
                else:
                    _remember(request, submission.code)
                    return redirect("portal:status", submission.code)
        else:
            status = 422
    return render(request, "portal/submit.html", {"title": title, "form": form}, status=status)


def submit(request):
    return _submit(request, SubmissionForm, "我要反映")


def submit_enterprise(request):
    return _submit(request, EnterpriseForm, "企业诉求 · 亲清e线")


def track(request):
    """Find a submission by its tracking code and the last four digits of the phone that made it."""
    form = TrackForm(request.POST or None, initial={"code": request.GET.get("code", "")[:16]})
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            code, tail = form.cleaned_data["code"], form.cleaned_data["phone_tail"]
            found = Submission.objects.filter(code=code).first()
            if found and found.phone.endswith(tail):
                _remember(request, code)
                return redirect("portal:status", code)
            status = 404 if allow("track:ip", client_ip(request) or "unknown") else 429
            form.add_error(None, "查询码或手机号后四位不对" if status == 404 else "查询次数过多，请一小时后再试")
    return render(request, "portal/track.html", {"title": "查询进度", "form": form}, status=status)


def _own(request, code: str) -> Submission:
    if code not in request.session.get(SESSION_KEY, []):
        raise Http404("请先用查询码和手机号后四位查询")
    return get_object_or_404(Submission.objects.select_related("order__lead_unit"), code=code)


def milestones(submission: Submission) -> list[tuple[str, object, str]]:
    """What the citizen may see of the progress: (step, time, detail), without internal notes or names."""
    steps = [("已提交", submission.created_at, "")]
    if submission.status == Status.DECLINED:
        return [*steps, ("不予受理", submission.handled_at, submission.decline_reason)]
    order = submission.order
    if order is None:
        return steps
    steps.append(("已受理", order.received_at, f"工单编号 {order.number}"))
    if order.dispatched_at:
        steps.append(("已转办", order.dispatched_at, f"承办单位：{order.lead_unit.name}" if order.lead_unit else ""))
    if order.signed_at:
        steps.append(("办理中", order.signed_at, "承办单位已签收"))
    if order.replied_at:
        steps.append(("已答复", order.replied_at, ""))
    if order.archived_at:
        steps.append(("已办结", order.archived_at, ""))
    return steps


def status(request, code: str):
    submission = _own(request, code)
    form = RatingForm(request.POST or None)
    status_code = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.rate(submission, form.cleaned_data["rating"], form.cleaned_data["note"])
            except TransitionError as exc:
                apply_errors(form, exc)
                status_code = exc.status
            else:
                messages.success(request, "感谢您的评价")
                return redirect("portal:status", code)
        else:
            status_code = 422
    context = {
        "title": "办理进度",
        "s": submission,
        "steps": milestones(submission),
        "can_rate": actions.can_rate(submission),
        "form": form,
    }
    return render(request, "portal/status.html", context, status=status_code)


@role_required(*INTAKE_ROLES)
def queue(request):
    """话务员: submissions from the portal waiting to be taken in, oldest first."""
    pending = Submission.objects.filter(status=Status.PENDING).prefetch_related("photos").order_by("created_at")
    page = Paginator(pending, PAGE).get_page(request.GET.get("page"))
    context = {"title": "网上诉求", "page": page, "submissions": page.object_list, "decline": DeclineForm()}
    return render(request, "portal/queue.html", context)


@role_required(*INTAKE_ROLES)
@require_POST
def decline(request, code: str):
    submission = get_object_or_404(Submission, code=code)
    try:
        actions.decline(submission, request.user, request.POST.get("reason", ""))
    except TransitionError as exc:
        messages.error(request, exc.text)
    else:
        messages.success(request, f"已不予受理：{submission.title}")
    return redirect("portal:queue")


@role_required(*INTAKE_ROLES)
def photo(request, pk: int):
    from django.http import FileResponse

    item = get_object_or_404(Photo, pk=pk)
    return FileResponse(item.file.open("rb"), content_type=item.content_type, filename=item.name)
