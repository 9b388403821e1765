"""Fault drills against the running product: a worker killed mid-task, PostgreSQL restarted during intake, the
upload disk full. Each drill checks that no accepted order, event or task is lost, that nothing half-written stays,
and that the product recovers by itself; the results go to bench/results/faults.json and .md.

The product runs as in production: gunicorn (2 workers × 4 threads), ``manage.py worker`` and ``manage.py
scheduler``, on a PostgreSQL cluster of its own (``pg_createcluster`` on port 5439, dropped at the end), so that
restarting it disturbs nothing else on the machine; uploads go to a 32 MiB tmpfs. Needs root (cluster, mount) and
Debian's postgresql-common. E-mail goes to an SMTP sink in this script that takes 0.3 s per message.

1. **Worker killed mid-task.** 40 e-mails are queued; while the worker is inside one of them (the sink holds the
   message), it is killed with SIGKILL and a new worker started. Expected: every e-mail arrives (at least once;
   the one being sent when the worker died may arrive twice), no task is left RUNNING or READY.
2. **PostgreSQL restarted during intake.** 8 clients post work orders through the API for ``--seconds``, each
   with its own Idempotency-Key, and send a refused request again (connection error, 503) until it is accepted;
   the cluster is restarted (``pg_ctlcluster … restart``) a third of the way in. Expected: every order a client
   was told was accepted exists exactly once with its intake event, no 500, the web, worker and scheduler
   processes are the ones started at the beginning, and an e-mail queued after the restart is sent.
3. **Disk full during uploads.** Clients take in orders and upload a 20 KB file to each while the upload disk fills
   up and is then freed. Expected: each upload is saved (200) or refused with 507 (storage_full), never a 500; every
   attachment row has its file, no file lacks a row, every 上传附件 event has its attachment; orders are still
   taken in while the disk is full; uploads succeed again once space is freed.

Usage (from the repository root, as root)
    .venv/bin/python bench/faults.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from warnings_recompute import machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
NAME = "faults"
CLUSTER = "faultdrill"
PG_PORT = 5439
WEB_PORT = 8765
SMTP_PORT = 8825
DATABASE = "hotline_drill"
PDF = b"%PDF-1.7\n" + b"0" * 20_000


# --------------------------------------------------------------------------------------------- the PostgreSQL cluster


def pg_version() -> str:
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout
    return out.split()[0]


def run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, text=True)


def cluster_up(version: str) -> None:
    cluster_down(version)
    run("pg_createcluster", version, CLUSTER, "-p", str(PG_PORT), "--start", "--", "-A", "trust")


def cluster_down(version: str) -> None:
    subprocess.run(["pg_dropcluster", version, CLUSTER, "--stop"], capture_output=True)


# --------------------------------------------------------------------------------------------- an SMTP sink


class Sink(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, delay: float) -> None:
        super().__init__(("127.0.0.1", SMTP_PORT), SmtpHandler)
        self.delay = delay
        self.subjects: Counter[str] = Counter()
        self.in_data = threading.Event()
        self.lock = threading.Lock()


class SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for Django's backend: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        sink: Sink = self.server  # type: ignore[assignment]
        self.reply("220 drill")
        while line := self.rfile.readline():
            verb = line.decode(errors="replace").strip().split(" ")[0].upper()
            if verb == "EHLO":
                self.reply("250-drill")
                self.reply("250 8BITMIME")
            elif verb == "DATA":
                self.reply("354 go on")
                lines = []
                sink.in_data.set()
                while (data := self.rfile.readline()) and data not in (b".\r\n", b".\n"):
                    lines.append(data.decode(errors="replace"))
                time.sleep(sink.delay)  # the message is being "delivered"
                sink.in_data.clear()
                subject = next((x.split(":", 1)[1].strip() for x in lines if x.lower().startswith("subject:")), "")
                with sink.lock:
                    sink.subjects[subject] += 1
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


# --------------------------------------------------------------------------------------------- the product's processes


class Product:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the process's life
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes[name] = process
        return process

    def start_all(self) -> None:
        python = str(ROOT / ".venv" / "bin" / "python")
        self.start(
            "web", str(ROOT / ".venv" / "bin" / "gunicorn"), "hotline.wsgi", "--bind", f"127.0.0.1:{WEB_PORT}",
            "--workers", "2", "--threads", "4", "--log-level", "warning",
        )  # fmt: skip
        self.start("worker", python, "manage.py", "worker", "--interval", "0.2")
        self.start("scheduler", python, "manage.py", "scheduler", "--interval", "1")
        wait_until(lambda: http_get("/healthz")[0] == 200, 60, "the web server did not start")

    def alive(self) -> dict[str, bool]:
        return {name: p.poll() is None for name, p in self.processes.items()}

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_until(condition, timeout: float, failure: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if condition():
                return time.monotonic() - started
        except Exception:  # noqa: BLE001 - the thing waited for may fail until it is up
            pass
        time.sleep(0.2)
    raise SystemExit(failure)


def call(method: str, path: str, token: str = "", body: Any = None, headers: dict | None = None, raw: bytes = b""):
    conn = http.client.HTTPConnection("127.0.0.1", WEB_PORT, timeout=30)
    try:
        all_headers = {"Authorization": f"Bearer {token}"} if token else {}
        all_headers.update(headers or {})
        if body is not None:
            all_headers["Content-Type"] = "application/json"
            raw = json.dumps(body).encode()
        conn.request(method, path, body=raw or None, headers=all_headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def http_get(path: str) -> tuple[int, bytes]:
    return call("GET", path)


def multipart(name: str, content: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


# --------------------------------------------------------------------------------------------- set-up


def prepare(database_url: str) -> dict[str, Any]:
    """Migrate and load the demo city (no history) in the drill's database; tokens and an order body."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
    sys.path.insert(0, str(ROOT))
    from scripts.ensure_database import main as ensure_database

    if ensure_database() != 0:
        raise SystemExit("cannot create the drill database")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_demo", orders=0, cases=0, verbosity=0)
    from accounts.models import User
    from accounts.tokens import create_token
    from categories.models import Category, RequestType

    leaf = Category.objects.active().leaves().first()
    body = {
        "channel": "phone", "caller_name": "演练", "caller_phone": "13800138000",
        "request_type": RequestType.objects.first().code, "category": leaf.pk, "title": "故障演练工单",
        "content": "演练：小区门口路灯不亮，晚上很黑。", "address": "A市",
    }  # fmt: skip
    return {"token": create_token(User.objects.get(username="operator"), "drill")[1], "body": body}


