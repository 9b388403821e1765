"""Periodic 监测预警 work, run by the task worker when the scheduler enqueues it."""

from django_tasks import task

from alerts import trends


@task()
def watch_trends() -> dict:
    """Close finished alerts, then compare the latest windows with their history. Safe to run twice at once."""
    return trends.run()
