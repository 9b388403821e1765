"""Supervision: warning thresholds and supervision orders (督办单)."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models import DailyCounter, Tag, WorkOrder
from org.models import Unit


class WarningRule(models.Model):
    """赋色预警 thresholds; the row without a tag is the default, a row with a tag applies to orders carrying it."""

    tag = models.OneToOneField(
        Tag, verbose_name=_("标签"), null=True, blank=True, on_delete=models.CASCADE,
        help_text=_("留空为默认规则；带此标签的工单按本规则赋色。"),
    )  # fmt: skip
    yellow_share = models.DecimalField(
        _("黄色：剩余时限少于"), max_digits=3, decimal_places=2, default=Decimal("0.25"),
        help_text=_("剩余办理时间占总时限的比例，0.25 即四分之一。"),
    )  # fmt: skip
    orange_hours = models.DecimalField(
        _("橙色：派单后未签收（小时）"), max_digits=6, decimal_places=1, default=Decimal("24")
    )
    red_hours = models.DecimalField(
        _("红色：派单后未签收（小时）"), max_digits=6, decimal_places=1, default=Decimal("48")
    )

    class Meta:
        verbose_name = _("预警规则")
        verbose_name_plural = _("预警规则")
        ordering = [models.F("tag").asc(nulls_first=True)]

    def __str__(self) -> str:
        return f"{self.tag.name if self.tag else '默认'}：{self.orange_hours}/{self.red_hours} 小时"

    def clean(self) -> None:
        if self.tag_id is None and WarningRule.objects.filter(tag=None).exclude(pk=self.pk).exists():
            raise ValidationError({"tag": _("已有默认规则（不带标签），请修改它。")})
        if not (0 < self.yellow_share < 1):
            raise ValidationError({"yellow_share": _("比例应在 0 和 1 之间。")})
        if self.orange_hours <= 0 or self.red_hours <= self.orange_hours:
            raise ValidationError({"red_hours": _("红色时限须大于橙色时限，且都大于 0。")})


class SupervisionStatus(models.TextChoices):
    OPEN = "open", _("待答复")
    ANSWERED = "answered", _("已答复")
    ESCALATED = "escalated", _("已升级")


class SupervisionOrder(models.Model):
    """督办单: a formal demand to a unit about one or more orders, with requirements and a deadline."""

    number = models.CharField(_("督办单号"), max_length=20, unique=True)
    unit = models.ForeignKey(Unit, verbose_name=_("督办单位"), on_delete=models.PROTECT, related_name="supervisions")
    orders = models.ManyToManyField(WorkOrder, verbose_name=_("督办工单"), related_name="supervisions")
    requirements = models.TextField(_("督办要求"))
    deadline = models.DateTimeField(_("答复期限"), db_index=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=SupervisionStatus.choices, default=SupervisionStatus.OPEN, db_index=True
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("督办人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    issued_at = models.DateTimeField(_("督办时间"))
    answer = models.TextField(_("答复"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("答复人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    escalated_from = models.OneToOneField(
        "self", verbose_name=_("由此升级"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="escalated_to",
    )  # fmt: skip
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("督办单")
        verbose_name_plural = _("督办单")
        ordering = ["-issued_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.number} → {self.unit}"


class SupervisionCounter(DailyCounter):
    """The sequence of 督办单 numbers (DB20261122000012), apart from the work orders' so neither skips numbers."""


class Cause(models.TextChoices):
    UNCLEAR_DUTY = "unclear_duty", _("职能不清")
    LEGACY = "legacy", _("历史遗留")
    INTERESTS = "interests", _("多方利益")
    POLICY_GAP = "policy_gap", _("政策缺失")
    OTHER = "other", _("其他")


class RuleKind(models.TextChoices):
    RETURNS = "returns", _("退单次数达到")
    REOPENS = "reopens", _("重办次数达到")
    UNITS = "units", _("涉及单位数达到")
    OVERDUE_DAYS = "overdue_days", _("超期天数达到")
    CALLERS = "callers", _("同一问题诉求人数达到")


class DifficultyRule(models.Model):
    """An editable rule that flags open orders as 疑难工单 automatically."""

    kind = models.CharField(_("条件"), max_length=16, choices=RuleKind.choices, unique=True)
    threshold = models.PositiveSmallIntegerField(_("阈值"))
    cause = models.CharField(_("默认原因"), max_length=16, choices=Cause.choices, default=Cause.OTHER)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("疑难工单规则")
        verbose_name_plural = _("疑难工单规则")
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.threshold}"

    def clean(self) -> None:
        if not self.threshold:
            raise ValidationError({"threshold": _("阈值必须大于 0。")})


class CaseStatus(models.TextChoices):
    OPEN = "open", _("研判办理中")
    RESOLVED = "resolved", _("已办结")


