"""Periodic supervision work, run by the task worker when the scheduler enqueues it."""

from django_tasks import task

from supervision import actions, reminders, warnings


@task()
def watch_orders() -> dict:
    """Recolour open orders, urge units whose orders crossed a threshold, escalate overdue supervision orders."""
    return {
        "recoloured": warnings.recompute(),
        "urged": reminders.send_reminders(),
        "escalated": actions.escalate_overdue(),
    }
