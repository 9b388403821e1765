"""Dashboards and reports read from a streaming read replica, everything else from the primary.

With ``DATABASE_REPLICA_URL`` set, settings add the database alias ``replica`` and this router. Reads go to the
replica only while ``reads_from_replica`` is on: ``ReplicaMiddleware`` turns it on for GET and HEAD requests under
``REPLICA_PATHS`` (the leaders' dashboards, statistics reports and the public disclosure: pages that only read,
are the heaviest queries, and can show data a few seconds old). Every write goes to the primary whatever the
variable says, and so does every read of every other request: an operator's own orders, queues and the intake's
Idempotency-Key lookup are never read from a replica that may lag behind.

The session and the signed-in user are loaded from the primary before the variable is set, so a user who has just
signed in is not sent back to the login page by a replica a few milliseconds behind; the session is saved (a
write) on the primary.

A replica that cannot be reached is skipped: the request reads from the primary, and the replica is not tried
again for ``RETRY_AFTER`` seconds (set ``connect_timeout`` in ``DATABASE_REPLICA_URL`` to bound each try).
"""

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import DatabaseError

logger = logging.getLogger(__name__)

REPLICA = "replica"
# Path prefixes (hotline/urls.py) whose GET/HEAD requests read from the replica: analytics/ holds 领导驾驶舱,
# 单位看板, 分类分析, hot issues, the drill-down lists, 答复质量 and 统计报告; open/indicators/ is 定期公开.
REPLICA_PATHS = ("/analytics/", "/open/indicators/")
RETRY_AFTER = 30.0  # seconds a replica that refused a connection is left alone

_reads_from_replica: ContextVar[bool] = ContextVar("reads_from_replica", default=False)
_down_until = 0.0
_down_lock = threading.Lock()


def replica_configured() -> bool:
    return REPLICA in connections.settings


def replica_reads_on() -> bool:
    return _reads_from_replica.get()


@contextlib.contextmanager
def reads_from_replica(on: bool = True) -> Iterator[None]:
    """Within the block, reads go to the replica (when one is configured); writes always go to the primary."""
    token = _reads_from_replica.set(on)
    try:
        yield
    finally:
        _reads_from_replica.reset(token)


def replica_available() -> bool:
    """True when the replica is configured and answers; a failure marks it down for ``RETRY_AFTER`` seconds."""
    global _down_until
    if not replica_configured():
        return False
    if time.monotonic() < _down_until:
        return False
    try:
        connections[REPLICA].ensure_connection()
    except DatabaseError as exc:
        with _down_lock:
            _down_until = time.monotonic() + RETRY_AFTER
        logger.warning("read replica unreachable (%s); reading from the primary for %ss", exc, RETRY_AFTER)
        with contextlib.suppress(DatabaseError):
            connections[REPLICA].close()
        return False
    return True


class ReplicaRouter:
    """Reads to ``replica`` while ``reads_from_replica`` is on and the alias exists; writes and migrations to
    the primary."""

    def db_for_read(self, model, **hints):
        if _reads_from_replica.get() and replica_configured():
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of the primary: the same rows on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


def wants_replica(request) -> bool:
    return request.method in ("GET", "HEAD") and request.path.startswith(REPLICA_PATHS)


class ReplicaMiddleware:
    """Turns ``reads_from_replica`` on for the dashboard and report pages' GET/HEAD requests (see module doc)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if not (replica_configured() and wants_replica(request)):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None:
            user.is_authenticated  # noqa: B018 - loads the session and the user from the primary now
        if not replica_available():
            return self.get_response(request)
        with reads_from_replica():
            return self.get_response(request)
