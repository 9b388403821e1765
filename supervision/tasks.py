"""Periodic supervision work, run by the task worker when the scheduler enqueues it."""

from django_tasks import task

from supervision import actions, difficult, reminders, warnings, whistles


@task()
def watch_orders() -> dict:
    """Recolour open orders and urge their units; escalate, flag and chase what is late. Safe to run twice at once."""
    return {
        "recoloured": warnings.recompute(),
        "urged": reminders.send_reminders(),
        "escalated": actions.escalate_overdue(),
        "flagged": difficult.flag_by_rules(),
        "cases_closed": difficult.close_finished(),
        "late_whistles": whistles.remind_late(),
    }
