"""Background tasks of the system app."""

from django_tasks import task

from system.schedule import beat


@task()
def heartbeat() -> None:
    """Runs on the task worker: its heartbeat proves the queue is being processed."""
    beat("worker")


@task()
def housekeeping() -> dict[str, int]:
    """Once a day: remove finished task results and spent sign-in and portal counters (system/housekeeping.py)."""
    from system.housekeeping import prune

    return prune()
