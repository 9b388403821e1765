"""Abuse limits without a captcha service: at most N actions per key (an IP address, a phone) per window.

Counted in the database with conditional UPDATEs, so every web process and node shares the same counts and
two requests at the same instant cannot both take the last place.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from portal.models import Throttle

# (limit, window) per action and kind of key. A family or an office shares an IP: the IP limits are looser.
LIMITS: dict[str, tuple[int, timedelta]] = {
    "submit:ip": (10, timedelta(hours=1)),
    "submit:phone": (3, timedelta(hours=1)),
    "track:ip": (30, timedelta(hours=1)),  # failed lookups of a tracking code
}


def allow(action: str, value: str, now=None) -> bool:
    """Count one ``action`` for ``value``; False (and nothing counted) when its limit is already reached."""
    limit, window = LIMITS[action]
    now = now or timezone.now()
    key = f"{action}:{value}"[:100]
    try:
        with transaction.atomic():
            Throttle.objects.get_or_create(key=key, defaults={"window_start": now, "count": 0})
    except IntegrityError:  # created at the same moment by another request
        pass
    # A window that is over starts again; each branch is one conditional UPDATE.
    if Throttle.objects.filter(key=key, window_start__lte=now - window).update(window_start=now, count=1):
        return True
    return bool(Throttle.objects.filter(key=key, count__lt=limit).update(count=F("count") + 1))
