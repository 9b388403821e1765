"""Receipts sent to citizens (the tracking code, later the reply) through pluggable senders.

``settings.PORTAL_SENDERS`` lists the sender classes: e-mail through Django's mail backend and SMS through a
gateway. Without a gateway configured, text messages are written to files under VAR_DIR/sms/, one per message,
the way mail is without an SMTP server; a city plugs its SMS gateway in with a class of its own that has the same
``send(submission, text)`` method.
"""

import logging
from pathlib import Path

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.module_loading import import_string

from portal.models import Submission

logger = logging.getLogger(__name__)


class EmailSender:
    def send(self, submission: Submission, text: str) -> None:
        if submission.email:
            send_mail("12345 热线：您的诉求已收到", text, None, [submission.email])


class FileSmsSender:
    """Writes each text message to a file: the stand-in for an SMS gateway on a machine without one."""

    def send(self, submission: Submission, text: str) -> None:
        folder = Path(settings.VAR_DIR) / "sms"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{timezone.now():%Y%m%d-%H%M%S-%f}-{submission.code}.txt"
        (folder / name).write_text(f"To: {submission.phone}\n\n{text}\n", encoding="utf-8")


def receipt_text(submission: Submission) -> str:
    return (
        f"【12345热线】您的诉求“{submission.title[:20]}”已收到，查询码 {submission.code}。"
        "可凭查询码和手机号后四位在网上查询办理进度。"
    )


def send_receipt(submission: Submission) -> None:
    """Tell the citizen the tracking code by every configured channel; a failing channel does not stop the others
    nor the submission, which is already saved."""
    text = receipt_text(submission)
    for path in settings.PORTAL_SENDERS:
        try:
            import_string(path)().send(submission, text)
        except Exception:  # noqa: BLE001 - a gateway's failure must not lose the request the citizen just made
            logger.exception("回执发送失败：%s，查询码 %s", path, submission.code)
