"""Sign-in lockout: too many failed attempts lock a username for a while, and, more loosely, an IP address.

1. Each attempt — a password, or the code of the second step — is counted for the username and for the
   client's address *before* it is checked, with one conditional ``UPDATE … WHERE failures < limit``.
   A burst of parallel requests therefore gets at most ``limit`` checks, however it is timed.
2. Counts start with the first attempt of a window of ``LOGIN_LOCKOUT_MINUTES``; a window that is over starts
   again. The attempt that reaches the limit (``LOGIN_FAILURE_LIMIT`` per username, ``LOGIN_IP_FAILURE_LIMIT``
   per address) locks for ``LOGIN_LOCKOUT_MINUTES``; while locked nothing is checked.
3. A completed sign-in clears the username's count and gives its own attempt back to the address, so the
   hotline centre's many staff behind one address only add up their failures.
4. A username that does not exist is counted and locked exactly like one that does: the answer never tells
   them apart.

The counts are rows of ``LoginThrottle`` in the database, shared by every web process and node; an
administrator unlocks from the admin site (登录失败记录, or the user list).
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import LoginThrottle
from system.clientip import client_ip as system_client_ip

logger = logging.getLogger(__name__)
Kind = LoginThrottle.Kind


def locked_message() -> str:
    return _("登录失败次数过多，已暂时锁定。请 %(minutes)d 分钟后再试，或联系管理员解锁。") % {
        "minutes": settings.LOGIN_LOCKOUT_MINUTES
    }


def client_ip(request: HttpRequest) -> str:
    """The client's address (behind a trusted proxy, from X-Forwarded-For: system/clientip.py)."""
    return system_client_ip(request) or "unknown"


def claim(username: str, ip: str, now: datetime | None = None) -> bool:
    """Count one attempt for ``username`` from ``ip``; False, with nothing counted, when either is locked."""
    now = now or timezone.now()
    name = _normalise(username)
    # The address first: a locked address adds no rows, however many usernames it tries.
    if not _claim(Kind.IP, ip, settings.LOGIN_IP_FAILURE_LIMIT, now):
        return False
    if not _claim(Kind.USERNAME, name, settings.LOGIN_FAILURE_LIMIT, now):
        _give_back(Kind.IP, ip, settings.LOGIN_IP_FAILURE_LIMIT)
        return False
    return True


def succeeded(username: str, ip: str) -> None:
    """The attempt claimed for a sign-in that completed: the username starts from zero, the address gets it back."""
    LoginThrottle.objects.filter(kind=Kind.USERNAME, value=_normalise(username)).update(
        failures=0, window_started_at=None, locked_until=None
    )
    _give_back(Kind.IP, ip, settings.LOGIN_IP_FAILURE_LIMIT)


def is_locked(username: str, ip: str, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return LoginThrottle.objects.filter(
        Q(kind=Kind.USERNAME, value=_normalise(username)) | Q(kind=Kind.IP, value=ip), locked_until__gt=now
    ).exists()


def unlock(throttles: Iterable[LoginThrottle] | None = None, usernames: Iterable[str] = ()) -> int:
    """Clear the counts of these rows and of these usernames; the number of rows that were locked."""
    ids = [t.pk for t in throttles or ()]
    names = [_normalise(u) for u in usernames]
    rows = LoginThrottle.objects.filter(Q(pk__in=ids) | Q(kind=Kind.USERNAME, value__in=names))
    locked = rows.filter(locked_until__gt=timezone.now()).count()
    rows.update(failures=0, window_started_at=None, locked_until=None)
    return locked


def _normalise(username: str) -> str:
    # Usernames are matched exactly when signing in; folding case here means "Admin" and "admin" share one count.
    return username.strip().lower()[:150]


def _claim(kind: str, value: str, limit: int, now: datetime) -> bool:
    lock = timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    rows = LoginThrottle.objects.filter(kind=kind, value=value)
    if not rows.exists():
        LoginThrottle.objects.bulk_create([LoginThrottle(kind=kind, value=value)], ignore_conflicts=True)
    # A window that is over, or a lock that has run out, starts again with this attempt.
    over = (
        Q(window_started_at__isnull=True)
        | Q(locked_until__lte=now)
        | Q(locked_until__isnull=True, window_started_at__lte=now - lock)
    )
    if rows.filter(over).update(failures=1, window_started_at=now, locked_until=now + lock if limit <= 1 else None):
        return True
    claimed = rows.filter(locked_until__isnull=True, failures__lt=limit).update(
        failures=F("failures") + 1,
        locked_until=Case(
            When(failures__gte=limit - 1, then=Value(now + lock)), default=Value(None), output_field=DateTimeField()
        ),
    )
    if claimed and rows.filter(locked_until=now + lock).exists():  # this attempt reached the limit
        logger.warning("sign-in locked for %s %s until %s", kind, value, timezone.localtime(now + lock))
    return bool(claimed)


def _give_back(kind: str, value: str, limit: int) -> None:
    """Take back one claimed attempt; a lock it set is lifted, since the count is under the limit again."""
    LoginThrottle.objects.filter(kind=kind, value=value, failures__gt=0).update(
        failures=F("failures") - 1,
        locked_until=Case(When(failures__lte=limit, then=Value(None)), default=F("locked_until")),
    )
