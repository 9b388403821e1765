from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from accounts import lockout
from accounts.forms import UserCreateForm
from accounts.models import ApiToken, LoginThrottle, TotpDevice, User


def _login(request, extra_context=None):
    """The admin site signs in through the staff login page, so lockout and the second step apply to it too."""
    if admin.site.has_permission(request):
        return redirect("admin:index")
    if request.user.is_authenticated:
        raise PermissionDenied("当前角色无权访问系统管理")
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), reverse("accounts:login"))


admin.site.login = _login


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    add_form = UserCreateForm
    list_display = ["username", "full_name", "role", "unit", "is_unit_manager", "is_active", "last_login"]
    list_filter = ["role", "is_unit_manager", "is_active"]
    search_fields = ["username", "full_name", "unit__name", "phone"]
    autocomplete_fields = ["unit"]
    list_select_related = ["unit"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("个人信息", {"fields": ["full_name", "email", "phone"]}),
        ("岗位", {"fields": ["role", "unit", "is_unit_manager", "is_active"]}),
        ("时间", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "fields": [
                    "username",
                    "full_name",
                    "role",
                    "unit",
                    "is_unit_manager",
                    "phone",
                    "email",
                    "password1",
                    "password2",
                ]
            },
        ),
    ]
    readonly_fields = ["last_login", "date_joined"]
    actions = ["unlock"]

    @admin.action(description="解除所选用户的登录锁定")
    def unlock(self, request, queryset) -> None:
        count = lockout.unlock(usernames=queryset.values_list("username", flat=True))
        self.message_user(request, f"已解除 {count} 个锁定")


# Roles are a field on the user; Django's permission groups are not used.
admin.site.unregister(Group)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created with ``manage.py api_token create``; the key itself is never stored or shown here."""

    list_display = ["name", "user", "key_prefix", "scopes", "is_active", "created_at", "last_used_at", "expires_at"]
    list_filter = ["is_active", "scopes"]
    search_fields = ["name", "user__username", "user__full_name", "key_prefix"]
    list_select_related = ["user"]
    fields = [
        "name", "user", "key_prefix", "key_hash", "scopes", "is_active", "expires_at", "created_at", "last_used_at",
    ]  # fmt: skip
    readonly_fields = ["user", "key_prefix", "key_hash", "scopes", "created_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="吊销所选令牌")
    def revoke(self, request, queryset) -> None:
        count = queryset.filter(is_active=True).update(is_active=False)
        self.message_user(request, f"已吊销 {count} 个令牌")


@admin.register(LoginThrottle)
class LoginThrottleAdmin(admin.ModelAdmin):
    """Counts kept by ``accounts/lockout.py``; the only change an administrator makes is to unlock."""

    list_display = ["value", "kind", "failures", "window_started_at", "locked_until", "is_locked"]
    list_filter = ["kind"]
    search_fields = ["value"]
    actions = ["unlock"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(boolean=True, description="锁定中")
    def is_locked(self, obj: LoginThrottle) -> bool:
        return obj.locked_until is not None and obj.locked_until > timezone.now()

    @admin.action(description="解除锁定")
    def unlock(self, request, queryset) -> None:
        count = lockout.unlock(throttles=queryset)
        self.message_user(request, f"已解除 {count} 个锁定")


@admin.register(TotpDevice)
class TotpDeviceAdmin(admin.ModelAdmin):
    """Users enrol on their own page; an administrator deletes a row to switch two-step sign-in off (a lost phone)."""

    list_display = ["user", "confirmed_at", "created_at"]
    search_fields = ["user__username", "user__full_name"]
    list_select_related = ["user"]
    fields = ["user", "confirmed_at", "created_at"]
    readonly_fields = ["user", "confirmed_at", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
