from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = "督办"

    def ready(self) -> None:
        from supervision import warnings

        warnings.connect()