# --------------------------------------------------------------------------------------------- drill 1


def drill_worker_killed(product: Product, sink: Sink) -> dict[str, Any]:
    from django_tasks_db.models import DBTaskResult

    from notifications.tasks import send_email

    subjects = [f"drill-{i:02d}" for i in range(40)]
    for subject in subjects:
        send_email.enqueue(subject=subject, body="演练", recipients=["drill@example.com"])
    wait_until(lambda: sum(sink.subjects[s] for s in subjects) >= 5, 60, "the worker sent nothing")
    wait_until(sink.in_data.is_set, 30, "no message in flight")
    running = DBTaskResult.objects.filter(status="RUNNING").count()
    killed_at = time.monotonic()
    product.processes["worker"].send_signal(signal.SIGKILL)
    product.processes["worker"].wait()
    product.start("worker", str(ROOT / ".venv" / "bin" / "python"), "manage.py", "worker", "--interval", "0.2")

    def all_done() -> bool:
        return DBTaskResult.objects.filter(task_path__endswith="send_email").exclude(status="SUCCESSFUL").count() == 0

    recovered = wait_until(all_done, 180, "tasks of the killed worker were never finished")
    missing = [s for s in subjects if sink.subjects[s] == 0]
    twice = [s for s in subjects if sink.subjects[s] > 1]
    left = DBTaskResult.objects.filter(status__in=("RUNNING", "READY"), task_path__endswith="send_email").count()
    return {
        "emails": len(subjects),
        "running_when_killed": running,
        "delivered": sum(1 for s in subjects if sink.subjects[s]),
        "missing": missing,
        "delivered_twice": twice,
        "tasks_left": left,
        "seconds_to_all_sent_after_kill": round(time.monotonic() - killed_at, 1),
        "wait_seconds": round(recovered, 1),
        "ok": not missing and left == 0,
    }


# --------------------------------------------------------------------------------------------- drill 2


def client_loop(ctx: dict, stop_at: float, accepted: list, statuses: Counter, lock: threading.Lock) -> None:
    while time.monotonic() < stop_at:
        key = uuid.uuid4().hex
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                status, data = call("POST", "/api/orders", ctx["token"], ctx["body"], {"Idempotency-Key": key})
            except OSError:
                status, data = 0, b""  # connection refused or reset
            with lock:
                statuses[status] += 1
            if status in (200, 201):
                with lock:
                    accepted.append((key, json.loads(data)["number"], time.monotonic()))
                break
            time.sleep(0.3)


