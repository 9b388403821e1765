"""信息共享: a unit's own system subscribes to work-order events; each event owed to it is a ``Delivery``.

``DeliveryBase`` holds what every delivery sent through ``sharing/outbox.py`` has (status, attempts, lease
and retry times, last error); ``Delivery`` and urgent's ``WebhookDelivery`` add their receiver and what is owed.
"""

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from orders.models import OrderEvent
from org.models import Unit
from sharing.kinds import Kind


def new_secret() -> str:
    return secrets.token_hex(32)


def all_kinds() -> list[str]:
    return list(Kind.values)


class Subscription(models.Model):
    name = models.CharField(_("名称"), max_length=100, help_text=_("接收方系统的名称，如“A7县网格化平台”。"))
    unit = models.ForeignKey(
        Unit, verbose_name=_("订阅单位"), on_delete=models.PROTECT, related_name="+",
        help_text=_("只推送本单位及下级单位主办或协办的工单的事件。"),
    )  # fmt: skip
    url = models.CharField(
        _("推送地址"), max_length=500, validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("接收方的 http(s) 地址；每个事件以签名的 JSON POST 过去。"),
    )  # fmt: skip
    secret = models.CharField(
        _("签名密钥"), max_length=64, default=new_secret, editable=False,
        help_text=_("接收方用它校验 X-Hotline-Signature；只交给接收方。"),
    )  # fmt: skip
    kinds = models.JSONField(_("事件类型"), default=all_kinds, help_text=_("要推送的事件类型编码列表。"))
    max_attempts = models.PositiveSmallIntegerField(
        _("最多尝试次数"), default=10, validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("每个事件最多推送几次（间隔 1、2、4 … 分钟，最长 1 小时）；仍失败则转为死信，可重新投递。"),
    )  # fmt: skip
    is_active = models.BooleanField(
        _("启用"), default=True, help_text=_("停用期间的事件不丢：重新启用后从停用处接着推送。")
    )
    cursor = models.BigIntegerField(
        _("推送进度"), default=0, editable=False, help_text=_("已生成投递记录的最后一个工单事件编号。")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("事件订阅")
        verbose_name_plural = _("事件订阅")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        kinds = self.kinds if isinstance(self.kinds, list) else None
        if not kinds or any(kind not in Kind.values for kind in kinds):
            choices = "、".join(f"{kind.value}（{kind.label}）" for kind in Kind)
            raise ValidationError({"kinds": _("请至少选择一种事件类型，可选：%(choices)s") % {"choices": choices}})

    def save(self, *args, **kwargs) -> None:
        # Validated on every save, not only in the admin form: a subscription with a bad address or kinds
        # would fail at three in the morning instead of being refused here with the field named.
        self.full_clean()
        if self._state.adding and not self.cursor:
            # A new subscriber starts with the events written from now on; the history is in the event feed.
            self.cursor = OrderEvent.objects.aggregate(last=Max("pk"))["last"] or 0
        super().save(*args, **kwargs)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待投递")
    DELIVERED = "delivered", _("已送达")
    DEAD = "dead", _("死信")


class DeliveryBase(models.Model):
    """Something owed to a receiver, with its attempts: the columns ``sharing/outbox.py`` claims and updates.

    A concrete delivery adds the foreign key to its receiver (which has ``is_active`` and ``max_attempts``),
    what is owed, and its own constraint and index names.
    """

    status = models.CharField(_("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"))
    last_attempt_at = models.DateTimeField(_("最近尝试时间"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("生成时间"))

    class Meta:
        abstract = True


class Delivery(DeliveryBase):
    """One event owed to one subscriber, with its attempts. Claimed per attempt by ``sharing/delivery.py``."""

    subscription = models.ForeignKey(
        Subscription, verbose_name=_("订阅"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(OrderEvent, verbose_name=_("工单事件"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("投递记录")
        verbose_name_plural = _("投递记录")
        constraints = [models.UniqueConstraint(fields=["subscription", "event"], name="sharing_delivery_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="sharing_delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.subscription} #{self.event_id}"


class LogMark(models.Model):
    """The newest timeline event id committed at an instant: what ``sharing/horizon.py`` settles on."""

    seen_at = models.DateTimeField(db_index=True)
    last_event_id = models.BigIntegerField()

    class Meta:
        verbose_name = _("事件日志水位")
        verbose_name_plural = _("事件日志水位")
