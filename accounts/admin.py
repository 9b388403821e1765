from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group

from accounts.forms import UserCreateForm
from accounts.models import ApiToken, User


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


# Roles are a field on the user; Django's permission groups are not used.
admin.site.unregister(Group)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created with ``manage.py api_token create``; the key itself is never stored or shown here."""

    list_display = ["name", "user", "key_prefix", "is_active", "created_at", "last_used_at", "expires_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "user__username", "user__full_name", "key_prefix"]
    list_select_related = ["user"]
    fields = ["name", "user", "key_prefix", "key_hash", "is_active", "expires_at", "created_at", "last_used_at"]
    readonly_fields = ["user", "key_prefix", "key_hash", "created_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="吊销所选令牌")
    def revoke(self, request, queryset) -> None:
        count = queryset.filter(is_active=True).update(is_active=False)
        self.message_user(request, f"已吊销 {count} 个令牌")
