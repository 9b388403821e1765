"""Faults: a full disk during an upload, a worker that dies mid-task, a database that goes away and comes back.

Nothing accepted is lost and nothing half-written stays: the disk tests use a real, tiny tmpfs (root is needed to
mount it, as in CI); the database tests cut the real PostgreSQL connections of real worker and scheduler processes.
bench/faults.py runs the same faults against the whole running product (gunicorn, worker, scheduler).
"""

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.utils import OperationalError
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from orders import transitions
from orders.models import Action, Attachment, OrderEvent
from portal.models import Photo, Submission
from system import recovery
from system.middleware import DatabaseUnavailableMiddleware
from system.models import Heartbeat
from system.storage import MediaStorage, StorageFull
from system.tasks import heartbeat

PDF = b"%PDF-1.7\n" + b"0" * 4000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 4000


@pytest.fixture
def tiny_disk(tmp_path, settings):
    """A 64 KiB tmpfs as the upload directory; `fill()` leaves it with no free space, `free()` empties it."""
    mount = tmp_path / "media"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {result.stderr.decode().strip()}")
    settings.MEDIA_ROOT = str(mount)

    class Disk:
        path = mount

        @staticmethod
        def fill(leave: int = 0) -> None:
            fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            try:
                while os.write(fd, b"\0" * 512):
                    pass
            except OSError:
                pass
            finally:
                os.close(fd)
            if leave:
                size = (mount / "filler").stat().st_size
                os.truncate(mount / "filler", max(0, size - leave))

        @staticmethod
        def free() -> None:
            (mount / "filler").unlink(missing_ok=True)

        @staticmethod
        def files() -> list[str]:
            return sorted(str(p.relative_to(mount)) for p in mount.rglob("*") if p.is_file() and p.name != "filler")

    yield Disk
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_an_upload_on_a_full_disk_is_refused_naming_the_file_and_leaves_nothing(tiny_disk, staff, order_data):
    order, _ = transitions.intake(staff["operator"], order_data)
    events = OrderEvent.objects.filter(order=order).count()
    tiny_disk.fill()
    client = Client()
    client.force_login(staff["operator"])
    url = f"/api/orders/{order.number}/attachments"
    response = client.post(url, {"file": SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf")})
    assert response.status_code == 507
    body = response.json()
    assert body["code"] == "storage_full" and "存储空间不足" in body["message"]
    assert [e["field"] for e in body["errors"]] == ["file"]
    assert not Attachment.objects.exists() and OrderEvent.objects.filter(order=order).count() == events
    assert tiny_disk.files() == []  # no partial file
    order.refresh_from_db()
    assert order.version == 0

    tiny_disk.free()
    response = client.post(url, {"file": SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf")})
    assert response.status_code == 200
    assert Attachment.objects.count() == 1 and len(tiny_disk.files()) == 1
    assert OrderEvent.objects.filter(order=order, action=Action.ATTACH).count() == 1


def test_a_write_that_runs_out_of_space_midway_removes_its_partial_file(tiny_disk):
    from django.core.files.base import ContentFile

    tiny_disk.fill(leave=8192)  # room for the first bytes only
    storage = MediaStorage(location=str(tiny_disk.path))
    with pytest.raises(OSError):
        storage.save("big.bin", ContentFile(b"x" * 40_000))
    assert tiny_disk.files() == []


def test_a_portal_submission_with_photos_on_a_full_disk_is_refused_and_nothing_is_kept(tiny_disk, client, db, settings):
    settings.PORTAL_SENDERS = []
    tiny_disk.fill(leave=6000)  # the first photo fits, the second does not
    data = {
        "name": "王女士", "phone": "13912345678", "title": "小区门口路灯不亮",
        "content": "一区一街道幸福小区门口的路灯坏了半个月，晚上很黑。", "address": "一区一街道幸福小区",
        "photos": [SimpleUploadedFile("a.png", PNG, "image/png"), SimpleUploadedFile("b.png", PNG, "image/png")],
    }  # fmt: skip
    response = client.post(reverse("portal:submit"), data)
    assert response.status_code == 507
    assert "存储空间不足" in response.content.decode()
    assert not Submission.objects.exists() and not Photo.objects.exists()
    assert tiny_disk.files() == []
    tiny_disk.free()
    data["photos"] = [SimpleUploadedFile("a.png", PNG, "image/png")]
    assert client.post(reverse("portal:submit"), data).status_code == 302
    assert Photo.objects.count() == 1 and len(tiny_disk.files()) == 1


def test_storage_full_is_only_for_a_full_disk():
    from system.storage import refuse_if_disk_full

    with pytest.raises(StorageFull) as caught, refuse_if_disk_full("file"):
        raise OSError(28, "No space left on device")
    assert caught.value.status == 507 and caught.value.errors == {"file": caught.value.message}
    with pytest.raises(PermissionError), refuse_if_disk_full("file"):
        raise PermissionError(13, "Permission denied")


# ---------------------------------------------------------------- tasks of a dead worker


def running_task(worker_id: str, started: timedelta, status: str = "RUNNING", **fields) -> DBTaskResult:
    result = heartbeat.enqueue()
    row = DBTaskResult.objects.get(id=result.id)
    row.status, row.worker_ids, row.started_at = status, [worker_id], timezone.now() - started
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row


def test_a_dead_workers_task_is_put_back_once_and_a_live_workers_is_left(db, settings):
    settings.TASK_WORKER_LOST_AFTER = 60
    now = timezone.now()
    Heartbeat.objects.create(name="worker:alive", last_seen=now - timedelta(seconds=10))
    Heartbeat.objects.create(name="worker:gone", last_seen=now - timedelta(minutes=5))
    of_dead = running_task("gone", timedelta(minutes=3))
    of_unknown = running_task("never-seen", timedelta(minutes=3))
    of_live = running_task("alive", timedelta(minutes=3))
    just_taken = running_task("gone", timedelta(seconds=5))  # not yet overdue: its worker may have just died

    assert recovery.requeue_orphaned_tasks(now) == 2
    assert recovery.requeue_orphaned_tasks(now) == 0  # a second scheduler finds nothing left to put back
    status = dict(DBTaskResult.objects.values_list("id", "status"))
    assert status[of_dead.id] == status[of_unknown.id] == "READY"
    assert status[of_live.id] == status[just_taken.id] == "RUNNING"
    assert DBTaskResult.objects.ready().filter(id=of_dead.id).exists()


def test_a_task_failed_by_a_database_outage_runs_again_up_to_a_limit(db):
    now = timezone.now()
    outage = {"status": "FAILED", "exception_class_path": "django.db.utils.OperationalError", "finished_at": now}
    failed = running_task("w", timedelta(minutes=1), **outage)
    own_bug = running_task("w", timedelta(minutes=1), **{**outage, "exception_class_path": "builtins.ValueError"})
    tired = running_task("w", timedelta(minutes=1), **outage)
    tired.worker_ids = ["w"] * recovery.MAX_ATTEMPTS
    tired.save()
    assert recovery.requeue_orphaned_tasks(now) == 1
    status = dict(DBTaskResult.objects.values_list("id", "status"))
    assert (status[failed.id], status[own_bug.id], status[tired.id]) == ("READY", "FAILED", "FAILED")


def test_while_the_database_is_down_pages_and_the_api_answer_503_with_retry_after():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    down = OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")
    api = middleware.process_exception(RequestFactory().post("/api/orders"), down)
    assert api.status_code == 503 and api["Retry-After"] == "5"
    body = json.loads(api.content)
    assert body["code"] == "unavailable" and "请稍后重试" in body["message"]
    page = middleware.process_exception(RequestFactory().post("/orders/new/"), down)
    assert page.status_code == 503 and "暂时无法服务" in page.content.decode()
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("bug")) is None


# ---------------------------------------------------------------- real processes, real PostgreSQL


APPLICATION = "hotline-fault-test"  # the processes started here, so that only their connections are cut


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{db['USER']}{password}@{host}/{db['NAME']}?application_name={APPLICATION}"


def start(*args: str, var_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url(), "HOTLINE_VAR_DIR": str(var_dir), "TASK_WORKER_LOST_AFTER": "3"}
    return subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def outage(seconds: float) -> int:
    """What a PostgreSQL restart does to the worker and scheduler started here: their connections cut, new ones
    refused for a while. Run from the server's maintenance database; this process's connections are spared."""
    import psycopg
    from psycopg import sql

    db = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own = cursor.fetchone()[0]
    admin = psycopg.connect(
        dbname="postgres", user=db["USER"], password=db["PASSWORD"] or None, host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432, autocommit=True,
    )  # fmt: skip
    name = sql.Identifier(db["NAME"])
    with admin:
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name))
        try:
            cut = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> %s AND application_name = %s",
                (db["NAME"], own, APPLICATION),
            ).fetchone()[0]
            time.sleep(seconds)
        finally:
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(name))
    return cut


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def stop(process: subprocess.Popen) -> str:
    process.terminate()
    try:
        out, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="cuts real PostgreSQL connections; SQLite has no server to lose",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_and_scheduler_outlive_lost_database_connections_and_requeue_a_killed_workers_task(tmp_path):
    worker = start("worker", "--interval", "0.2", "--worker-id", "first", var_dir=tmp_path)
    scheduler = start("scheduler", "--interval", "0.5", var_dir=tmp_path)
    try:
        done = heartbeat.enqueue()
        assert wait_for(lambda: DBTaskResult.objects.get(id=done.id).status == "SUCCESSFUL"), "worker never ran"
        assert wait_for(lambda: Heartbeat.objects.filter(name="worker:first").exists())

        during = heartbeat.enqueue()
        outage(4)
        assert worker.poll() is None and scheduler.poll() is None, "a process exited on a lost connection"
        assert wait_for(lambda: DBTaskResult.objects.get(id=during.id).status == "SUCCESSFUL"), "no work after"
        after = heartbeat.enqueue()
        assert wait_for(lambda: DBTaskResult.objects.get(id=after.id).status == "SUCCESSFUL"), "no work after"

        # a task taken by a worker that then died: the scheduler puts it back and the live worker runs it
        orphan = running_task("killed", timedelta(seconds=10))
        assert wait_for(lambda: DBTaskResult.objects.get(id=orphan.id).status == "SUCCESSFUL"), "orphan left"
        assert DBTaskResult.objects.get(id=orphan.id).worker_ids == ["killed", "first"]
    finally:
        logs = stop(worker) + stop(scheduler)
    assert "Traceback" not in logs, logs


def test_an_api_answer_that_cannot_be_read_after_the_database_went_away_is_503_not_500(rf):
    from pydantic import BaseModel, ConfigDict
    from pydantic import ValidationError as ResponseValidationError

    from hotline.api import _response_unreadable

    class Out(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        number: str

    class Gone:
        @property
        def number(self):
            raise OperationalError("server closed the connection unexpectedly")

    class Buggy:
        @property
        def number(self):
            raise KeyError("bug")

    with pytest.raises(ResponseValidationError) as lost:
        Out.model_validate(Gone())
    response = _response_unreadable(rf.post("/api/orders"), lost.value)
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert json.loads(response.content)["code"] == "unavailable"
    with pytest.raises(ResponseValidationError) as bug:
        Out.model_validate(Buggy())
    with pytest.raises(ResponseValidationError):
        _response_unreadable(rf.post("/api/orders"), bug.value)
