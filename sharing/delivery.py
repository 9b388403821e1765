"""Webhooks: new timeline events become deliveries, and each delivery is POSTed until it lands.

One run (the periodic job ``sharing.tasks.deliver_events``) does, safely with any number of runs at once:
1. fan out: for each active subscription, the settled events (``sharing/horizon.py``) after its cursor
   that it may see and chose become ``Delivery`` rows, and the cursor moves past them, in one
   transaction. The cursor moves with ``UPDATE … WHERE cursor = <read>``: one updated row means this
   run owns that range; and (subscription, event) is unique, so no event can be owed twice;
2. claim: a due delivery is taken with ``UPDATE … SET next_attempt_at = <lease>, attempts = attempts + 1
   WHERE status = pending AND next_attempt_at = <read>``; one updated row means this run sends it, zero
   means another run got there first. If the sender dies mid-attempt, the lease runs out and the
   delivery is due again: late, never lost;
3. send: POST the signed JSON (``sharing/signing.py``) with a short timeout. A 2xx answer marks it
   delivered; anything else schedules the next attempt 1, 2, 4 … minutes later (at most an hour), and
   after the subscription's last allowed attempt leaves it dead-lettered until someone replays it
   (the admin action or ``manage.py replay_deliveries``);
4. after one failure, the subscription's other deliveries wait for the next run: a receiver that is
   down costs one request per run, not one per event, and the waiting deliveries keep their attempts.
Delivery is at least once: when the receiver's answer is lost, the retry carries the same event id,
which the receiver ignores as a repeat.
"""

import logging
import time
from collections import Counter
from datetime import datetime, timedelta
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from orders.models import OrderEvent
from sharing import events, horizon
from sharing.models import Delivery, DeliveryStatus, Subscription
from sharing.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

logger = logging.getLogger(__name__)

TIMEOUT = 5  # seconds, for connecting and for each read of the answer
LEASE = timedelta(minutes=2)  # well beyond TIMEOUT: a live sender always finishes inside it
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
BATCH = 200  # events fanned out per subscription, and deliveries attempted, per run
ANSWER_BYTES = 1024  # what is read of the receiver's answer (only its status counts)

DELIVERED, RETRY, DEAD = "delivered", "retry", "dead"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 1, 2, 4 … minutes, at most an hour."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)


def fan_out(now: datetime) -> int:
    """Make the deliveries owed for events settled by ``now``; returns how many this run made."""
    settled = horizon.settled_event_id(now)
    made = 0
    for subscription in Subscription.objects.filter(is_active=True, cursor__lt=settled).select_related("unit"):
        made += _fan_out_one(subscription, settled, now)
    return made


def _fan_out_one(subscription: Subscription, settled: int, now: datetime) -> int:
    owed = events.shared_events(events.unit_orders(subscription.unit), subscription.kinds).filter(
        pk__gt=subscription.cursor, pk__lte=settled
    )
    ids = list(owed.values_list("pk", flat=True)[:BATCH])
    cursor = ids[-1] if len(ids) == BATCH else settled  # a full batch stops at its last event; the rest is next
    with transaction.atomic():
        won = Subscription.objects.filter(pk=subscription.pk, cursor=subscription.cursor).update(cursor=cursor)
        if won != 1:
            return 0  # another run fanned out this range
        Delivery.objects.bulk_create(
            [Delivery(subscription=subscription, event_id=pk, next_attempt_at=now, created_at=now) for pk in ids],
            ignore_conflicts=True,
        )
    return len(ids)


def due(now: datetime) -> list[Delivery]:
    """Pending deliveries of active subscriptions whose attempt is due, oldest first."""
    return list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now, subscription__is_active=True)
        .select_related("subscription")
        .order_by("next_attempt_at", "pk")[:BATCH]
    )


def claim(delivery: Delivery, now: datetime) -> bool:
    """Take this attempt of ``delivery`` as read; False when another run took it first."""
    won = Delivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.PENDING, next_attempt_at=delivery.next_attempt_at
    ).update(next_attempt_at=now + LEASE, attempts=F("attempts") + 1, last_attempt_at=now)
    if won == 1:
        delivery.next_attempt_at, delivery.attempts, delivery.last_attempt_at = now + LEASE, delivery.attempts + 1, now
    return won == 1


def attempt(delivery: Delivery, now: datetime) -> str | None:
    """Claim and send one delivery; its outcome (DELIVERED, RETRY or DEAD), or None if another run had it."""
    if not claim(delivery, now):
        return None
    event = events.with_payload(OrderEvent.objects.filter(pk=delivery.event_id)).get()
    error = post(delivery.subscription, event)
    # Conditional on our lease: if we overran it and another run took the delivery over, its result stands.
    mine = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING, next_attempt_at=now + LEASE)
    if error is None:
        mine.update(status=DeliveryStatus.DELIVERED, delivered_at=now, last_error="")
        return DELIVERED
    logger.warning(
        "delivery %s to %s failed (attempt %s): %s", delivery.pk, delivery.subscription, delivery.attempts, error
    )
    if delivery.attempts >= delivery.subscription.max_attempts:
        mine.update(status=DeliveryStatus.DEAD, last_error=error)
        return DEAD
    mine.update(next_attempt_at=now + retry_delay(delivery.attempts), last_error=error)
    return RETRY


def post(subscription: Subscription, event: OrderEvent) -> str | None:
    """POST the signed event to the subscriber; None when it answered 2xx, else what went wrong."""
    body = events.body(event)
    timestamp = str(int(time.time()))  # the real clock: the receiver compares it with its own
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "hotline12345-webhook/1",
        TIMESTAMP_HEADER: timestamp,
        EVENT_ID_HEADER: str(event.pk),
        SIGNATURE_HEADER: sign(subscription.secret, timestamp, body),
    }
    url = urlsplit(subscription.url)
    secure = url.scheme == "https"
    # The port is always given, so an IPv6 host such as ::1 is not read as host:port.
    connection_class = HTTPSConnection if secure else HTTPConnection
    connection = connection_class(url.hostname, url.port or (443 if secure else 80), timeout=TIMEOUT)
    target = (url.path or "/") + (f"?{url.query}" if url.query else "")
    try:
        connection.request("POST", target, body=body, headers=headers)
        answer = connection.getresponse()
        answer.read(ANSWER_BYTES)
    except (OSError, HTTPException) as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    finally:
        connection.close()
    return None if 200 <= answer.status < 300 else f"HTTP {answer.status} {answer.reason}"[:500]


def deliver_due(now: datetime) -> Counter:
    """Attempt every due delivery, holding back a subscription's others after its first failure."""
    outcomes: Counter = Counter()
    failing: set[int] = set()
    for delivery in due(now):
        if delivery.subscription_id in failing:
            continue
        outcome = attempt(delivery, now)
        if outcome is None:
            continue
        outcomes[outcome] += 1
        if outcome != DELIVERED:
            failing.add(delivery.subscription_id)
    return outcomes


def run(now: datetime | None = None) -> dict[str, int]:
    """One run: fan out what has settled, then send what is due."""
    now = now or timezone.now()
    made = fan_out(now)
    outcomes = deliver_due(now)
    return {"fanned_out": made, **{key: outcomes[key] for key in (DELIVERED, RETRY, DEAD)}}


def replay(deliveries: QuerySet[Delivery], now: datetime) -> int:
    """Put the dead letters among ``deliveries`` back in the queue with a fresh set of attempts; returns how many."""
    return deliveries.filter(status=DeliveryStatus.DEAD).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now
    )
