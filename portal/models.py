"""市民门户: requests citizens and enterprises submit themselves, before and after an operator takes them in.

A submission is not yet a work order: an operator reads it, picks the category and accepts it (受理) through
the same intake as a call, or declines it with a reason. The citizen follows it with its tracking code.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models import Satisfaction, WorkOrder

# Tracking codes avoid letters and digits that are easily confused when read out on the phone (0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # 31^10 ≈ 8·10^14: not guessable, and lookups are rate-limited too


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class Kind(models.TextChoices):
    CITIZEN = "citizen", _("市民诉求")
    ENTERPRISE = "enterprise", _("企业诉求（亲清e线）")


class Status(models.TextChoices):
    PENDING = "pending", _("待受理")
    ACCEPTED = "accepted", _("已受理")
    DECLINED = "declined", _("不予受理")


class Submission(models.Model):
    code = models.CharField(_("查询码"), max_length=16, unique=True, default=new_code, editable=False)
    kind = models.CharField(_("类别"), max_length=12, choices=Kind.choices, default=Kind.CITIZEN)
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("手机号码"), max_length=20, db_index=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    title = models.CharField(_("标题"), max_length=200)
    content = models.TextField(_("诉求内容"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    enterprise_name = models.CharField(_("企业名称"), max_length=100, blank=True)
    enterprise_credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    ip = models.GenericIPAddressField(_("来源 IP"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    order = models.OneToOneField(
        WorkOrder, verbose_name=_("工单"), null=True, blank=True, on_delete=models.PROTECT, related_name="submission"
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("处理人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    handled_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decline_reason = models.TextField(_("不予受理理由"), blank=True)
    rating = models.CharField(_("市民评价"), max_length=12, choices=Satisfaction.choices, blank=True)
    rating_note = models.TextField(_("评价意见"), blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("网上诉求")
        verbose_name_plural = _("网上诉求")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


def photo_path(photo: "Photo", filename: str) -> str:
    return f"portal/{photo.submission.created_at:%Y/%m}/{photo.submission.code}/{filename}"


class Photo(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("文件"), upload_to=photo_path)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))

    class Meta:
        verbose_name = _("照片")
        verbose_name_plural = _("照片")


class Throttle(models.Model):
    """How many times a key (an IP, a phone) did something in the current window; see portal/limits.py."""

    key = models.CharField(max_length=100, unique=True)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("访问频次")
        verbose_name_plural = _("访问频次")
