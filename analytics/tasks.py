"""Periodic analytics work, run by the task worker when the scheduler enqueues it."""

from django_tasks import task

from analytics import rollup


@task()
def refresh_rollup() -> dict:
    """Recompute the daily roll-up for the days touched since the last run. Safe to run twice at once."""
    return {"days": rollup.refresh()}
