from django.apps import AppConfig
from django.core import checks


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "统计分析"

    def ready(self) -> None:
        checks.register(report_font_check)


def report_font_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """PDF reports embed a Chinese font from the system: say so at start-up if there is none."""
    from analytics.fonts import NoChineseFont, chinese_font

    try:
        chinese_font()
    except NoChineseFont as exc:
        return [checks.Warning(str(exc), id="analytics.W001")]
    return []
