"""Open311 GeoReport v2: the keys other systems post service requests with, and what each post left behind."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from orders.models import WorkOrder


class Open311Key(models.Model):
    """An ``api_key`` for POST requests. Only the key's SHA-256 is kept; orders are taken in as ``user``."""

    name = models.CharField(_("名称"), max_length=100, help_text=_("调用方系统的名称，如“市民通 App”。"))
    user = models.ForeignKey(
        User,
        verbose_name=_("受理账号"),
        on_delete=models.PROTECT,
        related_name="open311_keys",
        help_text=_("用该密钥提交的诉求以此账号受理，工单办理过程中显示为它。"),
    )
    key_prefix = models.CharField(_("密钥前缀"), max_length=12, db_index=True, editable=False)
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(_("启用"), default=True, help_text=_("取消勾选即吊销该密钥。"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("Open311 密钥")
        verbose_name_plural = _("Open311 密钥")
        ordering = ["-created_at"]
        constraints = [
            # A revoked key keeps its name, so a system can be given a new key under the same name.
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(is_active=True), name="open311_key_unique_active_name"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.key_prefix}…）"


class Submission(models.Model):
    """A work order posted through Open311: its token, the key that sent it, and what a work order has no field for."""

    order = models.OneToOneField(
        WorkOrder, verbose_name=_("工单"), on_delete=models.PROTECT, related_name="open311_submission"
    )
    key = models.ForeignKey(Open311Key, verbose_name=_("密钥"), on_delete=models.PROTECT, related_name="submissions")
    token = models.CharField(_("令牌"), max_length=32, unique=True, help_text=_("调用方凭它查询工单编号。"))
    email = models.EmailField(_("电子邮箱"), blank=True)
    device_id = models.CharField(_("设备标识"), max_length=100, blank=True)
    account_id = models.CharField(_("调用方账号"), max_length=100, blank=True)
    media_url = models.URLField(_("媒体链接"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 提交记录")
        verbose_name_plural = _("Open311 提交记录")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.token
