from django.contrib import admin

from calls.models import Call


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("call_id", "caller", "agent", "state", "ringing_at", "ended_at", "order")
    list_filter = ("state",)
    search_fields = ("call_id", "caller")
    readonly_fields = ("call_id", "caller", "agent", "state", "ringing_at", "answered_at", "ended_at", "order")
