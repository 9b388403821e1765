"""Enqueue periodic jobs when they are due (see system/schedule.py for why two schedulers are safe), and put back
the tasks of workers that died (system/recovery.py). A database outage is waited out, not fatal."""

import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import connection
from django.db.utils import DatabaseError, InterfaceError

from system.recovery import requeue_orphaned_tasks
from system.schedule import beat, run_due_jobs

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "定时调度：按时把周期任务放入后台队列（可同时运行多个实例）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--interval", type=float, default=5.0, help="检查间隔（秒）")
        parser.add_argument("--once", action="store_true", help="只检查一次后退出")

    def handle(self, *args, interval: float, once: bool, **options) -> None:
        self.running = True
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        while self.running:
            try:
                beat("scheduler")
                requeue_orphaned_tasks()
                for name in run_due_jobs():
                    self.stdout.write(f"enqueued {name}")
            except (DatabaseError, InterfaceError) as exc:
                logger.warning("database unavailable (%s); retrying", exc.__class__.__name__)
                connection.close()
            if once:
                break
            deadline = time.monotonic() + interval
            while self.running and time.monotonic() < deadline:
                time.sleep(0.2)

    def _stop(self, signum, frame) -> None:
        self.running = False
