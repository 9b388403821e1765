from django.apps import AppConfig


class UrgentConfig(AppConfig):
    name = "urgent"
    verbose_name = "热线要情"
