"""Load benchmark: operators taking orders in, a utility signing and replying, citizens following their requests,
all at once over real HTTP against gunicorn and PostgreSQL on this machine.

What it does
    1. Creates (or reuses) the database ``hotline_load_bench``, migrates it and loads the demo city (no orders).
    2. Starts gunicorn (``--workers``, ``--threads``) on 127.0.0.1:8765 with that database.
    3. Runs ``--users`` simulated users for ``--seconds`` seconds, each in its own thread, without think time:
       - 话务员 (half of them): ``POST /api/orders`` in a 直派 category, so each order goes straight to the power
         company, as from a real operator's token;
       - 供电公司 (a quarter): ``GET /api/orders?state=pending_sign``, then sign and reply to one of them
         (a 409 when another user took the same order first is the rule working, and counted apart);
       - 市民 (a quarter): ``GET /open311/v2/requests/{number}.json`` for an order taken in earlier.
    4. Prints p50/p95/p99 per kind of request, throughput, orders created per second and errors, and keeps them in
       ``bench/results/load.json`` and ``load.md``.
The load generator runs on the same two cores as the server and the database, so the figures are what this one
machine does with everything on it.

Usage (from the repository root)
    .venv/bin/python bench/load.py [--users 50] [--seconds 60] [--workers 3] [--threads 4]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from warnings_recompute import machine, setup_django  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
DATABASE = "hotline_load_bench"
PORT = 8765
TARGET_ORDERS_PER_S, TARGET_P95_S = 200, 0.3


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    return parser.parse_args(argv)


def prepare() -> dict:
    """The database with the demo city, two API tokens and a 直派 leaf category."""
    setup_django(DATABASE)
    from accounts.models import User
    from accounts.tokens import create_token
    from categories.models import Category
    from demo.loader import demo_loaded, load_demo
    from orders.models import DirectDispatchRule

    if not demo_loaded():
        load_demo()
    rule = DirectDispatchRule.objects.filter(is_active=True, unit__code__icontains="POWER").first()
    rule = rule or DirectDispatchRule.objects.filter(is_active=True).first()
    # the rule may name a level-2 category: take an active leaf at or below it
    leaf = Category.objects.active().leaves().filter(full_name__startswith=rule.category.full_name).first()
    handler = User.objects.filter(unit=rule.unit, is_active=True).first()
    return {
        "operator": create_token(User.objects.get(username="operator"), "load")[1],
        "unit": create_token(handler, "load")[1],
        "category": leaf.pk,
        "unit_name": rule.unit.name,
    }


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.codes: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.numbers: list[str] = []

    def add(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.times[kind].append(seconds)
            self.codes[kind][status] += 1


def request(conn: http.client.HTTPConnection, method: str, path: str, token: str | None = None, body=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.perf_counter()
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    return time.perf_counter() - started, response.status, data


def user(role: str, ctx: dict, stats: Stats, stop: float, seed: int) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    n = 0
    while time.monotonic() < stop:
        n += 1
        try:
            if role == "operator":
                body = {"channel": "phone", "caller_phone": f"139{rng.randrange(10**8):08d}", "request_type": "help",
                        "category": ctx["category"], "title": "小区停电", "content": f"小区第{n}栋停电，请尽快处理。",
                        "address": "A7县人民路88号"}  # fmt: skip
                took, status, data = request(conn, "POST", "/api/orders", ctx["operator"], body)
                stats.add("受理 POST /api/orders", took, status)
                if status == 201:
                    with stats.lock:
                        stats.numbers.append(json.loads(data)["number"])
            elif role == "unit":
                took, status, data = request(conn, "GET", "/api/orders?state=pending_sign&limit=20", ctx["unit"])
                stats.add("承办 GET /api/orders", took, status)
                items = json.loads(data).get("items", []) if status == 200 else []
                if items:
                    number = rng.choice(items)["number"]
                    took, status, data = request(conn, "POST", f"/api/orders/{number}/sign", ctx["unit"], {})
                    stats.add("签收 POST …/sign", took, status)
                    if status == 200:
                        reply = {"result": "resolved", "content": "已恢复供电。", "measures": "更换熔断器"}
                        took, status, _ = request(conn, "POST", f"/api/orders/{number}/reply", ctx["unit"], reply)
                        stats.add("办结 POST …/reply", took, status)
            else:
                with stats.lock:
                    number = rng.choice(stats.numbers) if stats.numbers else None
                if number is None:
                    time.sleep(0.05)
                    continue
                took, status, _ = request(conn, "GET", f"/open311/v2/requests/{number}.json")
                stats.add("市民查询 GET /open311/…/requests/{id}.json", took, status)
        except (OSError, http.client.HTTPException):
            stats.add("connection error", 0.0, 0)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def main(argv=None) -> int:
    args = parse_args(argv)
    ctx = prepare()
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}"}
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn from the virtualenv
        [str(ROOT / ".venv/bin/gunicorn"), "hotline.wsgi", "--bind", f"127.0.0.1:{PORT}", "--workers",
         str(args.workers), "--threads", str(args.threads), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=2).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(1)
        stats = Stats()
        roles = ["operator"] * (args.users // 2) + ["unit"] * (args.users // 4)
        roles += ["citizen"] * (args.users - len(roles))
        stop = time.monotonic() + args.seconds
        started = time.monotonic()
        threads = [threading.Thread(target=user, args=(r, ctx, stats, stop, i)) for i, r in enumerate(roles)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    rows = []
    for kind, times in sorted(stats.times.items()):
        codes = dict(sorted(stats.codes[kind].items()))
        rows.append({"kind": kind, "n": len(times), "per_s": round(len(times) / elapsed, 1),
                     "p50_s": round(percentile(times, 50), 3), "p95_s": round(percentile(times, 95), 3),
                     "p99_s": round(percentile(times, 99), 3), "codes": codes})  # fmt: skip
    all_times = [t for times in stats.times.values() for t in times]
    created = stats.codes["受理 POST /api/orders"].get(201, 0)
    errors = sum(n for codes in stats.codes.values() for code, n in codes.items() if code == 0 or code >= 500)
    summary = {
        "requests_per_s": round(len(all_times) / elapsed, 1),
        "orders_per_s": round(created / elapsed, 1),
        "p50_s": round(percentile(all_times, 50), 3),
        "p95_s": round(percentile(all_times, 95), 3),
        "p99_s": round(percentile(all_times, 99), 3),
        "server_errors": errors,
    }
    run = {"date": datetime.now(UTC).astimezone().isoformat(timespec="seconds"), "machine": machine(),
           "users": args.users, "seconds": round(elapsed, 1), "gunicorn": {"workers": args.workers,
           "threads": args.threads}, "utility": ctx["unit_name"], "summary": summary, "requests": rows}  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(run, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    met = summary["orders_per_s"] >= TARGET_ORDERS_PER_S and summary["p95_s"] < TARGET_P95_S
    lines = [
        "# Load: operators, a utility and citizens at once (bench/load.py)", "",
        f"{run['date']} · {run['machine']['cpu']}, {run['machine']['cores']} cores · gunicorn {args.workers} workers "
        f"× {args.threads} threads · PostgreSQL on the same machine · {args.users} users for {run['seconds']} s, "
        "no think time; the load generator shares the two cores", "",
        f"**{summary['orders_per_s']} orders/s, {summary['requests_per_s']} requests/s, p50 {summary['p50_s']} s, "
        f"p95 {summary['p95_s']} s, p99 {summary['p99_s']} s, {errors} server or connection errors** — target "
        f"{TARGET_ORDERS_PER_S} orders/s with p95 under {TARGET_P95_S} s: {'met' if met else 'not met'}", "",
        "| request | n | per s | p50 s | p95 s | p99 s | answers |", "|---|--:|--:|--:|--:|--:|---|",
    ]  # fmt: skip
    for r in rows:
        answers = ", ".join(f"{code}: {n}" for code, n in r["codes"].items())
        lines.append(
            f"| {r['kind']} | {r['n']} | {r['per_s']} | {r['p50_s']} | {r['p95_s']} | {r['p99_s']} | {answers} |"
        )
    (RESULTS / "load.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
