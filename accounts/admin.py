from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group

from accounts.forms import UserCreateForm
from accounts.models import User


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
