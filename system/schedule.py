"""Periodic jobs and the claim that makes each run happen once, however many schedulers run.

Algorithm, every few seconds in each scheduler process:
1. read the job's row (created on first sight, due at once);
2. if it is due, move ``next_run_at`` forward with ``UPDATE … WHERE next_run_at = <value read>``;
3. one updated row means this process won the run and enqueues the task; zero means another
   scheduler got there first. Works the same on SQLite and PostgreSQL, one node or ten.
A stopped scheduler finds its jobs overdue on restart and runs each once; the jobs themselves
work out what is due from the data, so nothing is lost by skipping the missed ticks.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.module_loading import import_string

from system.models import Heartbeat, PeriodicJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    interval: timedelta
    task: str  # dotted path of a django-tasks Task


JOBS: dict[str, Job] = {
    "heartbeat": Job(timedelta(seconds=30), "system.tasks.heartbeat"),
    "watch_orders": Job(timedelta(seconds=60), "supervision.tasks.watch_orders"),
    "rollup": Job(timedelta(seconds=60), "analytics.tasks.refresh_rollup"),
    "reply_scores": Job(timedelta(seconds=60), "analytics.tasks.score_replies"),
    "hot_issues": Job(timedelta(hours=1), "analytics.tasks.refresh_hot_issues"),
    "trends": Job(timedelta(hours=1), "alerts.tasks.watch_trends"),
    "reports": Job(timedelta(minutes=15), "analytics.tasks.generate_due_reports"),
    "sharing": Job(timedelta(seconds=15), "sharing.tasks.deliver_events"),
    "urgent": Job(timedelta(seconds=30), "urgent.tasks.push_urgent"),
    "housekeeping": Job(timedelta(days=1), "system.tasks.housekeeping"),
}


def beat(name: str, now: datetime | None = None) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"last_seen": now or timezone.now()})


def claim(name: str, job: Job, now: datetime) -> bool:
    """Take the run of ``name`` that is due at ``now``; False if not due or already taken."""
    row, _ = PeriodicJob.objects.get_or_create(name=name, defaults={"next_run_at": now})
    if row.next_run_at > now:
        return False
    won = PeriodicJob.objects.filter(name=name, next_run_at=row.next_run_at).update(
        next_run_at=now + job.interval, last_run_at=now
    )
    return won == 1


def run_due_jobs(now: datetime | None = None) -> list[str]:
    """Enqueue every job that is due and that this process claimed; returns their names."""
    now = now or timezone.now()
    started = []
    for name, job in JOBS.items():
        if claim(name, job, now):
            import_string(job.task).enqueue()
            started.append(name)
            logger.info("enqueued periodic job %s", name)
    return started
