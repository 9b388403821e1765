from django.contrib import admin

from supervision.models import SupervisionOrder, WarningRule


@admin.register(WarningRule)
class WarningRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "tag", "yellow_share", "orange_hours", "red_hours"]


@admin.register(SupervisionOrder)
class SupervisionOrderAdmin(admin.ModelAdmin):
    """Read-only here: supervision orders are issued, answered and escalated through their own pages."""

    list_display = ["number", "unit", "status", "deadline", "issued_by", "issued_at"]
    list_filter = ["status"]
    search_fields = ["number", "unit__name"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
