from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import lockout, twofactor
from accounts.forms import CodeForm, LoginForm
from accounts.models import TotpDevice, User
from accounts.permissions import role_required
from accounts.roles import Role
from categories.models import Category, RequestType
from orders.queries import workload
from org.models import Unit, UnitKind
from supervision.queries import open_supervisions
from workcalendar.worktime import get_calendar


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if twofactor.is_enabled(user):
            twofactor.begin(self.request, user, self.get_success_url())
            return redirect("accounts:login_verify")
        lockout.succeeded(user.username, lockout.client_ip(self.request))
        return super().form_valid(form)


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def login_verify(request):
    """The second step of signing in, for users with two-step sign-in on: the code from their app."""
    pending = twofactor.pending(request)
    if pending is None:
        return redirect("accounts:login")
    user, next_url = pending
    form = CodeForm(request.POST or None)
    if form.is_valid():
        problem = twofactor.verify_code(request, user, form.cleaned_data["code"])
        if problem is None:
            return redirect(next_url)
        form.add_error(None, problem)
    return render(request, "accounts/login_verify.html", {"form": form, "title": "两步验证"})


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    """Every user's own password; the rules of AUTH_PASSWORD_VALIDATORS apply."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:home")
    extra_context = {"title": "修改密码"}

    def form_valid(self, form):
        messages.success(self.request, "密码已修改。")
        return super().form_valid(form)


@role_required(*twofactor.ENROL_ROLES)
@sensitive_post_parameters("code")
def two_factor(request):
    """Turn two-step sign-in on (secret, QR code, first code) or off (a current code)."""
    device = TotpDevice.objects.filter(user=request.user).first()
    form = CodeForm(request.POST or None)
    action = request.POST.get("action")
    if action == "start":
        twofactor.start(request.user)
        return redirect("accounts:two_factor")
    if action in ("confirm", "disable") and device is not None and form.is_valid():
        code = form.cleaned_data["code"]
        if action == "confirm" and twofactor.confirm(device, code):
            messages.success(request, "两步验证已启用：以后登录时，输入密码后还要输入验证器上的验证码。")
            return redirect("accounts:two_factor")
        if action == "disable" and twofactor.disable(device, code):
            messages.success(request, "两步验证已关闭。")
            return redirect("accounts:two_factor")
        form.add_error("code", "验证码不正确或已经用过，请输入验证器当前显示的 6 位数字。")
    context = {"title": "两步验证", "device": device, "form": form}
    if device is not None and not device.is_confirmed:
        context["uri"] = twofactor.provisioning_uri(device)
        context["qr"] = twofactor.qr_data_uri(device)
    return render(request, "accounts/two_factor.html", context)


ROLE_HOME_TITLES = {
    Role.OPERATOR: "话务员工作台",
    Role.DISPATCHER: "派单员工作台",
    Role.HANDLER: "承办单位工作台",
    Role.CALLBACK: "回访员工作台",
    Role.SUPERVISOR: "督办工作台",
    Role.LEADER: "领导驾驶舱",
    Role.ADMIN: "系统管理",
}


@role_required()
def home(request):
    """Each role's own home page."""
    user = request.user
    now = timezone.localtime()
    calendar = get_calendar()
    context = {
        "title": ROLE_HOME_TITLES[user.role],
        "today_is_working_day": calendar.is_working_day(now.date()),
        # the next ones after today (today is said on its own just before)
        "next_working_days": list(
            calendar.working_days(now.date() + timedelta(days=1), now.date() + timedelta(days=15))
        )[:5],
        "now": now,
        "may_enrol_two_factor": twofactor.may_enrol(user),
    }
    if user.role == Role.HANDLER:
        context["units"] = user.visible_units.select_related("parent")
    if user.role in (Role.DISPATCHER, Role.SUPERVISOR):
        context["direct_categories"] = (
            Category.objects.filter(default_unit__isnull=False)
            .select_related("default_unit")
            .order_by("full_name")[:20]
        )
    if user.role in (Role.LEADER, Role.ADMIN):
        context["unit_counts"] = [
            (label, Unit.objects.active().filter(kind=kind).count()) for kind, label in UnitKind.choices
        ]
        context["user_counts"] = [
            (label, User.objects.filter(role=role, is_active=True).count()) for role, label in Role.choices
        ]
    if user.role in (Role.OPERATOR, Role.ADMIN):
        context["top_categories"] = Category.objects.active().filter(level=1)
        context["request_types"] = RequestType.objects.filter(is_active=True)
        context["leaf_count"] = Category.objects.active().leaves().count()
    context["workload"] = workload(user)
    if user.role == Role.HANDLER:  # beside the inbox tabs: the 督办单 the unit has to answer
        label, count, link = open_supervisions(user)
        context["workload"].append((label, str(count), link))
    context["role_template"] = f"accounts/home/{user.role}.html"
    return render(request, "accounts/home.html", context)
