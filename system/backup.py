"""Backup and restore of an installation: its database and the uploaded files under MEDIA_ROOT.

A backup is a directory holding
- ``database.sqlite3`` (SQLite, copied with sqlite3's online backup API) or ``database.dump`` (PostgreSQL,
  ``pg_dump --format=custom``): each a consistent snapshot, taken while the site keeps running;
- ``media.tar.gz``: MEDIA_ROOT, archived after the snapshot, so it holds every attachment the snapshot names
  (attachments are never deleted);
- ``manifest.json``: the database kind and how many work orders, events and attachments the snapshot holds,
  counted in the snapshot itself, which a restore checks its result against.

A restore goes into the configured database, which must be empty (no tables) unless forced, because it
replaces what is there. Both databases are copied as they are, schema and all: a backup restores into the
same kind of database, and ``manage.py migrate`` afterwards brings it up to newer code.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from orders.models import Attachment, OrderEvent, WorkOrder

MANIFEST = "manifest.json"
MEDIA_ARCHIVE = "media.tar.gz"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}
COUNTED = {"orders": WorkOrder, "events": OrderEvent, "attachments": Attachment}


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why and what to do."""


@dataclass
class Manifest:
    vendor: str
    created_at: str
    counts: dict[str, int]

    @property
    def database_file(self) -> str:
        return DATABASE_FILES[self.vendor]


def default_directory() -> Path:
    return Path(settings.VAR_DIR) / "backups" / f"hotline-{timezone.localtime():%Y%m%d-%H%M%S}"


def backup(directory: Path) -> Manifest:
    """Write a backup of the configured database and MEDIA_ROOT into ``directory``, which must not exist yet.

    The files are written into ``<directory>.partial`` and renamed at the end, so an interrupted backup is
    never mistaken for a complete one.
    """
    if directory.exists():
        raise BackupError(f"{directory} 已存在；请换一个 --output 目录，不会覆盖已有的备份")
    vendor = _vendor()
    partial = directory.with_name(directory.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    database = partial / DATABASE_FILES[vendor]
    counts = _copy_sqlite(database) if vendor == "sqlite" else _dump_postgresql(database)
    _archive_media(partial / MEDIA_ARCHIVE)
    manifest = Manifest(vendor=vendor, created_at=timezone.localtime().isoformat(), counts=counts)
    (partial / MANIFEST).write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=2), encoding="utf-8")
    partial.rename(directory)
    return manifest


