"""Hotline staff: each user belongs to one unit and has one role."""

from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from accounts import totp
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

    @property
    def signed_in_as(self) -> str:
        """Who is signed in, as the top bar shows it: name · role（负责人） · unit."""
        manager = "（负责人）" if self.is_unit_manager else ""
        return f"{self} · {self.get_role_display()}{manager} · {self.unit.name}"

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


class TokenScope(models.TextChoices):
    READ = "read", _("读取")
    WRITE = "write", _("写入")


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
    scopes = models.CharField(
        _("权限范围"),
        max_length=20,
        default="read write",
        editable=False,
        help_text=_("read：读取（GET 请求）；write：写入（其他请求）。以空格分隔。"),
    )

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name}（{self.key_prefix}…）"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class LoginThrottle(models.Model):
    """Sign-in attempts counted for one username or one IP address; the rules are in ``accounts/lockout.py``."""

    class Kind(models.TextChoices):
        USERNAME = "username", _("用户名")
        IP = "ip", _("IP 地址")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    value = models.CharField(_("用户名或地址"), max_length=150)
    failures = models.PositiveIntegerField(_("失败次数"), default=0)
    window_started_at = models.DateTimeField(_("计数开始"), null=True, blank=True)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)

    class Meta:
        verbose_name = _("登录失败记录")
        verbose_name_plural = _("登录失败记录")
        ordering = ["-window_started_at"]
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="login_throttle_kind_value")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"


class TotpDevice(models.Model):
    """A user's authenticator app for two-step sign-in (RFC 6238, ``accounts/totp.py``).

    Enrolment stores the secret unconfirmed; it guards sign-in only once a code from the app has been accepted.
    """

    user = models.OneToOneField(User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="totp_device")
    secret = models.CharField(_("密钥"), max_length=64, editable=False)
    confirmed_at = models.DateTimeField(_("启用时间"), null=True, blank=True, editable=False)
    # The time step of the last accepted code: a code is good once, so one seen over a shoulder is worthless.
    last_used_step = models.BigIntegerField(_("最近使用的时间片"), default=0, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("两步验证")
        verbose_name_plural = _("两步验证")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    def accept(self, code: str, now: datetime | None = None) -> bool:
        """Whether ``code`` is valid now and was not used before; an accepted code is used up.

        The step is claimed with ``UPDATE … WHERE last_used_step < step``, so two requests with the same code
        (or two codes of the same step) cannot both pass.
        """
        step = totp.matching_step(self.secret, code, now or timezone.now())
        if step is None:
            return False
        claimed = TotpDevice.objects.filter(pk=self.pk, last_used_step__lt=step).update(last_used_step=step)
        if claimed:
            self.last_used_step = step
        return bool(claimed)
