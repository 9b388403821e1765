"""manage.py backup and restore: a backup of the running database restores into an empty one, every row and file.

The backup runs in the test's own database (SQLite or PostgreSQL, whichever the suite runs on). The restore runs
as an operator would run it, ``manage.py restore`` in a new process, pointed at an empty database of the same
kind: a new SQLite file, or a PostgreSQL database created for the test and dropped after it.
"""

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg import sql

from orders import transitions
from orders.models import Attachment, OrderEvent, WorkOrder

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def history(staff, order_data, settings, tmp_path) -> list[WorkOrder]:
    """An order taken, dispatched, signed, answered and given an attachment, and one just taken."""
    settings.MEDIA_ROOT = tmp_path / "media"
    handled, _ = transitions.intake(staff["operator"], order_data)
    handled = transitions.dispatch(handled, staff["dispatcher"], lead_unit="T1")
    handled = transitions.sign(handled, staff["h1"])
    handled = transitions.attach(handled, staff["h1"], name="现场照片说明.pdf", content=PDF)
    handled = transitions.reply(handled, staff["h1"], result="resolved", content="路灯已修复。", measures="更换灯具")
    waiting, _ = transitions.intake(staff["operator"], {**order_data, "title": "噪音扰民"})
    return [handled, waiting]


@pytest.fixture
def empty_database(tmp_path) -> Iterator[tuple[str, Callable]]:
    """An empty database of the kind the suite runs on: its DATABASE_URL and a function that connects to it."""
    if connection.vendor == "sqlite":
        path = tmp_path / "restored.sqlite3"
        yield f"sqlite:///{path}", lambda: sqlite3.connect(path)
        return
    db = connection.settings_dict
    name = f"{db['NAME']}_restored"
    server = {"host": db["HOST"] or None, "port": db["PORT"] or None, "user": db["USER"], "password": db["PASSWORD"]}

    def admin(statement: str) -> None:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as conn:
            conn.execute(sql.SQL(statement).format(sql.Identifier(name)))

    admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")
    admin("CREATE DATABASE {}")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    url = f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST']}:{db['PORT'] or 5432}/{name}"
    yield url, lambda: psycopg.connect(dbname=name, **server)
    admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")


def manage(*args: str, database_url: str, var_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "HOTLINE_VAR_DIR": str(var_dir)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def rows(conn, query: str) -> list[tuple]:
    with closing(conn.cursor()) as cursor:
        cursor.execute(query)
        return [tuple(row) for row in cursor.fetchall()]


def test_backup_restores_into_an_empty_database_with_every_order_event_and_attachment(
    history, empty_database, tmp_path
):
    url, connect = empty_database
    out = StringIO()
    call_command("backup", output=tmp_path / "backup", stdout=out)
    assert "工单 2 张，办理记录 6 条，附件 1 个" in out.getvalue()

    restored = manage("restore", str(tmp_path / "backup"), "--yes", database_url=url, var_dir=tmp_path / "restored")

    assert restored.returncode == 0, restored.stderr
    assert "工单 2 张，办理记录 6 条，附件 1 个，与备份一致" in restored.stdout
    with closing(connect()) as conn:
        orders = rows(conn, "SELECT number, state, version, lead_unit_id, reply_content FROM orders_workorder")
        events = rows(conn, "SELECT id, order_id, action, from_state, to_state, note FROM orders_orderevent")
        attachments = rows(conn, "SELECT order_id, name, file, size FROM orders_attachment")
    fields = ("number", "state", "version", "lead_unit_id", "reply_content")
    assert sorted(orders) == sorted(WorkOrder.objects.values_list(*fields))
    assert sorted(events) == sorted(
        OrderEvent.objects.values_list("id", "order_id", "action", "from_state", "to_state", "note")
    )
    assert attachments == list(Attachment.objects.values_list("order_id", "name", "file", "size"))
    (_, _, file, _) = attachments[0]
    assert (tmp_path / "restored" / "media" / file).read_bytes() == PDF


def test_restore_refuses_a_database_that_is_not_empty_unless_forced(history, empty_database, tmp_path):
    url, _ = empty_database
    call_command("backup", output=tmp_path / "backup", stdout=StringIO())
    restore = ("restore", str(tmp_path / "backup"), "--yes")
    assert manage(*restore, database_url=url, var_dir=tmp_path / "restored").returncode == 0

    again = manage(*restore, database_url=url, var_dir=tmp_path / "restored")

    assert again.returncode != 0
    assert "不是空的" in again.stderr and "--force" in again.stderr
    forced = manage(*restore, "--force", database_url=url, var_dir=tmp_path / "restored")
    assert forced.returncode == 0, forced.stderr
    assert "工单 2 张，办理记录 6 条，附件 1 个，与备份一致" in forced.stdout


def test_restore_refuses_a_backup_of_the_other_kind_of_database(history, tmp_path):
    call_command("backup", output=tmp_path / "backup", stdout=StringIO())
    manifest = tmp_path / "backup" / "manifest.json"
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "vendor": other}))

    with pytest.raises(CommandError, match="只能恢复到同一种数据库"):
        call_command("restore", str(tmp_path / "backup"), yes=True, force=True)
    assert WorkOrder.objects.count() == 2


def test_backup_does_not_overwrite_an_earlier_backup(history, tmp_path):
    (tmp_path / "backup").mkdir()

    with pytest.raises(CommandError, match="已存在"):
        call_command("backup", output=tmp_path / "backup", stdout=StringIO())
