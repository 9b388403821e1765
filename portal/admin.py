from django.contrib import admin

from portal.models import Submission


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("code", "kind", "title", "status", "created_at", "order")
    list_filter = ("status", "kind")
    search_fields = ("code", "title")
    readonly_fields = ("code", "ip", "order", "handled_by", "handled_at", "rating", "rated_at", "created_at")
