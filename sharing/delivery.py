"""Webhooks: new timeline events become deliveries, and each delivery is POSTed until it lands.

One run (the periodic job ``sharing.tasks.deliver_events``) does, safely with any number of runs at once:
1. fan out: for each active subscription, the settled events (``sharing/horizon.py``) after its cursor
   that it may see and chose become ``Delivery`` rows, and the cursor moves past them, in one
   transaction. The cursor moves with ``UPDATE … WHERE cursor = <read>``: one updated row means this
   run owns that range; and (subscription, event) is unique, so no event can be owed twice;
2. deliver: the due deliveries go through ``sharing/outbox.py`` (claimed with a lease, retried 1, 2, 4 …
   minutes later, dead-lettered after the subscription's ``max_attempts`` until replayed by the admin action
   or ``manage.py replay_deliveries``, a failing subscription's others held back until the next run). One
   attempt POSTs the signed JSON (``sharing/signing.py``) with a short timeout; only a 2xx answer counts.
Delivery is at least once: when the receiver's answer is lost, the retry carries the same event id,
which the receiver ignores as a repeat.
"""

import time
from datetime import datetime
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from orders.models import OrderEvent
from sharing import events, horizon, outbox
from sharing.models import Delivery, Subscription
from sharing.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

TIMEOUT = 5  # seconds, for connecting and for each read of the answer (well inside the outbox's LEASE)
ANSWER_BYTES = 1024  # what is read of the receiver's answer (only its status counts)
BATCH = outbox.BATCH  # events fanned out per subscription per run, as many as the deliveries attempted


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


def send(delivery: Delivery) -> str | None:
    """POST the event ``delivery`` owes to its subscriber; None when it answered 2xx, else what went wrong."""
    event = events.with_payload(OrderEvent.objects.filter(pk=delivery.event_id)).get()
    return post(delivery.subscription, event)


OUTBOX = outbox.Outbox(Delivery, "subscription", send)
due, claim, attempt, deliver_due = OUTBOX.due, OUTBOX.claim, OUTBOX.attempt, OUTBOX.deliver_due
replay, retry_delay, LEASE = outbox.replay, outbox.retry_delay, outbox.LEASE
DELIVERED, RETRY, DEAD = outbox.DELIVERED, outbox.RETRY, outbox.DEAD


def run(now: datetime | None = None) -> dict[str, int]:
    """One run: fan out what has settled, then send what is due."""
    now = now or timezone.now()
    made = fan_out(now)
    outcomes = deliver_due(now)
    return {"fanned_out": made, **{key: outcomes[key] for key in (DELIVERED, RETRY, DEAD)}}
