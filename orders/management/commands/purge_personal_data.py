"""manage.py purge_personal_data [--years N] [--dry-run]: remove personal data from old archived orders."""

import os

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from orders import retention


class Command(BaseCommand):
    help = "清除归档超过保存期限的工单中的个人信息（统计数据保留）"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--years", type=int, default=int(os.environ.get("PERSONAL_DATA_YEARS", "3")),
            help="归档后保存个人信息的年数（默认环境变量 PERSONAL_DATA_YEARS 或 3）",
        )  # fmt: skip
        parser.add_argument("--dry-run", action="store_true", help="只统计，不清除")

    def handle(self, *args, years: int, dry_run: bool, **options) -> None:
        if years < 1:
            raise CommandError("--years 至少为 1")
        now = timezone.now()
        if dry_run:
            self.stdout.write(f"将清除 {retention.due(now, years).count()} 张工单的个人信息（归档超过 {years} 年）")
            return
        cleared = retention.purge(now, years)
        self.stdout.write(f"已清除 {cleared} 张工单的个人信息（归档超过 {years} 年），统计数据不变")
