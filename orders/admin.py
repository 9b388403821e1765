from django.contrib import admin

from orders.forms import DirectDispatchRuleForm
from orders.models import DirectDispatchRule, OrderEvent, Tag, TimeLimitRule, WorkOrder


@admin.register(TimeLimitRule)
class TimeLimitRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name", "precedence", "request_type", "category", "priority", "is_enterprise",
        "sign_limit", "sign_unit", "finish_limit", "finish_unit", "is_active",
    ]  # fmt: skip
    list_filter = ["is_active", "priority", "is_enterprise"]
    autocomplete_fields = ["category"]


@admin.register(DirectDispatchRule)
class DirectDispatchRuleAdmin(admin.ModelAdmin):
    form = DirectDispatchRuleForm
    list_display = ["category", "unit", "is_active", "note"]
    autocomplete_fields = ["category", "unit"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]


class EventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "action", "actor", "from_state", "to_state", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    """Read-only: orders change only through their life cycle (the workbenches and the API)."""

    list_display = ["number", "title", "state", "lead_unit", "received_at", "due_at"]
    list_filter = ["state", "channel", "priority", "is_enterprise"]
    search_fields = ["number", "title"]
    inlines = [EventInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
