from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.utils import timezone

from accounts.models import User
from accounts.permissions import role_required
from accounts.roles import Role
from categories.models import Category, RequestType
from orders.queries import workload
from org.models import Unit, UnitKind
from workcalendar.worktime import get_calendar


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


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
        "next_working_days": [d for d in calendar.working_days(now.date(), now.date() + timezone.timedelta(days=14))][
            :5
        ],
        "now": now,
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
    context["role_template"] = f"accounts/home/{user.role}.html"
    return render(request, "accounts/home.html", context)
