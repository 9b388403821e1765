"""Up to which timeline event the log is settled: no transaction still open can add an event below it.

PostgreSQL hands out ids when a row is inserted, but transactions commit in their own order: event 101
can be visible while the transaction holding event 100 is still open. A reader whose cursor moved past
101 would never see 100. ``created_at`` cannot tell either: it is the instant the action names (the demo
history replays 90 days at past instants, supervision stamps a whole run with its start), not the
instant the row was written.

So every cursor (each subscription's fan-out, the event feed) stops at a *settled* id:
1. each run and each feed request notes the newest committed event id and the instant it read it
   (a ``LogMark``);
2. every id at or below that mark had been handed out by then, so its transaction was already open;
3. the transactions that write events (a transition, a reminder, a supervision step) commit within
   milliseconds of writing them, so once ``SETTLE`` has passed since the mark, all of them have
   committed or rolled back: the mark's id is settled.
A late commit therefore lands above every cursor, never below one. This is why the rule is a delay
measured from when the log was read, not from the events' own timestamps. It assumes ids are handed
out in time order (PostgreSQL's identity columns without a per-session cache) and that no transaction
writing events stays open longer than ``SETTLE`` after writing one; the one exception, the demo history
replayed in a single transaction, runs on a fresh database before anyone subscribes. On SQLite writers
are serialised, so there the rule only delays events by ``SETTLE``.
"""

from datetime import datetime, timedelta

from django.db.models import Max

from orders.models import OrderEvent
from sharing.models import LogMark

SETTLE = timedelta(seconds=30)
# Runs and feed requests a few seconds apart share one mark instead of each writing a row.
MARK_EVERY = timedelta(seconds=5)


def observe(now: datetime) -> None:
    """Note the newest committed event id as seen at ``now``, unless a mark was noted moments before."""
    if LogMark.objects.filter(seen_at__gt=now - MARK_EVERY, seen_at__lte=now).exists():
        return
    last = OrderEvent.objects.aggregate(last=Max("pk"))["last"] or 0
    LogMark.objects.create(seen_at=now, last_event_id=last)


def settled_event_id(now: datetime) -> int:
    """The highest event id a cursor may pass at ``now`` (0 before the first mark has settled)."""
    observe(now)
    mark = LogMark.objects.filter(seen_at__lte=now - SETTLE).order_by("-seen_at", "-last_event_id").first()
    if mark is None:
        return 0
    LogMark.objects.filter(seen_at__lt=mark.seen_at).delete()  # older marks can never be the answer again
    return mark.last_event_id
