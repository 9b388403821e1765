"""监测预警 (alerts/trends.py) replayed hour by hour over the demo history with injected bursts and slow rises.

1. A throw-away SQLite database under a temporary directory (or DATABASE_URL, whose name must contain "bench"
   and which must hold no work order yet) with the demo city and its 90 days of orders (``load_demo``).
2. Injected, seeded, each on its own level-2 category (no two injections share one, so each alert is
   explained by at most one of them):
   - K bursts: 8–20 extra orders of one leaf category in one district (its streets), all within 2 hours,
     starting at a random minute between 07:00 and 22:00 of a random day of the replay period;
   - K slow rises: over 14 days, extra orders of one leaf category, in one district or (every other one) spread
     over the whole city, at a rate rising linearly from 0.5 to 4 a day (about 30 orders).
   Injected orders are archived 2–6 days after they came in, like most demo orders.
3. Replay: for every whole hour of the last N days, the alerts none of whose orders was still open at that
   hour are closed (the job's self-closing, judged on ``archived_at`` because the replay sees today's states),
   then ``alerts.trends.raise_alerts(hour)`` runs — the job itself, writing alerts and notifications.
4. Measures: a burst is detected when an alert raised or updated at an hour in (start, start + 2 h] holds at
   least half of the burst's orders received so far; a rise when one does, between its start and its end, for the
   rise's orders of the 7 days before that hour. A false alert is an alert created during the replay none of
   whose orders was injected. Also the time of each hourly run.
The replay runs twice: on the demo as it is (about 22 orders a day), then with ``--background`` times as many
orders again drawn from the demo (see ``add_background``), a busier city.

    .venv/bin/python bench/trends.py [--days 28] [--bursts 20] [--rises 10] [--background 4] [--seed 7]
        [--demo-cache FILE]
``--demo-cache FILE`` (SQLite only) keeps a copy of the database right after ``load_demo`` and starts from it next
time, which saves the demo's replay (about 1.5 minutes of CPU).
Results: bench/results/trends.json and bench/results/trends.md.
"""

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "results"


