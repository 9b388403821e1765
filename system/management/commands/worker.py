"""The task worker of the database backend, made to outlive database outages and to be missed when it dies.

It runs django-tasks-db's worker loop, plus:
- a heartbeat ``worker:<id>`` every few seconds from a side thread, by which the schedulers tell a dead worker's
  tasks from a slow one's (system/recovery.py);
- when the database goes away (restart, failover, network), the loop's error is caught: the worker waits, reconnects,
  puts back the task it was running, and goes on, instead of exiting and leaving the queue unprocessed.
"""

import logging
import threading
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.db.utils import DatabaseError, InterfaceError
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from system import recovery
from system.schedule import beat

logger = logging.getLogger(__name__)
RETRY_SECONDS = 2.0


class Command(BaseCommand):
    help = "后台任务进程（数据库队列）：心跳、数据库断开后自动重连"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="队列为空时的检查间隔（秒）")
        parser.add_argument("--queue-name", default="default", help="处理的队列，逗号分隔，* 表示全部")
        parser.add_argument("--worker-id", default="", help="进程标识，默认随机生成")

    def handle(self, *args, interval: float, queue_name: str, worker_id: str, **options) -> None:
        worker_id = worker_id or get_random_string(32)
        worker = Worker(
            queue_names=queue_name.split(","), interval=interval, batch=False, backend_name="default",
            startup_delay=False, max_tasks=None, worker_id=worker_id, excluded_queue_names=[],
        )  # fmt: skip
        worker.configure_signals()
        threading.Thread(target=self._beat, args=(worker_id, worker), daemon=True).start()
        self.stdout.write(f"worker {worker_id} started")
        while worker.running:
            try:
                worker.run()
            except (DatabaseError, InterfaceError) as exc:
                logger.warning("database unavailable (%s); retrying in %.0f s", exc.__class__.__name__, RETRY_SECONDS)
                connection.close()
                time.sleep(RETRY_SECONDS)
                self._recover(worker_id)

    def _recover(self, worker_id: str) -> None:
        try:
            close_old_connections()
            if n := recovery.requeue_own_tasks(worker_id):
                logger.warning("requeued %d task(s) interrupted by the outage", n)
        except (DatabaseError, InterfaceError):
            connection.close()  # still down: the next round tries again

    def _beat(self, worker_id: str, worker: Worker) -> None:
        name = f"{recovery.PREFIX}{worker_id}"
        while worker.running:
            try:
                beat(name)
                beat("worker")
            except (DatabaseError, InterfaceError):
                pass
            finally:
                connection.close()  # this thread's own connection
            time.sleep(recovery.BEAT_EVERY)
