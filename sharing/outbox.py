"""Outbox: rows owed to a receiver (``DeliveryBase``), each sent until it lands or is dead-lettered.

One ``Outbox`` per kind of delivery: ``sharing/delivery.py`` (events to subscribers) and ``urgent/webhooks.py``
(要情 to leaders' group robots). It is told the model, the foreign key to the receiver (which has ``is_active``
and ``max_attempts``), how to send one delivery, and what else to load with it. One run, safely with any number
of runs at once:
1. due: the pending deliveries of active receivers whose attempt is due, oldest first, at most ``BATCH``;
2. claim: a due delivery is taken with ``UPDATE … SET next_attempt_at = <lease>, attempts = attempts + 1
   WHERE status = pending AND next_attempt_at = <read>``; one updated row means this run sends it, zero means
   another run got there first. If the sender dies mid-attempt, the lease runs out and the delivery is due
   again: late, never lost;
3. send: success marks it delivered; a failure schedules the next attempt 1, 2, 4 … minutes later (at most an
   hour), and after the receiver's last allowed attempt leaves it dead-lettered until someone replays it. Each
   of these updates is conditional on the lease, so a run that overran it leaves the result of the run that
   took the delivery over;
4. after one failure, the receiver's other deliveries wait for the next run: a receiver that is down costs one
   request per run, not one per delivery, and the waiting deliveries keep their attempts.
Replaying puts dead letters back in the queue with a fresh set of attempts.
"""

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, QuerySet
from django.utils import timezone

from sharing.models import DeliveryBase, DeliveryStatus

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # well beyond a sender's timeout: a live sender always finishes inside it
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
BATCH = 200  # deliveries attempted per run

DELIVERED, RETRY, DEAD = "delivered", "retry", "dead"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 1, 2, 4 … minutes, at most an hour."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)


def replay(deliveries: QuerySet, now: datetime) -> int:
    """Put the dead letters among ``deliveries`` back in the queue with a fresh set of attempts; returns how many."""
    return deliveries.filter(status=DeliveryStatus.DEAD).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now
    )


@dataclass(frozen=True)
class Outbox:
    """The deliveries of ``model``, sent to the receiver behind its foreign key ``target``."""

    model: type[DeliveryBase]
    target: str  # the foreign key to the receiver, e.g. "subscription" or "hook"
    send: Callable[[DeliveryBase], str | None]  # None when the receiver took it, else what went wrong
    related: tuple[str, ...] = ()  # loaded with each due delivery for ``send``, besides the receiver

    def due(self, now: datetime) -> list[DeliveryBase]:
        """Pending deliveries of active receivers whose attempt is due, oldest first."""
        return list(
            self.model.objects.filter(
                status=DeliveryStatus.PENDING, next_attempt_at__lte=now, **{f"{self.target}__is_active": True}
            )
            .select_related(self.target, *self.related)
            .order_by("next_attempt_at", "pk")[:BATCH]
        )

    def claim(self, delivery: DeliveryBase, now: datetime) -> bool:
        """Take this attempt of ``delivery`` as read; False when another run took it first."""
        won = self.model.objects.filter(
            pk=delivery.pk, status=DeliveryStatus.PENDING, next_attempt_at=delivery.next_attempt_at
        ).update(next_attempt_at=now + LEASE, attempts=F("attempts") + 1, last_attempt_at=now)
        if won == 1:
            delivery.next_attempt_at, delivery.attempts, delivery.last_attempt_at = (
                now + LEASE, delivery.attempts + 1, now,
            )  # fmt: skip
        return won == 1

    def attempt(self, delivery: DeliveryBase, now: datetime) -> str | None:
        """Claim and send one delivery; its outcome (DELIVERED, RETRY or DEAD), or None if another run had it."""
        if not self.claim(delivery, now):
            return None
        error = self.send(delivery)
        # Conditional on our lease: if we overran it and another run took the delivery over, its result stands.
        mine = self.model.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING, next_attempt_at=now + LEASE)
        if error is None:
            mine.update(status=DeliveryStatus.DELIVERED, delivered_at=now, last_error="")
            return DELIVERED
        logger.warning(
            "%s %s (%s) failed (attempt %s): %s", self.model.__name__, delivery.pk, delivery, delivery.attempts, error
        )
        if delivery.attempts >= getattr(delivery, self.target).max_attempts:
            mine.update(status=DeliveryStatus.DEAD, last_error=error)
            return DEAD
        mine.update(next_attempt_at=now + retry_delay(delivery.attempts), last_error=error)
        return RETRY

    def deliver_due(self, now: datetime | None = None) -> Counter:
        """Attempt every due delivery, holding back a receiver's others after its first failure."""
        now = now or timezone.now()
        outcomes: Counter = Counter()
        failing: set[int] = set()
        for delivery in self.due(now):
            receiver = getattr(delivery, f"{self.target}_id")
            if receiver in failing:
                continue
            outcome = self.attempt(delivery, now)
            if outcome is None:
                continue
            outcomes[outcome] += 1
            if outcome != DELIVERED:
                failing.add(receiver)
        return outcomes
