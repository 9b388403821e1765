"""API tokens for other systems: ``Authorization: Bearer hl_…``.

The plain key is shown once when it is created; the database keeps only its first characters
(to find it) and its SHA-256 (to check it).
"""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from ninja.security import HttpBearer

from accounts.models import ApiToken, User

KEY_PREFIX = "hl_"
PREFIX_LENGTH = 8
MAX_KEY_LENGTH = 100
# last_used_at is written at most this often per token, not on every request.
TOUCH_EVERY = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_token(user: User, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns (token, plain key). The key cannot be recovered later."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, key_prefix=key[:PREFIX_LENGTH], key_hash=hash_key(key), expires_at=expires_at
    )
    return token, key


def user_for_key(key: str) -> User | None:
    """The active user behind an active, unexpired token with this key, else None."""
    if not key or not key.startswith(KEY_PREFIX) or len(key) > MAX_KEY_LENGTH:
        return None
    now = timezone.now()
    digest = hash_key(key)
    candidates = ApiToken.objects.select_related("user").filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now), key_prefix=key[:PREFIX_LENGTH], is_active=True
    )
    for token in candidates:
        if hmac.compare_digest(token.key_hash, digest) and token.user.is_active:
            if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
                ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            return token.user
    return None


class TokenAuth(HttpBearer):
    """ninja auth: ``Authorization: Bearer <key>``; anything else falls through to the next auth."""

    def authenticate(self, request, token: str) -> User | None:
        return user_for_key(token.strip())
