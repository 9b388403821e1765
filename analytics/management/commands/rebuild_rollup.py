"""manage.py rebuild_rollup: compute every order's facts and every roll-up cell anew from the orders.

The worker keeps the roll-up up to date by itself; this is for a big database after an upgrade (the worker would
otherwise roll up every order in one run) or after data was loaded behind the application's back. It works in
batches of order ids and finishes by moving the watermark to the time it started.
"""

import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from analytics import rollup
from analytics.models import RollupState


class Command(BaseCommand):
    help = "重新计算全部工单的统计事实与汇总（大库升级后使用）"

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=20_000, help="每批工单数（默认 20000）")
        parser.add_argument("--jobs", type=int, default=1, help="并行线程数（仅 PostgreSQL，默认 1）")

    def handle(self, *args, batch: int, jobs: int, **options):
        if batch <= 0 or jobs <= 0:
            self.stderr.write("--batch 与 --jobs 必须为正整数")
            raise SystemExit(2)
        started, clock = timezone.now(), time.perf_counter()

        def progress(done: int, top: int, facts: int) -> None:
            if options["verbosity"] >= 2:
                self.stdout.write(f"  工单 id ≤ {done}/{top}，统计事实 {facts} 条")

        facts = rollup.rebuild(batch=batch, progress=progress, jobs=jobs)
        cells = rollup.RollupCell.objects.count()
        RollupState.objects.update_or_create(name=rollup.STATE, defaults={"watermark": started})
        self.stdout.write(f"统计事实 {facts} 条，汇总 {cells} 条，用时 {time.perf_counter() - clock:.1f} 秒")
