"""审计日志: an append-only record of every write and of every view of a caller's personal data.

Rows are only ever added: the model refuses to save an existing row or to delete one, and on PostgreSQL a
trigger refuses UPDATE and DELETE in the database itself (migration 0002), so not even a raw query can rewrite
history.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role

ROLE_LABELS = dict(Role.choices)


class AuditAction(models.TextChoices):
    WRITE = "write", _("写操作")
    VIEW_PERSONAL = "view_personal", _("查看个人信息")
    UNMASK = "unmask", _("查看完整号码")
    EXPORT = "export", _("导出")


class AppendOnly(Exception):
    pass


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("审计日志只能追加，不能修改")

    def delete(self):
        raise AppendOnly("审计日志只能追加，不能删除")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("时间"), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", db_constraint=False,
    )  # fmt: skip
    username = models.CharField(_("用户名"), max_length=150, blank=True)  # kept as it was, whatever happens later
    role = models.CharField(_("角色"), max_length=20, blank=True)
    unit = models.CharField(_("单位"), max_length=100, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    action = models.CharField(_("类型"), max_length=16, choices=AuditAction.choices, db_index=True)
    method = models.CharField(_("方法"), max_length=8, blank=True)
    path = models.CharField(_("地址"), max_length=300, blank=True)
    status = models.PositiveSmallIntegerField(_("结果"), null=True, blank=True)
    order_number = models.CharField(_("工单编号"), max_length=20, blank=True, db_index=True)
    reason = models.TextField(_("理由"), blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        indexes = [models.Index(fields=["username", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username or '匿名'} {self.get_action_display()} {self.path}"

    @property
    def role_label(self) -> str:
        """The role as the user had it, in words (话务员 …); the stored code if the role no longer exists."""
        return str(ROLE_LABELS.get(self.role, self.role))

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnly("审计日志只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("审计日志只能追加，不能删除")
