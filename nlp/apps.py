from django.apps import AppConfig


class NlpConfig(AppConfig):
    name = "nlp"
    verbose_name = "智能分析"
