"""Rows that only matter for a while, removed once a day by the worker (job ``housekeeping``).

- Finished background-task results of the database task backend: the worker writes one per run, about 17,000 a
  day with the periodic jobs, and nothing reads them once they are done. Successful ones are kept
  ``TASK_RESULTS_KEPT``, failed ones ``FAILED_TASK_RESULTS_KEPT`` (long enough to look into a failure).
- Sign-in counters (``accounts.LoginThrottle``) whose window and lock are over, and portal limit counters
  (``portal.Throttle``) whose window is over: such a row counts as nothing (the next attempt starts a new window),
  so removing it changes no decision. A day's margin keeps the job away from rows an attempt may be updating.

Never pruned here: work orders, their events and the audit log (personal data of archived orders has its own
retention command, ``manage.py purge_personal_data``).
"""

from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.models import LoginThrottle
from portal.limits import LIMITS
from portal.models import Throttle

TASK_RESULTS_KEPT = timedelta(days=14)
FAILED_TASK_RESULTS_KEPT = timedelta(days=60)
MARGIN = timedelta(days=1)


def prune(now: datetime | None = None) -> dict[str, int]:
    """Remove what is no longer needed at ``now``; returns the number of rows removed per kind."""
    now = now or timezone.now()
    return {
        "task_results": _prune_task_results(now),
        "login_throttles": _prune_login_throttles(now),
        "portal_throttles": _prune_portal_throttles(now),
    }


def _prune_task_results(now: datetime) -> int:
    if not apps.is_installed("django_tasks_db"):
        return 0
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    old = Q(status=TaskResultStatus.SUCCESSFUL, finished_at__lt=now - TASK_RESULTS_KEPT) | Q(
        status=TaskResultStatus.FAILED, finished_at__lt=now - FAILED_TASK_RESULTS_KEPT
    )
    return DBTaskResult.objects.filter(old).delete()[0]


def _prune_login_throttles(now: datetime) -> int:
    window = timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    unlocked = Q(locked_until__isnull=True) | Q(locked_until__lt=now - MARGIN)
    window_over = Q(window_started_at__isnull=True) | Q(window_started_at__lt=now - window - MARGIN)
    return LoginThrottle.objects.filter(unlocked & window_over).delete()[0]


def _prune_portal_throttles(now: datetime) -> int:
    longest = max(window for _limit, window in LIMITS.values())
    return Throttle.objects.filter(window_start__lt=now - longest - MARGIN).delete()[0]
