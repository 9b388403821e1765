"""Background tasks survive a worker that dies and a database that goes away for a while.

The database task backend marks a task RUNNING when a worker takes it and SUCCESSFUL or FAILED when it ends. A
worker killed in between (OOM, kill -9, a node lost) would leave the task RUNNING for ever: the e-mail it was
sending would never go. So:

1. each worker (``manage.py worker``) writes a heartbeat ``worker:<id>`` every few seconds;
2. every scheduler tick, ``requeue_orphaned_tasks`` puts back to READY each task RUNNING for longer than
   ``LOST_AFTER`` whose worker has no fresh heartbeat, with ``UPDATE … WHERE status = 'RUNNING'`` so that two
   schedulers requeue it once;
3. a task that FAILED because the database was unreachable (the error, not the task, was at fault) is
   requeued the same way, up to ``MAX_ATTEMPTS`` runs in all.
Tasks therefore run at least once; the periodic ones are idempotent by design (they work out what is due from
the data), and an e-mail may, rarely, go twice rather than never.

On Redis (``TASKS_BACKEND=rq``) the same holds by ``requeue_abandoned_rq_jobs``: rq's workers keep each running job
in the queue's started registry with an expiry they push forward while it runs (every 30 s, 90 s ahead); a job
still there past its expiry lost its worker and work horse. rq itself would only move it to the failed registry,
at a worker's next clean-up (every 10 minutes); the scheduler puts it back in its queue instead.
"""

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from system.models import Heartbeat

logger = logging.getLogger(__name__)

PREFIX = "worker:"
BEAT_EVERY = 5.0  # seconds between a worker's heartbeats
MAX_ATTEMPTS = 5
DATABASE_ERRORS = (
    "django.db.utils.OperationalError",
    "django.db.utils.InterfaceError",
    "psycopg.OperationalError",
    "psycopg.InterfaceError",
)


def lost_after() -> timedelta:
    return timedelta(seconds=settings.TASK_WORKER_LOST_AFTER)


def uses_database_backend() -> bool:
    return settings.TASKS["default"]["BACKEND"].startswith("django_tasks_db.")


def requeue_orphaned_tasks(now: datetime | None = None) -> int:
    """Put back to READY the tasks of dead workers and those failed by a database outage; returns how many."""
    if settings.TASKS["default"]["BACKEND"].startswith("django_tasks_rq."):
        return requeue_abandoned_rq_jobs()
    if not uses_database_backend():
        return 0
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    since = now - lost_after()
    beats = Heartbeat.objects.filter(name__startswith=PREFIX, last_seen__gte=since)
    alive = {name.removeprefix(PREFIX) for name in beats.values_list("name", flat=True)}
    requeued = 0
    running = DBTaskResult.objects.filter(status="RUNNING", started_at__lt=since).values_list("id", "worker_ids")
    for task_id, worker_ids in running:
        if worker_ids and worker_ids[-1] in alive:
            continue
        requeued += DBTaskResult.objects.filter(id=task_id, status="RUNNING").update(status="READY", started_at=None)
    failed = DBTaskResult.objects.filter(
        status="FAILED", exception_class_path__in=DATABASE_ERRORS, finished_at__gte=now - timedelta(hours=1)
    ).values_list("id", "worker_ids")
    for task_id, worker_ids in failed:
        if len(worker_ids or ()) < MAX_ATTEMPTS:
            requeued += DBTaskResult.objects.filter(id=task_id, status="FAILED").update(
                status="READY", started_at=None, finished_at=None, exception_class_path="", traceback=""
            )
    if requeued:
        logger.warning("requeued %d background tasks of a lost worker or a database outage", requeued)
    return requeued


def requeue_own_tasks(worker_id: str) -> int:
    """After the database came back: the tasks this worker was running when it lost the connection run again."""
    from django_tasks_db.models import DBTaskResult

    ids = [
        task_id
        for task_id, worker_ids in DBTaskResult.objects.filter(status="RUNNING").values_list("id", "worker_ids")
        if worker_ids and worker_ids[-1] == worker_id
    ]
    return DBTaskResult.objects.filter(id__in=ids, status="RUNNING").update(status="READY", started_at=None)


def requeue_abandoned_rq_jobs(queues=None, now: float | None = None) -> int:
    """rq: put back in their queue the jobs whose worker stopped beating (killed, node lost); returns how many.

    Each entry of the started registry is claimed by removing it (``ZREM``), so that of two schedulers one
    requeues the job. An entry whose job already finished or failed is only a leftover and is dropped.
    """
    from rq.exceptions import NoSuchJobError
    from rq.job import JobStatus

    if queues is None:
        import django_rq
        from django_tasks_rq import Job

        names = settings.TASKS["default"].get("QUEUES") or list(settings.RQ_QUEUES)
        queues = [django_rq.get_queue(name, job_class=Job) for name in names]
    requeued = 0
    for queue in queues:
        registry, redis = queue.started_job_registry, queue.connection
        for entry in redis.zrangebyscore(registry.key, 0, now if now is not None else time.time()):
            if not redis.zrem(registry.key, entry):
                continue  # another scheduler took it
            try:
                job = queue.job_class.fetch(registry.parse_job_id(entry), connection=redis, serializer=queue.serializer)
            except NoSuchJobError:
                continue
            if job.get_status() != JobStatus.STARTED:
                continue
            job.started_at = job.ended_at = None
            queue.enqueue_job(job)
            requeued += 1
            logger.warning("requeued background task %s (%s) of a lost worker", job.id, job.func_name)
    return requeued
