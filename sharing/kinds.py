"""The event kinds a subscriber chooses from, and the timeline actions behind each: the only such mapping."""

from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models import Action


class Kind(models.TextChoices):
    RECEIVED = "received", _("受理")
    DISPATCHED = "dispatched", _("派单")
    SIGNED = "signed", _("签收")
    REPLIED = "replied", _("答复")
    CALLBACK = "callback", _("回访")
    WARNING = "warning", _("预警催办")
    SUPERVISION = "supervision", _("督办")


# Timeline actions not listed here (退单, 延期, 附件 …) stay inside the hotline.
KIND_OF_ACTION: dict[str, Kind] = {
    Action.INTAKE: Kind.RECEIVED,
    Action.DISPATCH: Kind.DISPATCHED,
    Action.REASSIGN: Kind.DISPATCHED,
    Action.ESCALATE: Kind.DISPATCHED,  # 提级办理: the higher unit receives it like a dispatch
    Action.SIGN: Kind.SIGNED,
    Action.REPLY: Kind.REPLIED,
    Action.INTERIM_REPLY: Kind.REPLIED,
    Action.CALLBACK: Kind.CALLBACK,
    Action.URGE: Kind.WARNING,
    Action.SUPERVISE: Kind.SUPERVISION,
}


def actions_of(kinds: Iterable[str]) -> list[str]:
    """The timeline actions that make up these kinds."""
    wanted = set(kinds)
    return [str(action) for action, kind in KIND_OF_ACTION.items() if kind in wanted]