def setup_django(var_dir: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
    os.environ["HOTLINE_VAR_DIR"] = var_dir
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "sqlite" and "bench" not in connection.settings_dict["NAME"]:
        sys.exit("DATABASE_URL must name a database whose name contains “bench”: this script writes test data")
    call_command("migrate", verbosity=0)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


@dataclass
class Injection:
    kind: str  # burst | rise
    category: str
    place: str
    start: datetime
    end: datetime
    order_ids: set[int] = field(default_factory=set)
    detected_at: datetime | None = None
    alert_kind: str = ""


def load_demo(cache: Path | None) -> float:
    """The demo city and its history; 0 when the database came from the cache with them."""
    import sqlite3

    from django.core.management import call_command
    from django.db import connection

    from orders.models import WorkOrder

    if WorkOrder.objects.exists():
        if cache and cache.exists():
            return 0.0
        sys.exit("the database already holds work orders: use a fresh one")
    started = time.perf_counter()
    call_command("load_demo", orders=2000, cases=0, verbosity=0, stdout=open(os.devnull, "w"))
    seconds = time.perf_counter() - started
    if cache and connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(cache)
        connection.connection.backup(target)
        target.close()
    return seconds


def _copy(src, number: str, received_at: datetime, archived_at: datetime | None, **changes):
    from orders.models import WorkOrder

    skip = {"id", "number", "idempotency_key", "received_at", "archived_at", "parent"}
    fields = {f.attname: getattr(src, f.attname) for f in WorkOrder._meta.concrete_fields if f.name not in skip}
    order = WorkOrder(**fields)
    order.number, order.received_at, order.archived_at = number, received_at, archived_at
    for name, value in changes.items():
        setattr(order, name, value)
    return order


def inject(days: int, bursts: int, rises: int, rng: random.Random, now: datetime) -> list[Injection]:
    """Bulk-insert the injected orders; returns what was injected where and when."""
    from categories.models import Category
    from orders.models import Closure, State, WorkOrder
    from org.models import Unit, UnitKind

    template = WorkOrder.objects.filter(closure=Closure.HANDLED).first()
    districts = list(Unit.objects.filter(kind=UnitKind.DISTRICT))
    streets = {d.pk: list(Unit.objects.filter(kind=UnitKind.STREET, parent=d)) or [d] for d in districts}
    used = set(WorkOrder.objects.values_list("category_id", flat=True))
    leaves = [c for c in Category.objects.filter(level=3, pk__in=used).select_related("parent__parent")]
    rng.shuffle(leaves)
    taken: set[int] = set()
    chosen = []
    for leaf in leaves:  # one level-2 category per injection
        if leaf.parent_id not in taken:
            taken.add(leaf.parent_id)
            chosen.append(leaf)
    if len(chosen) < bursts + rises:
        sys.exit(f"only {len(chosen)} level-2 categories in the demo: ask for fewer injections")
    first_day = now - timedelta(days=days)
    injections, batch, owners = [], [], []

    def add(injection: Injection, leaf, at: datetime, district) -> None:
        n = len(batch) + 1
        archived = at + timedelta(days=rng.uniform(2, 6))
        street = rng.choice(streets[district.pk])
        batch.append(_copy(
            template, f"J{n:013d}", at, archived, category_id=leaf.pk, area_id=street.pk, lead_unit_id=district.pk,
            state=State.ARCHIVED if archived <= now else State.IN_PROGRESS,
            closure=Closure.HANDLED if archived <= now else "", caller_phone=f"137{n:08d}",
            title=f"{leaf.name}问题（模拟）", is_enterprise=False,
        ))  # fmt: skip
        owners.append(injection)

    for i in range(bursts):
        leaf, district = chosen[i], rng.choice(districts)
        day = first_day + timedelta(days=rng.randrange(1, days - 1))
        start = day.replace(hour=7, minute=0) + timedelta(minutes=rng.randrange(15 * 60))
        injection = Injection("burst", leaf.full_name, district.name, start, start + timedelta(hours=2))
        for _ in range(rng.randint(8, 20)):
            add(injection, leaf, start + timedelta(minutes=rng.uniform(0, 119)), district)
        injections.append(injection)
    for i in range(rises):
        leaf = chosen[bursts + i]
        citywide = i % 2 == 1
        district = rng.choice(districts)
        start = first_day + timedelta(days=rng.uniform(0, days - 15))
        injection = Injection("rise", leaf.full_name, "全市" if citywide else district.name, start,
                              start + timedelta(days=14))  # fmt: skip
        for d in range(14):
            rate = 0.5 + 3.5 * d / 13
            for _ in range(int(rate) + (rng.random() < rate - int(rate))):
                at = start + timedelta(days=d, hours=rng.uniform(0, 24))
                add(injection, leaf, at, rng.choice(districts) if citywide else district)
        injections.append(injection)
    for order, injection in zip(WorkOrder.objects.bulk_create(batch), owners, strict=True):
        injection.order_ids.add(order.pk)
    return injections


def add_background(copies: int, rng: random.Random, now: datetime) -> int:
    """``copies`` times as many orders again, each an independent draw: the category, place, unit and flags of one
    random demo order, a random day of the 90 (weekends kept with probability 0.45, as the demo does) and the time
    of day of another demo order. Same mix and daily rhythm, no new clusters and no day busier than chance."""
    from django.utils import timezone

    from orders.models import WorkOrder

    demo = list(WorkOrder.objects.exclude(number__startswith="J"))
    clock = [timezone.localtime(o.received_at) - timezone.localtime(o.received_at).replace(hour=0, minute=0,
             second=0, microsecond=0) for o in demo]  # fmt: skip
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    batch = []
    while len(batch) < copies * len(demo):
        day = today - timedelta(days=rng.randrange(90))
        if day.weekday() >= 5 and rng.random() < 0.55:
            continue
        at = day + rng.choice(clock)
        if at >= now - timedelta(minutes=5):
            continue
        src, n = rng.choice(demo), len(batch) + 1
        archived = at + (src.archived_at - src.received_at) if src.archived_at else None
        batch.append(_copy(src, f"B{n:013d}", at, archived, caller_phone=f"136{n:08d}"))
    WorkOrder.objects.bulk_create(batch, batch_size=2000)
    return len(batch)


def close_at(hour: datetime) -> int:
    """The job's self-closing as it would have been at ``hour``: no order of the alert still open then."""
    from django.db.models import Exists, OuterRef, Q

    from alerts.models import Status, TrendAlert
    from alerts.trends import ALERT_ORDERS

    open_then = ALERT_ORDERS.objects.filter(trendalert_id=OuterRef("pk")).filter(
        Q(workorder__archived_at__isnull=True) | Q(workorder__archived_at__gt=hour)
    )
    return (
        TrendAlert.objects.exclude(status=Status.CLOSED)
        .filter(~Exists(open_then))
        .update(status=Status.CLOSED, closed_at=hour, closed_reason="回放：相关工单均已归档")
    )


def replay(days: int, injections: list[Injection], now: datetime) -> dict:
    from alerts import trends
    from alerts.models import TrendAlert
    from notifications.models import Notification
    from orders.models import WorkOrder

    TrendAlert.objects.all().delete()
    Notification.objects.all().delete()
    for injection in injections:
        injection.detected_at, injection.alert_kind = None, ""
    injected = set().union(*(j.order_ids for j in injections))
    received = dict(WorkOrder.objects.filter(pk__in=injected).values_list("pk", "received_at"))
    hour = (now - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    seconds, created = [], []
    while hour <= now:
        close_at(hour)
        started = time.perf_counter()
        done = trends.raise_alerts(hour)
        seconds.append(time.perf_counter() - started)
        created += done["created"]
        touched = done["created"] + done["updated"]
        if touched:
            linked = {a.pk: set(a.orders.values_list("pk", flat=True)) for a in touched}
            for injection in injections:
                if injection.detected_at or not injection.start < hour <= injection.end:
                    continue
                recent = {pk for pk in injection.order_ids if hour - timedelta(days=7) <= received[pk] < hour}
                hit = next((a for a in touched if recent and 2 * len(linked[a.pk] & recent) >= len(recent)), None)
                if hit:
                    injection.detected_at, injection.alert_kind = hour, hit.kind
        hour += timedelta(hours=1)
        if hour.hour == 0:
            print(f"  {hour:%m-%d} alerts so far: {len(created)}", file=sys.stderr, flush=True)
    false = [a for a in created if not set(a.orders.values_list("pk", flat=True)) & injected]
    bursts = [j for j in injections if j.kind == "burst"]
    rises = [j for j in injections if j.kind == "rise"]
    delays = [(j.detected_at - j.start).total_seconds() / 86400 for j in rises if j.detected_at]
    seconds.sort()
    by_kind: dict[str, int] = {}
    for alert in false:
        label = f"{alert.get_kind_display()} · {alert.get_dimension_display()}"
        by_kind[label] = by_kind.get(label, 0) + 1
    return {
        "hours": len(seconds),
        "bursts": len(bursts),
        "bursts_detected": sum(1 for j in bursts if j.detected_at),
        "burst_sizes_missed": sorted(len(j.order_ids) for j in bursts if not j.detected_at),
        "rises": len(rises),
        "rises_detected": sum(1 for j in rises if j.detected_at),
        "rise_days_to_detect_median": round(statistics.median(delays), 1) if delays else None,
        "rise_detected_by": sorted({j.alert_kind for j in rises if j.detected_at}),
        "alerts_created": len(created),
        "false_alerts": len(false),
        "false_alerts_per_day": round(len(false) / days, 2),
        "false_alerts_by_kind": by_kind,
        "false_alert_examples": [f"{a} 实际 {a.observed} 预期 {a.expected:.1f}" for a in false[:5]],
        "run_ms_median": round(1000 * statistics.median(seconds), 1),
        "run_ms_p95": round(1000 * seconds[int(len(seconds) * 0.95) - 1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=28, help="days replayed hour by hour (the demo has 90)")
    parser.add_argument("--bursts", type=int, default=20)
    parser.add_argument("--rises", type=int, default=10)
    parser.add_argument("--background", type=int, default=4, help="extra copies of the demo for the busier run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--demo-cache", help="SQLite file kept after load_demo and reused next time")
    args = parser.parse_args()
    if not 14 < args.days <= 35:
        sys.exit("--days must be between 15 and 35: the baseline needs eight weeks of the 90-day demo before it")
    cache = Path(args.demo_cache).resolve() if args.demo_cache else None
    with tempfile.TemporaryDirectory() as var_dir:
        if cache and cache.exists() and not os.environ.get("DATABASE_URL"):
            shutil.copy(cache, Path(var_dir) / "hotline.sqlite3")
        setup_django(var_dir)
        from django.db import connection
        from django.utils import timezone

        from orders.models import WorkOrder

        load_seconds = load_demo(cache)
        now, rng = timezone.now(), random.Random(args.seed)
        injections = inject(args.days, args.bursts, args.rises, rng, now)
        demo_per_day = WorkOrder.objects.exclude(number__startswith="J").count() / 90
        runs = [{"label": "demo", "orders_per_day": round(demo_per_day, 1), **replay(args.days, injections, now)}]
        added = add_background(args.background, rng, now)
        busier = (WorkOrder.objects.exclude(number__startswith="J").count()) / 90
        runs.append({"label": f"demo ×{args.background + 1}", "orders_per_day": round(busier, 1),
                     **replay(args.days, injections, now)})  # fmt: skip
        result = {
            "date": time.strftime("%Y-%m-%d"), "machine": machine(), "database": connection.vendor,
            "days": args.days, "seed": args.seed, "demo_load_seconds": round(load_seconds, 1),
            "background_orders": added, "injections": [
                {"kind": j.kind, "category": j.category, "place": j.place, "start": j.start.isoformat(),
                 "orders": len(j.order_ids), "detected_at": j.detected_at.isoformat() if j.detected_at else None,
                 "alert_kind": j.alert_kind} for j in injections
            ], "runs": runs,
        }  # fmt: skip
    rows = [
        ("orders a day (history)", *(r["orders_per_day"] for r in runs)),
        ("hours replayed", *(r["hours"] for r in runs)),
        ("bursts detected within 2 h", *(f"{r['bursts_detected']}/{r['bursts']}" for r in runs)),
        ("sizes of the bursts missed", *(", ".join(map(str, r["burst_sizes_missed"])) or "—" for r in runs)),
        ("slow rises detected", *(f"{r['rises_detected']}/{r['rises']}" for r in runs)),
        ("days from a rise's start to its alert (median)", *(r["rise_days_to_detect_median"] for r in runs)),
        ("alerts created", *(r["alerts_created"] for r in runs)),
        ("false alerts", *(r["false_alerts"] for r in runs)),
        ("false alerts per day", *(r["false_alerts_per_day"] for r in runs)),
        ("hourly run, median ms", *(r["run_ms_median"] for r in runs)),
        ("hourly run, p95 ms", *(r["run_ms_p95"] for r in runs)),
    ]
    head = (
        f"# 监测预警: detection on the demo history\n\n{result['date']}, {result['machine']}, {result['database']}; "
        f"last {args.days} days replayed hour by hour, {args.bursts} bursts and {args.rises} slow rises injected "
        f"(seed {args.seed})\n\n"
    )
    table = f"| measure | {' | '.join(r['label'] for r in runs)} |\n|---|{'---|' * len(runs)}\n"
    table += "\n".join("| " + " | ".join(str(c) for c in row) + " |" for row in rows)
    examples = "\n".join(f"- {r['label']}: {e}" for r in runs for e in r["false_alert_examples"])
    md = f"{head}{table}\n\nFalse alerts, first five of each run:\n\n{examples or '- none'}\n"
    print(md)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "trends.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    (OUT / "trends.md").write_text(md)


if __name__ == "__main__":
    main()
