"""Back up the database and the uploaded files while the site keeps running (see system/backup.py)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from system.backup import BackupError, backup, default_directory


class Command(BaseCommand):
    help = "备份数据库（SQLite 用在线备份，PostgreSQL 用 pg_dump）和上传的附件，写入一个新目录"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--output", type=Path, default=None, help="备份目录（不能已存在）；默认 var/backups/hotline-<时间>"
        )

    def handle(self, *args, output: Path | None, **options) -> None:
        directory = output or default_directory()
        try:
            manifest = backup(directory)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        counts = manifest.counts
        self.stdout.write(
            f"已备份到 {directory}：工单 {counts['orders']} 张，办理记录 {counts['events']} 条，"
            f"附件 {counts['attachments']} 个"
        )
