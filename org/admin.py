from django.contrib import admin

from org.forms import UnitForm
from org.models import Unit


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    form = UnitForm
    list_display = ["indented_name", "code", "kind", "area", "contact_person", "contact_phone", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "area"]
    autocomplete_fields = ["parent"]

    @admin.display(description="单位名称", ordering="path")
    def indented_name(self, unit: Unit) -> str:
        return "　" * unit.depth + unit.name
