"""Open311 ``api_key``s: made by ``manage.py open311_key``, checked on every POST.

The plain key is shown once when it is created; the database keeps only its first characters
(to find it) and its SHA-256 (to check it), the same scheme as the REST API's tokens.
"""

import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.tokens import TOUCH_EVERY, hash_key
from open311.models import Open311Key
from org.models import Unit, UnitKind

KEY_PREFIX = "o311_"
PREFIX_LENGTH = 12
MAX_KEY_LENGTH = 100


def service_user(name: str) -> User:
    """A new operator of the hotline centre for one calling system, so each order's timeline names the system.

    It has no password: nobody logs in as it. Raises ``Unit.DoesNotExist`` when there is no active centre.
    """
    centre = Unit.objects.active().filter(kind=UnitKind.CENTER).order_by("path").first()
    if centre is None:
        raise Unit.DoesNotExist("没有启用的热线中心单位")
    user = User(
        username=f"open311-{secrets.token_hex(4)}", full_name=f"Open311：{name}"[:50], role=Role.OPERATOR, unit=centre
    )
    user.set_unusable_password()
    user.save()
    return user


def create_key(name: str, user: User | None = None) -> tuple[Open311Key, str]:
    """A new key acting as ``user`` (else a new service user); returns (key, plain key), which cannot be recovered."""
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        key = Open311Key.objects.create(
            name=name,
            user=user or service_user(name),
            key_prefix=plain[:PREFIX_LENGTH],
            key_hash=hash_key(plain),
        )
    return key, plain


def key_for(plain: str) -> Open311Key | None:
    """The active key with this value whose user is active, else None."""
    if not plain or not plain.startswith(KEY_PREFIX) or len(plain) > MAX_KEY_LENGTH:
        return None
    digest = hash_key(plain)
    candidates = Open311Key.objects.select_related("user", "user__unit").filter(
        key_prefix=plain[:PREFIX_LENGTH], is_active=True
    )
    for key in candidates:
        if hmac.compare_digest(key.key_hash, digest) and key.user.is_active:
            now = timezone.now()
            if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
                Open311Key.objects.filter(pk=key.pk).update(last_used_at=now)
            return key
    return None