def drill_postgres_restart(product: Product, ctx: dict, version: str, seconds: float, sink: Sink) -> dict[str, Any]:
    from django.db import connection

    from notifications.tasks import send_email
    from orders.models import Action, OrderEvent, WorkOrder

    pids = {name: p.pid for name, p in product.processes.items()}
    accepted: list[tuple[str, str, float]] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    clients = [threading.Thread(target=client_loop, args=(ctx, stop_at, accepted, statuses, lock)) for _ in range(8)]
    for c in clients:
        c.start()
    time.sleep(seconds / 3)
    before = len(accepted)
    restart_started = time.monotonic()
    run("pg_ctlcluster", version, CLUSTER, "restart")
    restart_seconds = time.monotonic() - restart_started
    connection.close()
    wait_until(lambda: len(accepted) > before + 8, 60, "no intake after the restart")
    for c in clients:
        c.join()
    connection.close()
    keys = [k for k, _, _ in accepted]
    times = sorted(t for _, _, t in accepted)
    longest_gap = max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)
    found = Counter(WorkOrder.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True))
    missing = [k for k in keys if found[k] == 0]
    duplicated = [k for k, n in found.items() if n > 1]
    numbers = [n for _, n, _ in accepted]
    with_event = set(
        OrderEvent.objects.filter(order__number__in=numbers, action=Action.INTAKE).values_list(
            "order__number", flat=True
        )
    )
    send_email.enqueue(subject="drill-after-restart", body="演练", recipients=["drill@example.com"])
    mailed = wait_until(lambda: sink.subjects["drill-after-restart"] >= 1, 120, "no e-mail after the restart")
    same = {name: p.pid for name, p in product.processes.items()} == pids and all(product.alive().values())
    return {
        "seconds": seconds,
        "clients": len(clients),
        "accepted": len(accepted),
        "accepted_before_restart": before,
        "restart_seconds": round(restart_seconds, 1),
        "longest_gap_between_accepted_orders": round(longest_gap, 1),
        "responses": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors": sum(v for k, v in statuses.items() if k >= 500 and k != 503),
        "missing": missing,
        "duplicated": duplicated,
        "without_intake_event": len(set(numbers) - with_event),
        "email_after_restart_seconds": round(mailed, 1),
        "same_processes_alive": same,
        "ok": not missing
        and not duplicated
        and set(numbers) <= with_event
        and same
        and not any(k >= 500 and k != 503 for k in statuses),
    }


# --------------------------------------------------------------------------------------------- drill 3


def upload_loop(ctx: dict, stop_at: float, results: Counter, lock: threading.Lock) -> None:
    while time.monotonic() < stop_at:
        status, data = call("POST", "/api/orders", ctx["token"], ctx["body"], {"Idempotency-Key": uuid.uuid4().hex})
        with lock:
            results[f"intake {status}"] += 1
        if status not in (200, 201):
            continue
        number = json.loads(data)["number"]
        raw, content_type = multipart("scan.pdf", PDF, "application/pdf")
        status, data = call("POST", f"/api/orders/{number}/attachments", ctx["token"], raw=raw,
                            headers={"Content-Type": content_type})  # fmt: skip
        code = json.loads(data).get("code", "") if status >= 400 and data.startswith(b"{") else ""
        with lock:
            results[f"upload {status} {code}".strip()] += 1


