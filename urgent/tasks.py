"""The periodic push run, executed by the task worker when the scheduler enqueues it."""

from django_tasks import task

from urgent import push


@task()
def push_urgent() -> dict[str, int]:
    """Push new urgent items, record first actions, close finished items, send due robot messages."""
    return push.run()
