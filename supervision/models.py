"""Supervision: warning thresholds and supervision orders (督办单)."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models import Tag, WorkOrder
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
