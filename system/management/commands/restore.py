"""Restore a backup made by ``manage.py backup`` into the configured database (see system/backup.py)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from system.backup import BackupError, check_target, read_manifest, restore


class Command(BaseCommand):
    help = "把 manage.py backup 的备份恢复到当前配置的数据库和上传文件目录，并核对工单、办理记录和附件"

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path, help="备份目录")
        parser.add_argument("--yes", action="store_true", help="不再询问确认")
        parser.add_argument(
            "--force", action="store_true", help="目标数据库或上传文件目录不是空的也恢复：覆盖其中的数据"
        )

    def handle(self, *args, path: Path, yes: bool, force: bool, **options) -> None:
        try:
            manifest = read_manifest(path)
            counts = manifest.counts
            self.stdout.write(
                f"备份 {path}：{manifest.vendor}，{manifest.created_at}，工单 {counts['orders']} 张，"
                f"办理记录 {counts['events']} 条，附件 {counts['attachments']} 个"
            )
            check_target(manifest, force)
            target = connection.settings_dict["NAME"]
            overwrite = "，覆盖其中的数据" if force else ""
            if not yes and not _confirmed(f"恢复到数据库 {target}{overwrite}？输入 yes 继续："):
                raise CommandError("已取消（不询问直接恢复请加 --yes）")
            restored = restore(path, manifest, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"已恢复到 {target}：工单 {restored['orders']} 张，办理记录 {restored['events']} 条，"
            f"附件 {restored['attachments']} 个，与备份一致，附件文件齐全"
        )


def _confirmed(question: str) -> bool:
    try:
        return input(question).strip() == "yes"
    except EOFError:  # no terminal to answer from, e.g. run from a script without --yes
        return False
