from django.contrib import admin

from categories.models import Category, RequestType


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["full_name", "level", "default_unit", "is_active", "sort_order"]
    list_filter = ["level", "is_active"]
    search_fields = ["name", "full_name"]
    autocomplete_fields = ["parent", "default_unit"]
    list_select_related = ["default_unit"]


@admin.register(RequestType)
class RequestTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_active", "sort_order"]
    list_editable = ["is_active", "sort_order"]
