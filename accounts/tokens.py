"""API tokens for other systems: ``Authorization: Bearer hl_…``.

The plain key is shown once when it is created; the database keeps only its first characters
(to find it) and its SHA-256 (to check it). A token carries scopes: ``read`` for GET requests, ``write`` for
every other method; the check is made here, once, for every endpoint.
"""

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone
from ninja.security import HttpBearer

from accounts.models import ApiToken, TokenScope, User

KEY_PREFIX = "hl_"
PREFIX_LENGTH = 8
MAX_KEY_LENGTH = 100
# last_used_at is written at most this often per token, not on every request.
TOUCH_EVERY = timedelta(minutes=1)
# Safe methods read; every other method changes something.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_token(
    user: User, name: str, expires_at: datetime | None = None, scopes: Iterable[str] = TokenScope.values
) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns (token, plain key). The key cannot be recovered later."""
    wanted = set(scopes)
    if not wanted or not wanted <= set(TokenScope.values):
        raise ValueError(f"scopes must be some of {TokenScope.values}: {sorted(wanted)}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_prefix=key[:PREFIX_LENGTH],
        key_hash=hash_key(key),
        expires_at=expires_at,
        scopes=" ".join(s for s in TokenScope.values if s in wanted),
    )
    return token, key


def token_for_key(key: str) -> ApiToken | None:
    """The active, unexpired token with this key whose user is active, else None."""
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
            return token
    return None


class TokenAuth(HttpBearer):
    """ninja auth: ``Authorization: Bearer <key>``; anything else falls through to the next auth.

    A valid token without the scope the request's method needs is refused with 403, whatever the endpoint.
    """

    def authenticate(self, request, token: str) -> User | None:
        api_token = token_for_key(token.strip())
        if api_token is None:
            return None
        needed = TokenScope.READ if request.method in READ_METHODS else TokenScope.WRITE
        if needed not in api_token.scope_list:
            raise PermissionDenied(f"该令牌没有{needed.label}权限（{needed.value}），不能执行此操作")
        return api_token.user
