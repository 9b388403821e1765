"""Daily housekeeping (system/housekeeping.py): spent rows go, everything still in force stays."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts import lockout
from accounts.models import LoginThrottle
from portal import limits
from portal.models import Throttle
from system import housekeeping
from system.models import PeriodicJob
from system.schedule import run_due_jobs
from system.tasks import heartbeat

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def task_results(now):
    """Five task results: (status, days since they finished) → id."""
    made = {}
    for status, days in (("SUCCESSFUL", 15), ("SUCCESSFUL", 13), ("FAILED", 30), ("FAILED", 61), ("READY", None)):
        pk = heartbeat.enqueue().id
        finished = now - timedelta(days=days) if days is not None else None
        DBTaskResult.objects.filter(pk=pk).update(status=status, finished_at=finished)
        made[(status, days)] = str(pk)
    return made


def throttles(now):
    minute = timedelta(minutes=1)
    rows = {
        "old window": LoginThrottle(kind="username", value="a", failures=3, window_started_at=now - timedelta(days=3)),
        "open window": LoginThrottle(kind="username", value="b", failures=2, window_started_at=now - 10 * minute),
        "locked": LoginThrottle(
            kind="username", value="c", failures=5, window_started_at=now - timedelta(days=3),
            locked_until=now + 5 * minute,
        ),
        "lock over": LoginThrottle(
            kind="ip", value="10.0.0.1", failures=5, window_started_at=now - timedelta(days=4),
            locked_until=now - timedelta(days=2),
        ),
        "window just over": LoginThrottle(kind="ip", value="10.0.0.2", failures=1, window_started_at=now - 20 * minute),
    }  # fmt: skip
    for row in rows.values():
        row.save()
    portal = {
        "old": Throttle.objects.create(key="submit:ip:1.2.3.4", window_start=now - timedelta(days=3), count=10),
        "recent": Throttle.objects.create(key="submit:ip:5.6.7.8", window_start=now - timedelta(hours=2), count=10),
    }
    return rows, portal


def test_prune_removes_only_what_no_longer_counts():
    now = timezone.now()
    results = task_results(now)
    logins, portal = throttles(now)

    removed = housekeeping.prune(now)

    assert removed == {"task_results": 2, "login_throttles": 2, "portal_throttles": 1}
    left = set(DBTaskResult.objects.values_list("id", flat=True))
    assert {str(pk) for pk in left} == {results[("SUCCESSFUL", 13)], results[("FAILED", 30)], results[("READY", None)]}
    assert set(LoginThrottle.objects.values_list("value", flat=True)) == {"b", "c", "10.0.0.2"}
    assert list(Throttle.objects.values_list("key", flat=True)) == ["submit:ip:5.6.7.8"]
    # what stayed still decides: the locked name is locked, the open window still counts
    assert lockout.is_locked("c", "127.0.0.1", now)
    assert LoginThrottle.objects.get(value="b").failures == 2
    # a removed counter starts again from nothing
    assert limits.allow("submit:ip", "1.2.3.4", now)
    assert Throttle.objects.get(key="submit:ip:1.2.3.4").count == 1


def test_the_scheduler_runs_housekeeping_once_a_day_on_the_worker():
    now = timezone.now()
    results = task_results(now)
    PeriodicJob.objects.all().delete()
    assert "housekeeping" in run_due_jobs(now)
    assert "housekeeping" not in run_due_jobs(now + timedelta(hours=23))
    call_command("db_worker", batch=True, startup_delay=False)
    job = DBTaskResult.objects.get(task_path="system.tasks.housekeeping")
    assert job.status == "SUCCESSFUL"
    assert job.return_value["task_results"] == 2
    assert not DBTaskResult.objects.filter(pk__in=[results[("SUCCESSFUL", 15)], results[("FAILED", 61)]]).exists()
    assert "housekeeping" in run_due_jobs(now + timedelta(days=1, seconds=1))
