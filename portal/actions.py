"""What happens to a submission: submitted, accepted into a work order, declined, rated by the citizen.

Each change is one conditional UPDATE from the state it expects, so two operators acting at once cannot both
accept (or one accept and the other decline) the same submission.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from orders import transitions
from orders.errors import Conflict, InvalidInput
from orders.models import Action, Satisfaction, WorkOrder
from portal.models import Photo, Status, Submission
from portal.receipts import send_receipt
from system.storage import refuse_if_disk_full


def submit(fields: dict, photos: list[tuple[str, bytes, str]], ip: str | None) -> Submission:
    """Save a checked submission with its photos ((name, bytes, content type)), then send the receipt."""
    from django.core.files.base import ContentFile

    saved = []
    try:
        with transaction.atomic(), refuse_if_disk_full("photos"):
            submission = Submission.objects.create(ip=ip, **fields)
            for name, content, content_type in photos:
                photo = Photo(submission=submission, name=name, content_type=content_type, size=len(content))
                photo.file.save(name, ContentFile(content), save=False)
                saved.append(photo.file)
                photo.save()
    except BaseException:
        for file in saved:  # the rows are rolled back: their files go too
            file.storage.delete(file.name)
        raise
    send_receipt(submission)
    return submission


def intake_data(submission: Submission) -> dict:
    """The intake form's initial values for a submission: what the citizen wrote, for the operator to complete."""
    return {
        "caller_phone": submission.phone,
        "caller_name": submission.name,
        "channel": "web",
        "title": submission.title,
        "content": submission.content,
        "address": submission.address,
        "latitude": submission.latitude if submission.latitude is not None else "",
        "longitude": submission.longitude if submission.longitude is not None else "",
        "is_enterprise": submission.kind == "enterprise",
        "enterprise_name": submission.enterprise_name,
        "enterprise_credit_code": submission.enterprise_credit_code,
    }


def idempotency_key(submission: Submission) -> str:
    """The intake key of a submission: a second operator's intake of it returns the first one's order."""
    return f"portal-{submission.code}"


def accept(submission: Submission, order: WorkOrder, actor: User, at: datetime | None = None) -> None:
    """受理: link the submission to the order made from it and attach its photos; call inside the intake's
    transaction so that a refusal here undoes the order too."""
    at = at or timezone.now()
    claimed = Submission.objects.filter(pk=submission.pk, status=Status.PENDING).update(
        status=Status.ACCEPTED, order=order, handled_by=actor, handled_at=at
    )
    if not claimed:
        raise Conflict("该网上诉求已被他人处理，请刷新")
    for photo in submission.photos.all():
        with photo.file.open("rb") as f:
            transitions.attach(order, actor, name=photo.name, content=f.read(), at=at)


def decline(submission: Submission, actor: User, reason: str, at: datetime | None = None) -> None:
    """不予受理 with the reason the citizen will read."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput({"reason": "请填写不予受理的理由"})
    if len(reason) > 500:
        raise InvalidInput({"reason": "理由不能超过 500 字"})
    declined = Submission.objects.filter(pk=submission.pk, status=Status.PENDING).update(
        status=Status.DECLINED, decline_reason=reason, handled_by=actor, handled_at=at or timezone.now()
    )
    if not declined:
        raise Conflict("该网上诉求已被他人处理，请刷新")


def can_rate(submission: Submission) -> bool:
    order = submission.order
    return bool(order and order.replied_at and order.reply_content and not submission.rating)


def rate(submission: Submission, rating: str, note: str, at: datetime | None = None) -> None:
    """The citizen's own rating of the reply, once; it goes on the order's timeline for the unit and the
    callback agent to see. The official 满意率 still comes from the callback."""
    if rating not in Satisfaction.values:
        raise InvalidInput({"rating": "请选择满意、基本满意或不满意"})
    note = (note or "").strip()
    if len(note) > 500:
        raise InvalidInput({"note": "评价意见不能超过 500 字"})
    if not can_rate(submission):
        raise Conflict("答复后才能评价，且每件诉求只能评价一次")
    at = at or timezone.now()
    with transaction.atomic():
        rated = Submission.objects.filter(pk=submission.pk, rating="").update(
            rating=rating, rating_note=note, rated_at=at
        )
        if not rated:
            raise Conflict("该诉求已评价过")
        label = Satisfaction(rating).label
        transitions.record(submission.order, None, Action.RATE, note=f"{label}。{note}".rstrip("。"),
                           data={"rating": rating}, at=at)  # fmt: skip
