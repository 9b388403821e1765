from django.contrib import admin

from open311.models import Open311Key, Submission


@admin.register(Open311Key)
class Open311KeyAdmin(admin.ModelAdmin):
    """Keys are made with ``manage.py open311_key create`` (the key is shown once there); here they are revoked."""

    list_display = ["name", "user", "key_prefix", "is_active", "created_at", "last_used_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "key_prefix", "user__username"]
    list_select_related = ["user"]
    fields = ["name", "user", "key_prefix", "key_hash", "is_active", "created_at", "last_used_at"]
    readonly_fields = ["user", "key_prefix", "key_hash", "created_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="吊销所选密钥")
    def revoke(self, request, queryset) -> None:
        count = queryset.filter(is_active=True).update(is_active=False)
        self.message_user(request, f"已吊销 {count} 个密钥")


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    """A record of what came in; the order itself is changed only through its life cycle."""

    list_display = ["token", "order", "key", "created_at"]
    list_filter = ["key"]
    search_fields = ["token", "order__number", "account_id", "device_id"]
    list_select_related = ["order", "key"]
    readonly_fields = ["order", "key", "token", "email", "device_id", "account_id", "media_url", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
