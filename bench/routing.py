"""Unit recommendation (orders/routing.py) measured on the demo history, and the 多人一诉 lookup's latency.

1. Accuracy: for every order of the demo history that was handled and archived, ask for the top three
   lead units as they would have been recommended when the order came in (history only from orders
   archived before it was received, the order itself excluded), and compare with the unit that finally
   resolved it. Reports top-1 and top-3 accuracy.
2. Latency: ``similar_open_orders`` with 100,000 open orders in the database (bulk-inserted copies of the
   demo messages spread over the districts and the last week), median and p95 over 200 lookups.

Runs on a throw-away SQLite database under a temporary directory (or DATABASE_URL if set):
    .venv/bin/python bench/routing.py [--orders 2000] [--open 100000]
Results: bench/results/routing.json and bench/results/routing.md.
"""

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(var_dir: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
    os.environ["HOTLINE_VAR_DIR"] = var_dir
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def accuracy(count: int) -> dict:
    from django.core.management import call_command

    from nlp.places import extract
    from orders.models import Closure, WorkOrder
    from orders.routing import recommend

    call_command("load_demo", orders=count, verbosity=0, stdout=open(os.devnull, "w"))
    done = WorkOrder.objects.filter(closure=Closure.HANDLED, lead_unit__isnull=False).select_related(
        "category__parent", "lead_unit"
    )
    top1 = top3 = total = 0
    started = time.perf_counter()
    for order in done:
        found = recommend(order.category, extract(order.address, order.title, order.content), exclude_pk=order.pk,
                          before=order.received_at)  # fmt: skip
        units = [c.unit.pk for c in found]
        total += 1
        top1 += bool(units) and units[0] == order.lead_unit_id
        top3 += order.lead_unit_id in units
    elapsed = time.perf_counter() - started
    return {
        "orders": total,
        "top1": top1 / total,
        "top3": top3 / total,
        "ms_per_recommendation": 1000 * elapsed / total,
    }


def lookup_latency(open_count: int) -> dict:
    from django.utils import timezone

    from nlp.places import extract
    from orders.models import State, WorkOrder
    from orders.queries import similar_open_orders

    template = list(WorkOrder.objects.exclude(area=None).select_related("area")[:500])
    now, rng = timezone.now(), random.Random(7)
    fields = [f.name for f in WorkOrder._meta.concrete_fields if f.name not in ("id",)]
    batch, made = [], 0
    started = time.perf_counter()
    while made < open_count:
        src = template[made % len(template)]
        copy = WorkOrder(**{f: getattr(src, f) for f in fields})
        copy.number = f"X{made:013d}"
        copy.idempotency_key = None
        copy.state = State.IN_PROGRESS
        copy.closure = ""
        copy.caller_phone = f"139{made:08d}"
        copy.received_at = now - timedelta(minutes=rng.randrange(7 * 24 * 60))
        batch.append(copy)
        made += 1
        if len(batch) == 5000:
            WorkOrder.objects.bulk_create(batch)
            batch = []
    if batch:
        WorkOrder.objects.bulk_create(batch)
    load_seconds = time.perf_counter() - started
    times = []
    for src in rng.sample(template, min(200, len(template))):
        place = extract(src.address, src.title, src.content)
        unit = place.street or place.district or src.area
        t0 = time.perf_counter()
        similar_open_orders(f"{src.title}{src.content}", unit.path, "13000000000")
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "open_orders": WorkOrder.objects.filter(state=State.IN_PROGRESS).count(),
        "load_seconds": round(load_seconds, 1),
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=2000, help="demo history size")
    parser.add_argument("--open", type=int, default=100_000, help="open orders for the lookup latency")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var_dir:
        setup_django(var_dir)
        from django.db import connection

        acc = accuracy(args.orders)
        lat = lookup_latency(args.open)
        result = {
            "date": time.strftime("%Y-%m-%d"), "machine": machine(), "database": connection.vendor,
            "recommendation": acc, "similar_lookup": lat,
        }  # fmt: skip
    rows = [
        ("demo orders measured", acc["orders"]),
        ("top-1 accuracy", f"{acc['top1']:.1%}"),
        ("top-3 accuracy", f"{acc['top3']:.1%}"),
        ("ms per recommendation", f"{acc['ms_per_recommendation']:.1f}"),
        ("open orders (多人一诉 lookup)", lat["open_orders"]),
        ("lookup median ms", lat["median_ms"]),
        ("lookup p95 ms", lat["p95_ms"]),
    ]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    head = f"# Routing and duplicate lookup\n\n{result['date']}, {result['machine']}, {result['database']}\n\n"
    md = f"{head}| measure | value |\n|---|---|\n{table}\n"
    print(md)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "routing.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    (out / "routing.md").write_text(md)


if __name__ == "__main__":
    main()
