"""Enqueue periodic jobs when they are due (see system/schedule.py for why two schedulers are safe)."""

import signal
import time

from django.core.management.base import BaseCommand

from system.schedule import beat, run_due_jobs


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
            beat("scheduler")
            for name in run_due_jobs():
                self.stdout.write(f"enqueued {name}")
            if once:
                break
            deadline = time.monotonic() + interval
            while self.running and time.monotonic() < deadline:
                time.sleep(0.2)

    def _stop(self, signum, frame) -> None:
        self.running = False
