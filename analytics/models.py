"""The roll-up of the counters behind every indicator (analytics/rollup.py fills it, indicators.py reads it).

``OrderFact``: what each order counts on each day, with its dimensions (lead unit, category, area, channel,
request type, enterprise flag). ``RollupCell``: those counters summed per day and per month over a few coarse
grains (e.g. unit × category): a dashboard over a year of a big city sums a few thousand cells instead of
scanning millions of orders and their callbacks. Both are maintained by differences when orders change.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

COUNTERS = (
    "received", "direct", "dispatched", "responded", "finished", "on_time", "handling_seconds",
    "valid_callbacks", "resolved", "satisfied", "returns", "reopens", "extensions", "supervised", "escalated",
    "not_accepted",
)  # fmt: skip


DERIVED = {"null": True, "on_delete": models.CASCADE, "related_name": "+", "db_constraint": False, "db_index": False}


class Dimensions(models.Model):
    """The order's dimensions and the counters, shared by the per-order facts and the roll-up cells."""

    day = models.DateField(_("日期"))
    # Derived rows written by the million: no foreign-key checks and no single-column indexes on the dimensions
    # (OrderFact's indexes below serve the queries; a cell is found by its unique key).
    unit = models.ForeignKey("org.Unit", **DERIVED)
    unit_path = models.CharField(max_length=255, blank=True)  # the lead unit's path, for "with sub-units"
    category1 = models.ForeignKey("categories.Category", **DERIVED)
    category2 = models.ForeignKey("categories.Category", **DERIVED)
    category3 = models.ForeignKey("categories.Category", **DERIVED)
    area = models.ForeignKey("org.Unit", **DERIVED)
    area_path = models.CharField(max_length=255, blank=True)
    channel = models.CharField(max_length=12, blank=True)
    request_type = models.ForeignKey("categories.RequestType", **DERIVED)
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
    escalated = models.IntegerField(default=0)
    not_accepted = models.IntegerField(default=0)

    class Meta:
        abstract = True


class OrderFact(Dimensions):
    """What one order counts on one day: the finest level, replaced whenever the order changes. The difference
    between an order's old and new facts is what the roll-up cells are moved by."""

    order = models.ForeignKey("orders.WorkOrder", on_delete=models.CASCADE, related_name="+", db_constraint=False)

    class Meta:
        verbose_name = _("工单统计事实")
        verbose_name_plural = _("工单统计事实")
        indexes = [
            models.Index(fields=["order"]),
            models.Index(fields=["day", "unit"]),
            models.Index(fields=["unit_path", "day"]),
            models.Index(fields=["area_path", "day"]),
            models.Index(fields=["category3", "day"]),
            models.Index(fields=["category2", "day"]),
            models.Index(fields=["category1", "day"]),
        ]


class Span(models.TextChoices):
    DAY = "d", _("日")
    MONTH = "m", _("月")


class RollupCell(Dimensions):
    """The counters summed over one day or one month (``day`` is then the month's first day) for one value of a
    grain's dimensions (analytics/rollup.py lists the grains); the other dimensions are empty. ``key`` spells the
    grain's values, so that a change is added with one upsert per cell."""

    grain = models.CharField(max_length=20)
    span = models.CharField(max_length=1, choices=Span.choices)
    key = models.CharField(max_length=600)

    class Meta:
        verbose_name = _("统计汇总")
        verbose_name_plural = _("统计汇总")
        constraints = [models.UniqueConstraint(fields=["grain", "span", "day", "key"], name="rollup_cell_unique")]
        # A dashboard for one category or one unit (with its sub-units) over a period reads that grain's cells of
        # that value only, not every cell of the period.
        indexes = [
            models.Index(fields=["grain", "category1", "span", "day"], name="rollup_cell_category1_idx"),
            models.Index(fields=["grain", "category2", "span", "day"], name="rollup_cell_category2_idx"),
            models.Index(
                fields=["grain", "unit_path", "span", "day"],
                name="rollup_cell_unit_path_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops", "varchar_pattern_ops", "date_ops"],
            ),
            models.Index(
                fields=["grain", "area_path", "span", "day"],
                name="rollup_cell_area_path_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops", "varchar_pattern_ops", "date_ops"],
            ),
        ]


