"""Daily roll-up of the counters behind every indicator (analytics/rollup.py fills it, indicators.py reads it).

One row per day and combination of the order's dimensions (lead unit, category, area, channel, request type,
enterprise flag). A dashboard over a year of a big city sums a few hundred thousand narrow rows instead of
scanning millions of orders and their callbacks.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

COUNTERS = (
    "received", "direct", "dispatched", "responded", "finished", "on_time", "handling_seconds",
    "valid_callbacks", "resolved", "satisfied", "returns", "reopens", "extensions", "supervised",
)  # fmt: skip


class DailyStat(models.Model):
    day = models.DateField(_("日期"))
    unit = models.ForeignKey("org.Unit", null=True, on_delete=models.CASCADE, related_name="+")
    unit_path = models.CharField(max_length=255, blank=True)  # the lead unit's path, for "with sub-units"
    category1 = models.ForeignKey("categories.Category", null=True, on_delete=models.CASCADE, related_name="+")
    category2 = models.ForeignKey("categories.Category", null=True, on_delete=models.CASCADE, related_name="+")
    category3 = models.ForeignKey("categories.Category", null=True, on_delete=models.CASCADE, related_name="+")
    area = models.ForeignKey("org.Unit", null=True, on_delete=models.CASCADE, related_name="+")
    area_path = models.CharField(max_length=255, blank=True)
    channel = models.CharField(max_length=12, blank=True)
    request_type = models.ForeignKey("categories.RequestType", null=True, on_delete=models.CASCADE, related_name="+")
    is_enterprise = models.BooleanField(default=False)

    received = models.IntegerField(default=0)
    direct = models.IntegerField(default=0)
    dispatched = models.IntegerField(default=0)
    responded = models.IntegerField(default=0)
    finished = models.IntegerField(default=0)
    on_time = models.IntegerField(default=0)
    handling_seconds = models.BigIntegerField(default=0)
    valid_callbacks = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    returns = models.IntegerField(default=0)
    reopens = models.IntegerField(default=0)
    extensions = models.IntegerField(default=0)
    supervised = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("日统计")
        verbose_name_plural = _("日统计")
        indexes = [
            models.Index(fields=["day", "unit"]),
            models.Index(fields=["unit_path", "day"]),
            models.Index(fields=["area_path", "day"]),
            models.Index(fields=["category1", "day"]),
        ]


class RollupState(models.Model):
    """Up to when order changes have been rolled up; the run that moves it (conditional UPDATE) does the work."""

    name = models.CharField(max_length=30, primary_key=True)
    watermark = models.DateTimeField()

    class Meta:
        verbose_name = _("统计进度")
        verbose_name_plural = _("统计进度")