class DifficultCase(models.Model):
    """疑难工单: an order flagged (by a rule or by hand) with its cause, tracked until the order is archived."""

    order = models.OneToOneField(WorkOrder, verbose_name=_("工单"), on_delete=models.PROTECT, related_name="difficult")
    cause = models.CharField(_("原因"), max_length=16, choices=Cause.choices)
    reason = models.TextField(_("列入说明"))
    rule = models.CharField(_("触发规则"), max_length=16, choices=RuleKind.choices, blank=True)
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("列入人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    flagged_at = models.DateTimeField(_("列入时间"), db_index=True)
    status = models.CharField(_("状态"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("疑难工单")
        verbose_name_plural = _("疑难工单")
        ordering = ["-flagged_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.order.number}（{self.get_cause_display()}）"


class JointReview(models.Model):
    """联席研判: the meeting on a difficult order, its conclusion, the units assigned and the new deadline."""

    case = models.ForeignKey(
        DifficultCase, verbose_name=_("疑难工单"), on_delete=models.PROTECT, related_name="reviews"
    )
    held_at = models.DateTimeField(_("研判时间"))
    participants = models.TextField(_("参会单位和人员"))
    conclusion = models.TextField(_("研判结论"))
    lead_unit = models.ForeignKey(Unit, verbose_name=_("主办单位"), on_delete=models.PROTECT, related_name="+")
    co_units = models.ManyToManyField(Unit, verbose_name=_("协办单位"), blank=True, related_name="+")
    new_deadline = models.DateTimeField(_("新的办结时限"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("联席研判")
        verbose_name_plural = _("联席研判")
        ordering = ["held_at", "pk"]


class WhistleStatus(models.TextChoices):
    OPEN = "open", _("报到办理中")
    RESOLVED = "resolved", _("已解决")
    UNRESOLVED = "unresolved", _("未解决")


class Whistle(models.Model):
    """吹哨报到: a street summons departments to an order it cannot solve alone."""

    order = models.ForeignKey(WorkOrder, verbose_name=_("工单"), on_delete=models.PROTECT, related_name="whistles")
    street = models.ForeignKey(Unit, verbose_name=_("吹哨街道"), on_delete=models.PROTECT, related_name="whistles")
    description = models.TextField(_("吹哨事由"))
    blown_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    blown_at = models.DateTimeField(_("吹哨时间"), db_index=True)
    report_due_at = models.DateTimeField(_("报到时限"))
    status = models.CharField(_("状态"), max_length=10, choices=WhistleStatus.choices, default=WhistleStatus.OPEN)
    outcome = models.TextField(_("办理结果"), blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("吹哨报到")
        verbose_name_plural = _("吹哨报到")
        ordering = ["-blown_at", "-pk"]


class WhistleCall(models.Model):
    """One department summoned by a whistle: it must report (报到) by the deadline and record its action."""

    whistle = models.ForeignKey(Whistle, on_delete=models.CASCADE, related_name="calls")
    department = models.ForeignKey(Unit, verbose_name=_("报到部门"), on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(_("报到时间"), null=True, blank=True)
    action = models.TextField(_("采取的行动"), blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    late_notified = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("报到部门")
        verbose_name_plural = _("报到部门")
        constraints = [models.UniqueConstraint(fields=["whistle", "department"], name="one_call_per_department")]

    @property
    def on_time(self) -> bool | None:
        return None if self.reported_at is None else self.reported_at <= self.whistle.report_due_at


class SpotCheckStatus(models.TextChoices):
    OPEN = "open", _("抽查中")
    CLOSED = "closed", _("已结束")


class Verdict(models.TextChoices):
    """One answer of the spot-check checklist."""

    YES = "yes", _("是")
    NO = "no", _("否")
    UNKNOWN = "unknown", _("无法核实")


class SpotCheck(models.Model):
    """专员抽查: a random sample of one unit's replied or archived orders in a period (``supervision/spotchecks.py``).

    The seed is stored so that the same unit, period and population always give the same sample."""

    unit = models.ForeignKey(Unit, verbose_name=_("被抽查单位"), on_delete=models.PROTECT, related_name="spot_checks")
    period_start = models.DateField(_("期间开始"))
    period_end = models.DateField(_("期间结束"))
    population = models.PositiveIntegerField(_("总体工单数"))
    sample_size = models.PositiveIntegerField(_("抽样数量"))
    seed = models.PositiveBigIntegerField(_("随机种子"))
    status = models.CharField(
        _("状态"), max_length=10, choices=SpotCheckStatus.choices, default=SpotCheckStatus.OPEN, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("抽查人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("抽查时间"), db_index=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("专员抽查")
        verbose_name_plural = _("专员抽查")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.unit} {self.period_start}～{self.period_end}"


class SpotCheckItem(models.Model):
    """One sampled order with its checklist; an answer “否” or an explicit flag makes it a finding (问题)."""

    spot_check = models.ForeignKey(SpotCheck, verbose_name=_("抽查"), on_delete=models.CASCADE, related_name="items")
    order = models.ForeignKey(
        WorkOrder, verbose_name=_("工单"), on_delete=models.PROTECT, related_name="spot_check_items"
    )
    activity_date = models.DateField(
        _("答复/归档日期"), db_index=True, help_text=_("工单进入抽样总体的日期（北京时间）。")
    )
    substance = models.CharField(_("答复有实质内容"), max_length=10, choices=Verdict.choices, blank=True)
    contact = models.CharField(_("确实联系了市民"), max_length=10, choices=Verdict.choices, blank=True)
    result_true = models.CharField(_("办理结果属实"), max_length=10, choices=Verdict.choices, blank=True)
    note = models.TextField(_("审核意见"), blank=True)
    finding = models.BooleanField(_("发现问题"), default=False, db_index=True)
    finding_text = models.TextField(_("问题描述"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审核人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    answer = models.TextField(_("单位说明"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("说明人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    answered_at = models.DateTimeField(_("说明时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("抽查样本")
        verbose_name_plural = _("抽查样本")
        ordering = ["spot_check", "order_id"]
        constraints = [models.UniqueConstraint(fields=["spot_check", "order"], name="one_item_per_order_per_check")]

    def __str__(self) -> str:
        return f"{self.spot_check_id}: {self.order_id}"
