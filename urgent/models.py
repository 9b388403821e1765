"""热线要情: the rules that make an order urgent key information, the item pushed to leaders, their robots.

- ``UrgentRule``: one condition with its parameters (see ``RuleKind``), validated on every save;
- ``UrgentItem``: one per order (a unique key), pushed once to the responsible leaders, claimed (认领) once,
  with the instants that give the push→claim and push→first-action durations; closed when the order is
  merged or archived;
- ``LeaderWebhook``: a WeCom or DingTalk group robot that receives the items as a markdown message, and
  ``WebhookDelivery``: one item owed to one robot, with its attempts (a ``sharing.models.DeliveryBase``, sent by
  ``urgent/webhooks.py`` through ``sharing/outbox.py``).
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models import Tag, WorkOrder
from org.models import Unit
from sharing.models import DeliveryBase
from sharing.models import DeliveryStatus as DeliveryStatus  # the statuses of a WebhookDelivery

KEYWORD_SEPARATORS = re.compile(r"[,，、;；\s]+")
MIN_CALLERS = 2
MAX_CALLERS = 1000
MAX_KEYWORD = 20


def split_keywords(text: str) -> list[str]:
    """The keywords of ``text`` (separated by commas, 、, semicolons or line breaks), without repeats."""
    return list(dict.fromkeys(word for word in KEYWORD_SEPARATORS.split(text or "") if word))


class RuleKind(models.TextChoices):
    RED_TAG = "red_tag", _("标签工单红色预警")
    EMERGENCY = "emergency", _("紧急警情")
    CALLERS = "callers", _("多人反映同一问题")
    MEDIA = "media", _("媒体关注")
    ENTERPRISE = "enterprise", _("涉企紧急")


class UrgentRule(models.Model):
    """One condition that makes an order 热线要情. Which parameters a kind uses:

    - 标签工单红色预警: ``tags`` (tag codes, at least one): an order carrying one of them whose 赋色预警 is red;
    - 紧急警情: none: ``nlp/emergency.py`` finds a fire, crime in progress, injury, gas leak or accident now;
    - 多人反映同一问题: ``threshold`` N ≥ 2: at least N distinct caller phones among the order, the orders merged
      into it (并单) and the orders linked to it (关联工单);
    - 媒体关注: ``keywords`` (at least one): one of them in the title or content;
    - 涉企紧急: ``keywords`` optional: a 涉企 order of priority 紧急/特急, or one with a keyword in its text.
    Parameters a kind does not use are cleared when the rule is saved.
    """

    name = models.CharField(_("规则名称"), max_length=50, unique=True)
    kind = models.CharField(_("规则类型"), max_length=16, choices=RuleKind.choices)
    is_active = models.BooleanField(_("启用"), default=True)
    tags = models.JSONField(
        _("标签"), default=list, blank=True, help_text=_("“标签工单红色预警”规则：工单带有其中任一标签且为红色预警。")
    )
    threshold = models.PositiveSmallIntegerField(
        _("人数阈值"), null=True, blank=True,
        help_text=_("“多人反映同一问题”规则：本单、并入本单的工单和关联工单中不同诉求人电话的个数，至少 2。"),
    )  # fmt: skip
    keywords = models.TextField(
        _("关键词"), blank=True, help_text=_("用逗号、顿号或换行分隔；标题或诉求内容含任一关键词即命中。")
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("要情规则")
        verbose_name_plural = _("要情规则")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def keyword_list(self) -> list[str]:
        return split_keywords(self.keywords)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        kind = self.kind
        if kind != RuleKind.RED_TAG:
            self.tags = []
        if kind != RuleKind.CALLERS:
            self.threshold = None
        if kind not in (RuleKind.MEDIA, RuleKind.ENTERPRISE):
            self.keywords = ""
        if kind == RuleKind.RED_TAG:
            codes = self.tags if isinstance(self.tags, list) else None
            if not codes or not all(isinstance(code, str) and code for code in codes):
                errors["tags"] = _("标签：请至少选择一个标签。")
            else:
                missing = sorted(set(codes) - set(Tag.objects.filter(code__in=codes).values_list("code", flat=True)))
                if missing:
                    errors["tags"] = _("标签不存在：%(codes)s。") % {"codes": "、".join(missing)}
                self.tags = list(dict.fromkeys(codes))
        if kind == RuleKind.CALLERS and (self.threshold is None or not MIN_CALLERS <= self.threshold <= MAX_CALLERS):
            errors["threshold"] = _("人数阈值必须是 %(low)s 到 %(high)s 之间的整数。") % {
                "low": MIN_CALLERS, "high": MAX_CALLERS,
            }  # fmt: skip
        if kind in (RuleKind.MEDIA, RuleKind.ENTERPRISE):
            words = self.keyword_list
            if kind == RuleKind.MEDIA and not words:
                errors["keywords"] = _("关键词：“媒体关注”规则请至少填写一个关键词。")
            elif short := [w for w in words if len(w) < 2]:
                errors["keywords"] = _("关键词“%(word)s”太短，每个关键词至少 2 个字。") % {"word": short[0]}
            elif long := [w for w in words if len(w) > MAX_KEYWORD]:
                errors["keywords"] = _("关键词“%(word)s”太长，每个关键词最多 %(n)s 个字。") % {
                    "word": long[0][:MAX_KEYWORD] + "…", "n": MAX_KEYWORD,
                }  # fmt: skip
            else:
                self.keywords = "、".join(words)
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs) -> None:
        # Validated on every save, not only in the form: a bad rule is refused here with the field named,
        # instead of silently matching nothing (or everything) in the push job.
        self.full_clean()
        super().save(*args, **kwargs)


class ItemStatus(models.TextChoices):
    OPEN = "open", _("待认领")
    CLAIMED = "claimed", _("已认领")
    CLOSED = "closed", _("已关闭")


class UrgentItem(models.Model):
    """热线要情 on one order: pushed once (the order is unique here), claimed once, closed with the order."""

    order = models.OneToOneField(
        WorkOrder, verbose_name=_("工单"), on_delete=models.PROTECT, related_name="urgent_item"
    )
    rules = models.ManyToManyField(UrgentRule, verbose_name=_("命中规则"), blank=True, related_name="items")
    reasons = models.JSONField(_("命中说明"), default=list, blank=True)
    leaders = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("推送领导"), blank=True, related_name="urgent_items"
    )
    pushed_at = models.DateTimeField(_("推送时间"), db_index=True)
    status = models.CharField(_("状态"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("认领人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    claimed_at = models.DateTimeField(_("认领时间"), null=True, blank=True)
    first_action_at = models.DateTimeField(
        _("单位首次处置时间"), null=True, blank=True,
        help_text=_("推送后主办单位在工单上的第一个动作（签收、阶段性答复、办结、退单或延期申请）的时间。"),
    )  # fmt: skip
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    close_reason = models.CharField(_("关闭原因"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("热线要情")
        verbose_name_plural = _("热线要情")
        ordering = ["-pushed_at", "-pk"]
        indexes = [models.Index(fields=["status", "pushed_at"], name="urgent_item_status_idx")]

    def __str__(self) -> str:
        return f"要情 {self.order.number}"

    @property
    def claim_minutes(self) -> float | None:
        """Minutes from the push to the claim; None while unclaimed."""
        return None if self.claimed_at is None else (self.claimed_at - self.pushed_at).total_seconds() / 60

    @property
    def action_minutes(self) -> float | None:
        """Minutes from the push to the unit's first action; None until it acts."""
        return None if self.first_action_at is None else (self.first_action_at - self.pushed_at).total_seconds() / 60