def drill_disk_full(ctx: dict, media: Path, seconds: float) -> dict[str, Any]:
    from orders.models import Action, Attachment, OrderEvent

    results: Counter[str] = Counter()
    lock = threading.Lock()
    phases = {}
    for phase, fill in (("space", False), ("full", True), ("freed", False)):
        filler = media / "filler"
        if fill:
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            try:
                while os.write(fd, b"\0" * 4096):
                    pass
            except OSError:
                pass
            finally:
                os.close(fd)
        else:
            filler.unlink(missing_ok=True)
        results.clear()
        stop_at = time.monotonic() + seconds / 3
        threads = [threading.Thread(target=upload_loop, args=(ctx, stop_at, results, lock)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        phases[phase] = dict(sorted(results.items()))
        if phase == "full":
            filler.unlink(missing_ok=True)  # room to breathe for the check below
    rows = set(Attachment.objects.values_list("file", flat=True))
    files = {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file() and p.name != "filler"}
    events = OrderEvent.objects.filter(action=Action.ATTACH)
    orphan_events = sum(1 for e in events if not Attachment.objects.filter(pk=e.data.get("attachment")).exists())
    server_errors = sum(n for phase in phases.values() for k, n in phase.items() if k.split()[1].startswith("5")
                        and k.split()[1] != "507")  # fmt: skip
    return {
        "phases": phases,
        "attachments": len(rows),
        "rows_without_file": len(rows - files),
        "files_without_row": len(files - rows),
        "events_without_attachment": orphan_events,
        "server_errors": server_errors,
        "ok": rows == files
        and orphan_events == 0
        and server_errors == 0
        and any(k.startswith("upload 507") for k in phases["full"])
        and any(k.startswith("intake 201") for k in phases["full"])
        and any(k.startswith("upload 200") for k in phases["freed"]),
    }


# --------------------------------------------------------------------------------------------- report


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    one, two, three = result["worker_killed"], result["postgres_restart"], result["disk_full"]
    verdict = {True: "passed", False: "**FAILED**"}
    lines = [
        "# Fault drills (bench/faults.py)",
        "",
        f"{result['date']} · {m['cpu']}, {m['cores']} cores · {m['postgresql'].split(' on ')[0]} · "
        f"`.venv/bin/python bench/faults.py --seconds {two['seconds']:g}`",
        "",
        "gunicorn 2×4, `manage.py worker`, `manage.py scheduler` on a PostgreSQL cluster of their own (restarted "
        "in drill 2), uploads on a 32 MiB tmpfs, e-mail to an SMTP sink taking 0.3 s per message.",
        "",
        "| drill | result | what was checked |",
        "|---|---|---|",
        f"| 1. worker killed (SIGKILL) while sending | {verdict[one['ok']]} | {one['delivered']} of {one['emails']} "
        f"e-mails delivered ({len(one['delivered_twice'])} twice), {one['tasks_left']} tasks left, all sent "
        f"{one['seconds_to_all_sent_after_kill']} s after the kill |",
        f"| 2. PostgreSQL restarted during intake | {verdict[two['ok']]} | {two['accepted']} orders accepted by "
        f"{two['clients']} clients in {two['seconds']:g} s, {len(two['missing'])} missing, {len(two['duplicated'])} "
        f"twice, {two['without_intake_event']} without intake event; `pg_ctlcluster restart` took "
        f"{two['restart_seconds']} s, longest time without an accepted order "
        f"{two['longest_gap_between_accepted_orders']} s; responses {two['responses']} "
        f"(0 = connection refused/reset); server errors {two['server_errors']}; same processes alive: "
        f"{two['same_processes_alive']}; an e-mail queued after the restart sent in "
        f"{two['email_after_restart_seconds']} s (behind the units' notices of the new orders) |",
        f"| 3. upload disk full | {verdict[three['ok']]} | {three['attachments']} attachments; rows without file "
        f"{three['rows_without_file']}, files without row {three['files_without_row']}, events without attachment "
        f"{three['events_without_attachment']}, server errors {three['server_errors']} |",
        "",
        "Disk drill, responses per phase (free space, full, freed again):",
        "",
        "| phase | responses |",
        "|---|---|",
        *[
            f"| {phase} | {', '.join(f'{k}: {v}' for k, v in counts.items())} |"
            for phase, counts in three["phases"].items()
        ],  # fmt: skip
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30, help="length of the intake and upload drills")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("run as root: the drill creates a PostgreSQL cluster and mounts a tmpfs")
    version = pg_version()
    cluster_up(version)
    work = Path(tempfile.mkdtemp(prefix="hotline-drill-"))
    media = work / "media"
    media.mkdir()
    run("mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(media))
    sink = Sink(delay=0.3)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    database_url = f"postgres://postgres@127.0.0.1:{PG_PORT}/{DATABASE}"
    env = {
        **os.environ, "DATABASE_URL": database_url, "HOTLINE_VAR_DIR": str(work), "MEDIA_ROOT": str(media),
        "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(SMTP_PORT), "TASK_WORKER_LOST_AFTER": "5",
        "PORTAL_SENDERS": "portal.receipts.EmailSender",
    }  # fmt: skip
    os.environ.update({k: env[k] for k in ("HOTLINE_VAR_DIR", "MEDIA_ROOT", "EMAIL_HOST", "EMAIL_PORT")})
    product = Product(env, work)
    try:
        ctx = prepare(database_url)
        product.start_all()
        print("» drill 1: worker killed mid-task …", flush=True)
        one = drill_worker_killed(product, sink)
        print(json.dumps(one, ensure_ascii=False), flush=True)
        print("» drill 2: PostgreSQL restarted during intake …", flush=True)
        two = drill_postgres_restart(product, ctx, version, args.seconds, sink)
        print(json.dumps(two, ensure_ascii=False), flush=True)
        print("» drill 3: upload disk full …", flush=True)
        three = drill_disk_full(ctx, media, args.seconds)
        print(json.dumps(three, ensure_ascii=False), flush=True)
        result = {
            "date": datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": machine(),
            "worker_killed": one,
            "postgres_restart": two,
            "disk_full": three,
        }
    finally:
        product.stop_all()
        sink.shutdown()
        from django.db import connections

        connections.close_all()
        subprocess.run(["umount", "-l", str(media)], capture_output=True)
        cluster_down(version)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{NAME}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    text = markdown(result)
    (RESULTS / f"{NAME}.md").write_text(text)
    print(text)
    return 0 if all(result[k]["ok"] for k in ("worker_killed", "postgres_restart", "disk_full")) else 1


if __name__ == "__main__":
    sys.exit(main())
