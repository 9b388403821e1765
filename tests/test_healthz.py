from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from system.models import Heartbeat, PeriodicJob
from system.schedule import JOBS, claim, run_due_jobs

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_health_reports_database_and_missing_worker(client):
    body = client.get("/healthz").json()
    assert body["database"] == {"ok": True, "vendor": body["database"]["vendor"]}
    assert body["status"] == "degraded"
    assert body["worker"]["worker"]["ok"] is False


def test_scheduler_and_worker_make_health_ok(client):
    call_command("scheduler", once=True)  # enqueues the heartbeat task
    call_command("db_worker", batch=True, startup_delay=False)  # runs it from the queue
    body = client.get("/healthz").json()
    assert body["status"] == "ok", body
    assert body["worker"]["worker"]["ok"] and body["worker"]["scheduler"]["ok"]


def test_stale_heartbeat_is_reported(client):
    Heartbeat.objects.create(name="worker", last_seen=timezone.now() - timedelta(minutes=10))
    Heartbeat.objects.create(name="scheduler", last_seen=timezone.now())
    body = client.get("/healthz").json()
    assert body["worker"]["worker"]["ok"] is False and body["worker"]["worker"]["age_seconds"] >= 600


def test_a_due_job_is_claimed_once_by_two_schedulers():
    now = timezone.now()
    job = JOBS["heartbeat"]
    PeriodicJob.objects.create(name="heartbeat", next_run_at=now - timedelta(seconds=1))
    first, second = claim("heartbeat", job, now), claim("heartbeat", job, now)
    assert (first, second) == (True, False)
    assert PeriodicJob.objects.get(name="heartbeat").next_run_at == now + job.interval


def test_a_stopped_scheduler_catches_up_with_one_run():
    long_ago = timezone.now() - timedelta(hours=5)
    for name in JOBS:
        PeriodicJob.objects.create(name=name, next_run_at=long_ago)
    assert run_due_jobs() == list(JOBS)  # each job once, not once per missed interval
    assert run_due_jobs() == []