def read_manifest(directory: Path) -> Manifest:
    try:
        data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        manifest = Manifest(vendor=data["vendor"], created_at=data["created_at"], counts=data["counts"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{directory} 不是完整的备份目录（{MANIFEST} 缺失或损坏：{exc}）") from exc
    if manifest.vendor not in DATABASE_FILES:
        raise BackupError(f"备份的数据库类型未知：{manifest.vendor}")
    return manifest


def check_target(manifest: Manifest, force: bool) -> None:
    """Refuse a backup of the other kind of database and, unless forced, a target that is not empty.

    Empty means a database without tables (not even migrated) and an upload directory without files.
    """
    if manifest.vendor != _vendor():
        raise BackupError(f"这是 {manifest.vendor} 数据库的备份，当前配置的是 {_vendor()}：只能恢复到同一种数据库")
    found = []
    if tables := connection.introspection.table_names():
        found.append(f"数据库 {connection.settings_dict['NAME']} 不是空的（已有 {len(tables)} 张表）")
    media = Path(settings.MEDIA_ROOT)
    if media.is_dir() and any(media.iterdir()):
        found.append(f"上传文件目录 {media} 不是空的")
    if found and not force:
        raise BackupError("；".join(found) + "。恢复会覆盖其中的数据；确认要覆盖，请加 --force")


def restore(directory: Path, manifest: Manifest, force: bool = False) -> dict[str, int]:
    """Restore the backup in ``directory`` into the configured database and MEDIA_ROOT, then verify it.

    Without ``force`` an occupied target is refused (see ``check_target``). With it, the database's tables are
    replaced by the backup's and files of the same name in MEDIA_ROOT are overwritten. Verified: the numbers
    of orders, events and attachments equal the manifest's and every attachment's file is in MEDIA_ROOT.
    Returns those numbers.
    """
    check_target(manifest, force)
    database = directory / manifest.database_file
    if manifest.vendor == "sqlite":
        _restore_sqlite(database)
    else:
        _restore_postgresql(database, clean=force)
    connection.close()
    _extract_media(directory / MEDIA_ARCHIVE)
    counts = _counts()
    if counts != manifest.counts:
        raise BackupError(f"已恢复，但校验不通过：备份时 {manifest.counts}，恢复后 {counts}")
    if missing := _missing_attachment_files():
        raise BackupError(
            f"已恢复，但校验不通过：{len(missing)} 个附件的文件不在 {settings.MEDIA_ROOT}，如 {missing[0]}"
        )
    return counts


def _missing_attachment_files() -> list[str]:
    names = Attachment.objects.values_list("file", flat=True).iterator()
    return [name for name in names if not default_storage.exists(name)]


def _vendor() -> str:
    if connection.vendor not in DATABASE_FILES:
        raise BackupError(f"不支持的数据库：{connection.vendor}")
    return connection.vendor


def _counts() -> dict[str, int]:
    return {name: model.objects.count() for name, model in COUNTED.items()}


def _copy_sqlite(target: Path) -> dict[str, int]:
    """Copy the live database with the online backup API, which copies a consistent state, then count the copy."""
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
        counts = {}
        for name, model in COUNTED.items():
            # The table name is the model's own, quoted; nothing here comes from input.
            table = connection.ops.quote_name(model._meta.db_table)
            counts[name] = copy.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
        return counts
    finally:
        copy.close()


def _restore_sqlite(source: Path) -> None:
    connection.ensure_connection()
    # Read-only, so that opening the copy of a WAL database leaves no -wal/-shm files in the backup.
    backup_file = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        backup_file.backup(connection.connection)
    finally:
        backup_file.close()


def _dump_postgresql(target: Path) -> dict[str, int]:
    """pg_dump from a snapshot this transaction exports, so the counts are those of exactly what is dumped."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        counts = _counts()
        _run_pg(["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={target}"])
    return counts


def _restore_postgresql(source: Path, clean: bool) -> None:
    # One transaction: a restore that fails half-way leaves the database as it was.
    args = ["pg_restore", "--exit-on-error", "--single-transaction", "--no-owner", "--no-privileges"]
    if clean:
        args += ["--clean", "--if-exists"]
    connection.close()
    _run_pg([*args, f"--dbname={connection.settings_dict['NAME']}", str(source)])


def _run_pg(args: list[str]) -> None:
    """Run a PostgreSQL client program against the configured database (libpq reads the PG* variables)."""
    if shutil.which(args[0]) is None:
        raise BackupError(f"找不到 {args[0]}：请安装 PostgreSQL 客户端（Debian: apt-get install postgresql-client）")
    db = connection.settings_dict
    env = dict(os.environ)
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")):
        if db.get(key):
            env[variable] = str(db[key])
    env["PGDATABASE"] = db["NAME"]
    # An argument list without a shell: the database name and paths cannot be read as shell syntax.
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{args[0]} 失败（退出码 {result.returncode}）：{result.stderr.strip()}")


def _archive_media(target: Path) -> None:
    media = Path(settings.MEDIA_ROOT)
    with tarfile.open(target, "w:gz") as archive:
        if media.is_dir():
            for child in sorted(media.iterdir()):
                archive.add(child, arcname=child.name)


def _extract_media(source: Path) -> None:
    media = Path(settings.MEDIA_ROOT)
    media.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source, "r:gz") as archive:
        # The "data" filter refuses absolute paths, "..", links out of the directory and device files.
        archive.extractall(media, filter="data")
