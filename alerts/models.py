"""监测预警: the thresholds of each kind of check (``AlertRule``) and the alerts the hourly job raises (``TrendAlert``).

An alert belongs to one series (``series_key``: category × area, a lead unit, or 涉企 orders) and one kind.
At most one alert per series and kind is not yet closed — a partial unique constraint, so two schedulers
running the job at once cannot both create it (``alerts/trends.py`` turns the loser's insert into an update).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from categories.models import Category
from orders.models import WorkOrder
from org.models import Unit

MAX_WINDOW_HOURS = 7 * 24  # the history windows are whole weeks back: a longer window would overlap them
MAX_WEEKS = 12


class Kind(models.TextChoices):
    BURST = "burst", _("短时激增")
    RISE = "rise", _("持续上升")


class Dimension(models.TextChoices):
    CATEGORY_AREA = "category_area", _("分类 × 区域")
    UNIT = "unit", _("承办单位")
    ENTERPRISE = "enterprise", _("涉企诉求")


class Status(models.TextChoices):
    OPEN = "open", _("待处置")
    HANDLED = "handled", _("已处置")
    CLOSED = "closed", _("已关闭")


class AlertRule(models.Model):
    """The window and thresholds of one kind of check; validated whenever it is saved."""

    kind = models.CharField(_("预警类型"), max_length=10, choices=Kind.choices, unique=True)
    window_hours = models.PositiveIntegerField(
        _("统计窗口（小时）"), help_text=_("最近多少小时的工单量，如短时激增 2、持续上升 168（7 天）。")
    )
    baseline_weeks = models.PositiveSmallIntegerField(
        _("基线周数"), help_text=_("与前几周同一星期、同一时段的工单量比较。")
    )
    min_count = models.PositiveIntegerField(_("最少工单数"), help_text=_("窗口内工单少于此数不预警。"))
    min_ratio = models.FloatField(_("最低倍数"), help_text=_("实际量至少是预期量的几倍，不小于 1。"))
    max_p = models.FloatField(_("显著性阈值 p"), help_text=_("在 0 和 1 之间；越小越不容易预警，如 0.001。"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("预警阈值")
        verbose_name_plural = _("预警阈值")
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.window_hours} 小时，≥{self.min_count} 件，≥{self.min_ratio} 倍"

    def clean(self) -> None:
        errors = {}
        if self.window_hours is None or not 1 <= self.window_hours <= MAX_WINDOW_HOURS:
            errors["window_hours"] = _("统计窗口必须在 1 到 %(max)s 小时之间。") % {"max": MAX_WINDOW_HOURS}
        if self.baseline_weeks is None or not 1 <= self.baseline_weeks <= MAX_WEEKS:
            errors["baseline_weeks"] = _("基线周数必须在 1 到 %(max)s 之间。") % {"max": MAX_WEEKS}
        if self.min_count is None or self.min_count < 1:
            errors["min_count"] = _("最少工单数必须是正整数。")
        if self.min_ratio is None or not self.min_ratio >= 1:  # also refuses NaN
            errors["min_ratio"] = _("最低倍数不能小于 1。")
        if self.max_p is None or not 0 < self.max_p < 1:
            errors["max_p"] = _("显著性阈值 p 必须大于 0 且小于 1。")
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs) -> None:
        self.full_clean()
        super().save(*args, **kwargs)


class TrendAlert(models.Model):
    """One anomaly of one series, with the numbers of its latest window and the orders behind it."""

    kind = models.CharField(_("预警类型"), max_length=10, choices=Kind.choices)
    dimension = models.CharField(_("监测维度"), max_length=16, choices=Dimension.choices)
    series_key = models.CharField(_("序列"), max_length=64, editable=False)
    category = models.ForeignKey(
        Category, verbose_name=_("诉求分类"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        Unit, verbose_name=_("区域"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("承办单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_enterprise = models.BooleanField(_("涉企"), default=False)
    responsible_unit = models.ForeignKey(
        Unit, verbose_name=_("责任单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="trend_alerts"
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)

    window_start = models.DateTimeField(_("窗口开始"))
    window_end = models.DateTimeField(_("窗口结束"))
    observed = models.PositiveIntegerField(_("实际工单数"))
    expected = models.FloatField(_("预期工单数"))
    ratio = models.FloatField(_("倍数"))
    p_value = models.FloatField(_("p 值"))
    peak_observed = models.PositiveIntegerField(_("最高工单数"), default=0)

    orders = models.ManyToManyField(WorkOrder, verbose_name=_("相关工单"), related_name="trend_alerts", blank=True)
    first_detected_at = models.DateTimeField(_("首次预警"))
    last_detected_at = models.DateTimeField(_("最近预警"))

    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("处置人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    handled_at = models.DateTimeField(_("处置时间"), null=True, blank=True)
    parent_order = models.ForeignKey(
        WorkOrder, verbose_name=_("多人一诉主工单"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    supervision = models.ForeignKey(
        "supervision.SupervisionOrder", verbose_name=_("督办单"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    closed_reason = models.CharField(_("关闭原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("监测预警")
        verbose_name_plural = _("监测预警")
        ordering = ["-last_detected_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "series_key"], condition=~models.Q(status="closed"), name="one_active_alert_per_series"
            )
        ]
        indexes = [models.Index(fields=["status", "last_detected_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.series_label}"

    @property
    def series_label(self) -> str:
        """“A3区 · 城乡建设 › 供水”, “国网A市供电公司”, “涉企 · 全市” …"""
        if self.dimension == Dimension.UNIT:
            return self.unit.name if self.unit_id else "—"
        parts = [self.district.name if self.district_id else "全市"]
        if self.dimension == Dimension.ENTERPRISE:
            parts.insert(0, "涉企")
        if self.category_id:
            parts.append(self.category.full_name)
        return " · ".join(parts)

    @property
    def window_hours(self) -> float:
        return (self.window_end - self.window_start).total_seconds() / 3600
