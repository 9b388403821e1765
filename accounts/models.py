"""Hotline staff: each user belongs to one unit and has one role."""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from accounts.roles import CITYWIDE_ROLES, Role
from org.models import Unit, UnitQuerySet


class User(AbstractUser):
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)
    unit = models.ForeignKey(Unit, verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="users")
    is_unit_manager = models.BooleanField(
        _("单位负责人"), default=False, help_text=_("承办单位负责人可查看和处理下级单位的工单。")
    )
    phone = models.CharField(_("手机号"), max_length=20, blank=True)

    REQUIRED_FIELDS = ["email", "role", "unit"]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.full_name or self.username

    def clean(self) -> None:
        super().clean()
        if self.is_unit_manager and self.role != Role.HANDLER:
            raise ValidationError({"is_unit_manager": _("只有承办人可以设为单位负责人。")})

    def save(self, *args, **kwargs) -> None:
        # The Django admin site is for administrators only; the flags follow the role.
        self.is_staff = self.is_superuser = self.role == Role.ADMIN
        super().save(*args, **kwargs)

    def has_role(self, *roles: str) -> bool:
        return self.is_authenticated and self.is_active and self.role in roles

    @property
    def is_citywide(self) -> bool:
        return self.role in CITYWIDE_ROLES

    @cached_property
    def visible_units(self) -> UnitQuerySet:
        """Units whose work this user may see.

        All for hotline-centre roles; a handler's own unit, plus its sub-units for a unit manager.
        """
        if self.is_citywide:
            return Unit.objects.all()
        if self.is_unit_manager:
            return Unit.objects.subtree_of(self.unit)
        return Unit.objects.filter(pk=self.unit_id)


class ApiToken(models.Model):
    """A bearer key another system uses to call the REST API as ``user``. Only the key's SHA-256 is kept."""

    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=100, help_text=_("调用方系统的名称，如“市长信箱”。"))
    key_prefix = models.CharField(_("密钥前缀"), max_length=8, db_index=True, editable=False)
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True, help_text=_("留空表示长期有效。"))
    is_active = models.BooleanField(_("启用"), default=True, help_text=_("取消勾选即吊销该令牌。"))

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name}（{self.key_prefix}…）"
