"""Periodic analytics work, run by the task worker when the scheduler enqueues it."""

from django_tasks import task

from analytics import hot_issues, reply_quality, reports, rollup


@task()
def refresh_rollup() -> dict:
    """Recompute the daily roll-up for the days touched since the last run. Safe to run twice at once."""
    return {"days": rollup.refresh()}


@task()
def score_replies() -> dict:
    """答复质量 of the replies made since the last run. Safe to run twice at once."""
    return {"scored": reply_quality.store_scores()}


@task()
def refresh_hot_issues() -> dict:
    """A new 热点问题 snapshot of the last days' orders."""
    return {"issues": hot_issues.take_snapshot()}


@task()
def generate_due_reports() -> dict:
    """The reports whose period has ended and that are not in the archive yet; subscribers get them by email."""
    return {"reports": [report.title for report in reports.generate_due()]}