class RollupState(models.Model):
    """Up to when order changes have been rolled up; the run that moves it (conditional UPDATE) does the work."""

    name = models.CharField(max_length=30, primary_key=True)
    watermark = models.DateTimeField()

    class Meta:
        verbose_name = _("统计进度")
        verbose_name_plural = _("统计进度")


class HotIssue(models.Model):
    """One issue of a 热点问题 snapshot: the hottest issues of the last days, recomputed by the worker.

    Each run writes a whole snapshot (same ``computed_at``); the dashboard shows the latest, the daily report
    compares with earlier ones. Message ids are the orders' numbers, so the orders behind an issue are kept.
    """

    computed_at = models.DateTimeField(_("计算时间"), db_index=True)
    window_start = models.DateTimeField(_("统计起点"))
    window_end = models.DateTimeField(_("统计终点"))
    rank = models.PositiveIntegerField(_("热度排名"))
    heat = models.FloatField(_("热度指数"))
    first_at = models.DateTimeField(_("最早受理"))
    last_at = models.DateTimeField(_("最近受理"))
    place = models.CharField(_("地点/人群"), max_length=200, blank=True)
    description = models.CharField(_("问题描述"), max_length=300)
    order_count = models.PositiveIntegerField(_("工单数"))
    caller_count = models.PositiveIntegerField(_("诉求人数"))
    orders = models.ManyToManyField("orders.WorkOrder", related_name="+", verbose_name=_("工单"))

    class Meta:
        ordering = ["-computed_at", "rank"]
        verbose_name = _("热点问题")
        verbose_name_plural = _("热点问题")

    @property
    def time_range(self) -> str:
        return f"{self.first_at:%Y/%m/%d} 至 {self.last_at:%Y/%m/%d}"

    @classmethod
    def latest(cls) -> models.QuerySet:
        """The issues of the latest snapshot, hottest first (none before the first run)."""
        newest = cls.objects.order_by("-computed_at").values_list("computed_at", flat=True).first()
        return cls.objects.filter(computed_at=newest).order_by("rank") if newest else cls.objects.none()


class ReportKind(models.TextChoices):
    DAILY = "daily", _("热线要情（日报）")
    WEEKLY = "weekly", _("周统计")
    MONTHLY = "monthly", _("月报告")
    ANNUAL = "annual", _("年度分析")


class Report(models.Model):
    """An archived report: its period, the figures it was made from, and the XLSX and PDF files made from them."""

    kind = models.CharField(_("报告类型"), max_length=10, choices=ReportKind.choices)
    start = models.DateField(_("起始日期"))
    end = models.DateField(_("截止日期"))  # inclusive
    title = models.CharField(_("标题"), max_length=100)
    data = models.JSONField(_("数据"))
    xlsx = models.BinaryField(_("Excel 文件"))
    pdf = models.BinaryField(_("PDF 文件"))
    generated_at = models.DateTimeField(_("生成时间"))
    generated_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("生成人"),
    )  # fmt: skip
    mailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)

    class Meta:
        ordering = ["-start", "kind"]
        verbose_name = _("统计报告")
        verbose_name_plural = _("统计报告")
        constraints = [models.UniqueConstraint(fields=["kind", "start"], name="report_unique_period")]

    def __str__(self) -> str:
        return self.title


class ReportSubscription(models.Model):
    """A user who receives a kind of report by email as soon as it is generated on schedule."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="report_subscriptions")
    kind = models.CharField(_("报告类型"), max_length=10, choices=ReportKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("报告订阅")
        verbose_name_plural = _("报告订阅")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="report_subscription_unique")]


class ReplyScore(models.Model):
    """答复质量 of an order's latest unit reply (analytics/reply_quality.py), stored by the worker after the reply
    so that per-unit summaries are one aggregate query, not a scoring run over every reply of the period."""

    order = models.OneToOneField("orders.WorkOrder", on_delete=models.CASCADE, related_name="reply_score")
    unit = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")
    replied_at = models.DateTimeField(_("答复时间"))
    relevance = models.FloatField(_("相关性"))
    completeness = models.FloatField(_("完整性"))
    substance = models.FloatField(_("实质内容"))
    timeliness = models.FloatField(_("及时性"), null=True)
    score = models.FloatField(_("得分"))
    flags = models.CharField(_("问题标记"), max_length=200, blank=True)  # ",template_only,late," or ""

    class Meta:
        verbose_name = _("答复质量评分")
        verbose_name_plural = _("答复质量评分")
        indexes = [models.Index(fields=["replied_at", "unit"])]