class RobotKind(models.TextChoices):
    WECOM = "wecom", _("企业微信群机器人")
    DINGTALK = "dingtalk", _("钉钉群机器人")


class LeaderWebhook(models.Model):
    """A group robot of leaders: each item of its units is POSTed to it as the robot's markdown message."""

    name = models.CharField(_("名称"), max_length=100, help_text=_("如“A7县领导值班群”。"))
    kind = models.CharField(_("机器人类型"), max_length=10, choices=RobotKind.choices)
    url = models.CharField(
        _("Webhook 地址"), max_length=500, validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("群机器人的 http(s) 地址，含 key 或 access_token。"),
    )  # fmt: skip
    secret = models.CharField(
        _("加签密钥"), max_length=100, blank=True, help_text=_("钉钉机器人开启“加签”时填写（SEC 开头）；企业微信不用。")
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("只推送主办单位或所属区域在该单位及下级单位的要情；留空推送全部要情。"),
    )  # fmt: skip
    max_attempts = models.PositiveSmallIntegerField(
        _("最多尝试次数"), default=10, validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("失败后间隔 1、2、4 … 分钟（最长 1 小时）重试；仍失败则转为死信，可重新投递。"),
    )  # fmt: skip
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("领导群机器人")
        verbose_name_plural = _("领导群机器人")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.secret and self.kind != RobotKind.DINGTALK:
            raise ValidationError({"secret": _("加签密钥只用于钉钉机器人。")})

    def save(self, *args, **kwargs) -> None:
        self.full_clean()
        super().save(*args, **kwargs)


class WebhookDelivery(DeliveryBase):
    """One item owed to one robot, with its attempts. Claimed per attempt by ``urgent/webhooks.py``."""

    item = models.ForeignKey(UrgentItem, verbose_name=_("要情"), on_delete=models.CASCADE, related_name="deliveries")
    hook = models.ForeignKey(
        LeaderWebhook, verbose_name=_("机器人"), on_delete=models.CASCADE, related_name="deliveries"
    )

    class Meta:
        verbose_name = _("机器人投递记录")
        verbose_name_plural = _("机器人投递记录")
        constraints = [models.UniqueConstraint(fields=["item", "hook"], name="urgent_delivery_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="urgent_delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.hook} · {self.item}"


class Watermark(models.Model):
    """Up to when the push job has looked at new orders and at merges and links (see ``urgent/push.py``)."""

    name = models.CharField(max_length=32, primary_key=True)
    until = models.DateTimeField()

    class Meta:
        verbose_name = _("要情扫描进度")
        verbose_name_plural = _("要情扫描进度")
