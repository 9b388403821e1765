from django.contrib import admin

from knowledge.models import Synonym


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin):
    """同义词: edited here; a query containing one word of a group also finds articles with the others."""

    list_display = ["words"]
    search_fields = ["words"]
