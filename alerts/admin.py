from django.contrib import admin

from alerts.models import AlertRule, TrendAlert


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    """Thresholds of each kind of check; ``AlertRule.clean`` refuses bad values with the field named."""

    list_display = ["kind", "window_hours", "baseline_weeks", "min_count", "min_ratio", "max_p", "is_active"]


@admin.register(TrendAlert)
class TrendAlertAdmin(admin.ModelAdmin):
    """Read-only here: alerts are raised by the hourly job and handled on their own pages."""

    list_display = ["__str__", "status", "observed", "expected", "responsible_unit", "last_detected_at"]
    list_filter = ["status", "kind", "dimension"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
