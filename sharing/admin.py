"""Subscriptions are set up here; deliveries are read here and dead letters replayed."""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from sharing.kinds import Kind
from sharing.models import Delivery, Subscription
from sharing.outbox import replay


class SubscriptionForm(forms.ModelForm):
    kinds = forms.MultipleChoiceField(
        label="事件类型", choices=Kind.choices, widget=forms.CheckboxSelectMultiple, initial=Kind.values
    )

    class Meta:
        model = Subscription
        fields = ["name", "unit", "url", "kinds", "max_attempts", "is_active"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ["name", "unit", "url", "is_active", "cursor", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "unit__name", "url"]
    autocomplete_fields = ["unit"]
    readonly_fields = ["secret", "cursor", "created_at"]


class DeliveryAdminBase(admin.ModelAdmin):
    """Read-only but for the replay of dead letters: deliveries change only through ``sharing/outbox.py``."""

    actions = ["replay_dead"]

    @admin.action(description="重新投递所选死信")
    def replay_dead(self, request, queryset) -> None:
        selected = queryset.count()
        count = replay(queryset, timezone.now())
        self.message_user(request, f"已重新排队 {count} 条死信，后台下一次运行时发送。", messages.SUCCESS)
        if selected > count:
            self.message_user(request, f"{selected - count} 条不是死信，未处理。", messages.WARNING)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(DeliveryAdminBase):
    """Deliveries change only through ``sharing/delivery.py``."""

    list_display = [
        "subscription", "order_number", "action", "status", "attempts", "next_attempt_at", "last_error", "delivered_at",
    ]  # fmt: skip
    list_filter = ["status", "subscription"]
    list_select_related = ["subscription", "event__order"]
    search_fields = ["event__order__number"]

    @admin.display(description="工单编号")
    def order_number(self, obj: Delivery) -> str:
        return obj.event.order.number

    @admin.display(description="动作")
    def action(self, obj: Delivery) -> str:
        return obj.event.get_action_display()
