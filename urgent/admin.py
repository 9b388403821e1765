"""Leaders' group robots are set up here; robot deliveries are read here and dead letters replayed.

The rules have their own page (热线要情 › 要情规则); items change only through the push job and the claim.
"""

from django.contrib import admin

from sharing.admin import DeliveryAdminBase
from urgent.models import LeaderWebhook, WebhookDelivery


@admin.register(LeaderWebhook)
class LeaderWebhookAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "unit", "url", "is_active", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "unit__name", "url"]
    autocomplete_fields = ["unit"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(DeliveryAdminBase):
    """Deliveries change only through ``urgent/webhooks.py``."""

    list_display = ["hook", "order_number", "status", "attempts", "next_attempt_at", "last_error", "delivered_at"]
    list_filter = ["status", "hook"]
    list_select_related = ["hook", "item__order"]
    search_fields = ["item__order__number"]

    @admin.display(description="工单编号")
    def order_number(self, obj: WebhookDelivery) -> str:
        return obj.item.order.number
