"""The periodic delivery run, executed by the task worker when the scheduler enqueues it."""

from django_tasks import task

from sharing import delivery


@task()
def deliver_events() -> dict[str, int]:
    """Fan out settled events and send the deliveries that are due. Safe to run twice at once."""
    return delivery.run()
