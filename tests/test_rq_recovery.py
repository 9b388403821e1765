"""Background tasks on Redis (TASKS_BACKEND=rq) survive a worker killed with its work horse: the scheduler puts the
job it was running back in the queue once rq's heartbeat for it has expired, once however many schedulers run
(system/recovery.py). A real rq worker runs the job in a subprocess and is killed with SIGKILL."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import JobStatus

from system.recovery import requeue_abandoned_rq_jobs

REDIS_URL = "redis://127.0.0.1:6379/7"  # a database of the tests' own
RQ = str(Path(sys.executable).with_name("rq"))


@pytest.fixture
def queue():
    redis = Redis.from_url(REDIS_URL)
    try:
        redis.ping()
    except OSError as exc:
        pytest.fail(f"Redis is not running on 127.0.0.1:6379 ({exc})")
    redis.flushdb()
    name = f"test-{uuid.uuid4().hex[:8]}"
    yield Queue(name, connection=redis)
    redis.flushdb()


def descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout.split()
    return [child for p in out for child in (int(p), *descendants(int(p)))]


def wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_job_of_a_killed_worker_is_requeued_once_and_runs_again(queue):
    job = queue.enqueue("time.sleep", 30, job_timeout=120)
    worker = subprocess.Popen(
        [RQ, "worker", "--url", REDIS_URL, "--name", f"w-{queue.name}", queue.name],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(lambda: job.get_status() == JobStatus.STARTED and descendants(worker.pid))
    finally:
        for pid in [worker.pid, *descendants(worker.pid)]:  # the worker and its work horse: the node is gone
            os.kill(pid, signal.SIGKILL)
        worker.wait()
    assert job.get_status() == JobStatus.STARTED and queue.count == 0

    assert requeue_abandoned_rq_jobs([queue]) == 0  # its heartbeat has not expired yet
    later = time.time() + 120  # rq's heartbeat runs 90 s ahead
    assert requeue_abandoned_rq_jobs([queue], now=later) == 1
    assert requeue_abandoned_rq_jobs([queue], now=later) == 0  # a second scheduler finds nothing left
    assert job.get_status() == JobStatus.QUEUED and queue.job_ids == [job.id]
    assert queue.started_job_registry.get_job_count(cleanup=False) == 0

    job.args = (0.1,)  # the surviving worker runs it (quickly, here)
    job.save()
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert job.get_status() == JobStatus.FINISHED


def test_a_finished_job_left_in_the_registry_is_not_run_again(queue):
    job = queue.enqueue("time.sleep", 0)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert job.get_status() == JobStatus.FINISHED
    queue.connection.zadd(queue.started_job_registry.key, {f"{job.id}:leftover": 1})
    assert requeue_abandoned_rq_jobs([queue]) == 0
    assert queue.count == 0 and queue.started_job_registry.get_job_count(cleanup=False) == 0
