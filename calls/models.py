"""来电: the calls the call centre's switch (CTI) reports, each linked to the order taken during it."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models import WorkOrder


class CallState(models.TextChoices):
    RINGING = "ringing", _("振铃")
    ANSWERED = "answered", _("通话中")
    ENDED = "ended", _("已结束")


class Call(models.Model):
    call_id = models.CharField(_("呼叫编号"), max_length=64, unique=True)  # the switch's own id of the call
    caller = models.CharField(_("主叫号码"), max_length=20, db_index=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("话务员"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="calls",
    )  # fmt: skip
    state = models.CharField(_("状态"), max_length=10, choices=CallState.choices, default=CallState.RINGING)
    ringing_at = models.DateTimeField(_("振铃时间"), null=True, blank=True)
    answered_at = models.DateTimeField(_("接听时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("挂机时间"), null=True, blank=True)
    recording_url = models.URLField(_("录音地址"), max_length=500, blank=True)
    order = models.ForeignKey(
        WorkOrder, verbose_name=_("工单"), null=True, blank=True, on_delete=models.PROTECT, related_name="calls"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("来电")
        verbose_name_plural = _("来电")
        indexes = [models.Index(fields=["agent", "created_at"])]

    def __str__(self) -> str:
        return f"{self.call_id} {self.caller}"
