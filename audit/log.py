"""Writing audit entries: one function, called by the middleware for writes and by the views that show or
unmask personal data."""

import re

from django.utils import timezone

from audit.models import AuditAction, AuditEntry
from system.clientip import client_ip

ORDER_NUMBER = re.compile(r"/(\d{14})(?:/|$)")


def record(request, action: str, *, user=None, status: int | None = None, order_number: str = "", reason: str = ""):
    """Append one entry for ``request``; the order is read from the path when not given."""
    user = user if user is not None else _user(request)
    path = request.path[:300]
    if not order_number and (found := ORDER_NUMBER.search(path)):
        order_number = found.group(1)
    return AuditEntry.objects.create(
        at=timezone.now(),
        user=user,
        username=getattr(user, "username", "") or "",
        role=getattr(user, "role", "") or "",
        unit=str(getattr(user, "unit", "") or "")[:100],
        ip=client_ip(request) or None,
        action=action,
        method=request.method[:8],
        path=path,
        status=status,
        order_number=order_number,
        reason=reason,
    )


def _user(request):
    """The signed-in user, or the API token's user (set by the API on ``request.auth``)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "is_authenticated", False) else None


def view_personal(request, order_number: str) -> None:
    record(request, AuditAction.VIEW_PERSONAL, order_number=order_number, status=200)
