"""个人信息保存期限: personal data leaves archived orders after a number of years; the statistics stay.

What is removed: the caller's name and phone, the enterprise's contact details stay (they are public records),
the address is cut to its area, and runs of digits that look like phone or ID numbers in the title, content and
reply are masked. The order keeps its category, units, dates, results and satisfaction, so every indicator and
the roll-up are unchanged. Submissions from the portal and calls linked to such an order lose their contact data
too. Orders already cleared have an empty phone, so a second run finds nothing to do.
"""

import re
from datetime import datetime, timedelta

from django.db import transaction

from orders.models import State, WorkOrder

NUMBERS = re.compile(r"\d{6,}[\dXx]?")


def _mask(text: str) -> str:
    return NUMBERS.sub(lambda m: m.group(0)[:3] + "*" * (len(m.group(0)) - 3), text)


def due(now: datetime, years: int):
    """Archived orders whose archive date is more than ``years`` years before ``now`` and still hold personal data."""
    cutoff = now - timedelta(days=365 * years + years // 4)
    return WorkOrder.objects.filter(state=State.ARCHIVED, archived_at__lt=cutoff).exclude(caller_phone="")


def purge(now: datetime, years: int, batch: int = 1000) -> int:
    """Remove the personal data of the orders ``due``; returns how many orders were cleared."""
    from calls.models import Call
    from portal.models import Submission

    cleared = 0
    while True:
        with transaction.atomic():
            orders = list(due(now, years).select_for_update().order_by("pk")[:batch])
            if not orders:
                return cleared
            for order in orders:
                order.caller_name, order.caller_phone, order.address = "", "", ""
                order.title, order.content = _mask(order.title), _mask(order.content)
                order.reply_content = _mask(order.reply_content)
            WorkOrder.objects.bulk_update(orders, ["caller_name", "caller_phone", "address", "title", "content",
                                                   "reply_content"])  # fmt: skip
            ids = [o.pk for o in orders]
            Submission.objects.filter(order_id__in=ids).update(name="", phone="", email="", address="", ip=None)
            Call.objects.filter(order_id__in=ids).update(caller="", recording_url="")
            cleared += len(orders)
