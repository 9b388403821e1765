"""Run-time settings, worker heartbeats and the periodic-job table of the scheduler."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from system.config import parse_setting
from system.defaults import SETTINGS


class Setting(models.Model):
    key = models.CharField(_("设置项"), max_length=64, unique=True, choices=[(k, s.label) for k, s in SETTINGS.items()])
    value = models.TextField(_("值"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("系统设置")
        verbose_name_plural = _("系统设置")

    def __str__(self) -> str:
        return f"{self.get_key_display()} = {self.value}"

    def clean(self) -> None:
        if self.key not in SETTINGS:
            raise ValidationError({"key": _("未知的设置项。")})
        try:
            parse_setting(self.key, self.value)
        except (ValueError, TypeError) as exc:
            raise ValidationError({"value": str(exc)}) from exc


class Heartbeat(models.Model):
    """Last sign of life of a background process (the scheduler, the task worker)."""

    name = models.CharField(_("进程"), max_length=64, primary_key=True)
    last_seen = models.DateTimeField(_("最近心跳"))

    class Meta:
        verbose_name = _("后台心跳")
        verbose_name_plural = _("后台心跳")

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"


class PeriodicJob(models.Model):
    """When each periodic job is next due. Schedulers claim a run with a conditional UPDATE on next_run_at."""

    name = models.CharField(_("任务"), max_length=64, primary_key=True)
    next_run_at = models.DateTimeField(_("下次运行"))
    last_run_at = models.DateTimeField(_("上次运行"), null=True, blank=True)

    class Meta:
        verbose_name = _("定时任务")
        verbose_name_plural = _("定时任务")

    def __str__(self) -> str:
        return self.name
