"""./run on an empty var/ directory: sets up, loads the demo, serves over real HTTP, and stops on Ctrl-C."""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from demo.loader import DEMO_PASSWORD, DEMO_USERS

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(opener, url: str, data: dict | None = None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Referer": url})
    with opener.open(request, timeout=10) as response:
        return response.status, response.read().decode()


def _wait_until(predicate, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if predicate():
                return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"not ready after {timeout}s")


def _database_url() -> str | None:
    """The same engine as the suite: a throw-away PostgreSQL database, or SQLite under the temporary var/."""
    if connection.vendor != "postgresql":
        return None
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname="postgres", autocommit=True
    ) as conn:
        conn.execute("DROP DATABASE IF EXISTS hotline_run_check WITH (FORCE)")
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/hotline_run_check"


def _start(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [str(ROOT / "run")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen) -> str:
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
    output, _ = proc.communicate(timeout=60)
    return output


def test_run_starts_web_and_worker_and_every_demo_login_works(tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    # a smaller demo history than the default 2,000 keeps the suite quick; the path is the same
    env.update(HOTLINE_VAR_DIR=str(tmp_path / "var"), PORT=str(port), DEMO_ORDERS="300")
    if url := _database_url():
        env["DATABASE_URL"] = url

    proc = _start(env)
    try:
        _wait_until(lambda: _get(urllib.request.build_opener(), f"{base}/login/")[0] == 200, 240)
        # The scheduler enqueues a heartbeat and the worker runs it: health turns ok.
        _wait_until(lambda: '"status": "ok"' in _get(urllib.request.build_opener(), f"{base}/healthz")[1], 60)
        for username, *_ in DEMO_USERS:
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
            _, html = _get(opener, f"{base}/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
            status, home = _get(
                opener,
                f"{base}/login/",
                {"csrfmiddlewaretoken": token, "username": username, "password": DEMO_PASSWORD},
            )
            assert status == 200 and "退出" in home, username
            if username == "dispatcher":
                assert "共 300 张" in _get(opener, f"{base}/orders/")[1]
    finally:
        output = _stop(proc)
    assert "operator" in output and DEMO_PASSWORD in output  # the demo logins are printed
    assert "演示工单：+300" in output
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)  # Ctrl-C stopped the web server too

    # A second start reuses everything: no demo reload (how fast it serves depends on the machine's load).
    proc = _start(env)
    try:
        _wait_until(lambda: _get(urllib.request.build_opener(), f"{base}/login/")[0] == 200, 60)
    finally:
        output = _stop(proc)
    assert "演示数据已存在" in output and "演示工单：+" not in output
