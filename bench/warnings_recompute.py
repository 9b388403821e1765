"""Benchmark of 赋色预警: how long ``supervision.warnings.recompute(now)`` takes over N open orders on PostgreSQL.

What it measures
    The wall-clock time of ``recompute(now)`` (one call = the fixed set of UPDATE statements over the orders that
    are due: never coloured since their last change, or at one of their colour edges), the rows due, the rows
    whose colour changed and the number of SQL queries. All warnings are first reset to green (0) and every order
    made due with one UPDATE, as after an upgrade; then ``recompute`` runs once over all of them ("first") and
    the table is vacuumed and analysed, as autovacuum does after such a change (else the index still holds the
    million old entries and the planner still believes every order due);
    ``--runs`` times at the scheduler's pace (``--step-minutes``, 1 by default, like the worker), and twice more
    as a worker that was stopped for an hour and then for a day catches up.

The data
    N work orders in the open states (待签收, 办理中, ~10 % 待回访, some 待派发) with timestamps spread over the
    20 days before a reference time, ~10 % tagged 急难愁盼 (``jinan``, which has its own warning rule). They are
    written with PostgreSQL ``COPY`` (psycopg 3) into a dedicated database, ``hotline_bench`` by default, and
    reused by later runs unless ``--fresh`` is given. The reference time is the generation time, kept as the
    orders' ``created_at``, so reused data gives the same colours on every run.

Usage (from the repository root)
    .venv/bin/python bench/warnings_recompute.py [--orders 1000000] [--database hotline_bench] [--fresh]
        [--runs 10] [--step-minutes 1] [--explain]

Results are printed and saved to ``bench/results/warnings_recompute.json`` and ``.md`` (``--name`` changes the
file name, e.g. for a variant of the schema); ``--explain`` also writes ``EXPLAIN (ANALYZE, BUFFERS)`` of every
statement of the last run (repeated) and of the first run to ``<name>_explain.txt``, each inside a
transaction that is rolled back; it leaves every warning at 0.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
TARGET_SECONDS = 5.0
MASTER: list[list[int]] = []  # unit, category and request type ids, read before the COPY starts
DAY = 86400.0
HOUR = 3600.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="number of open orders (default 1000000)")
    parser.add_argument("--database", default="hotline_bench", help="PostgreSQL database (default hotline_bench)")
    parser.add_argument("--fresh", action="store_true", help="truncate the orders tables and generate again")
    parser.add_argument("--runs", type=int, default=10, help="runs at the scheduler's pace (default 10)")
    parser.add_argument("--step-minutes", type=float, default=1.0, help="clock advance between runs (default 1)")
    parser.add_argument("--seed", type=int, default=12345, help="random seed of the generated data")
    parser.add_argument("--explain", action="store_true", help="also EXPLAIN ANALYZE the last and the first run")
    parser.add_argument("--name", default="warnings_recompute", help="results file name (default warnings_recompute)")
    parser.add_argument(
        "--allow-any-database",
        action="store_true",
        help="allow a database whose name does not contain 'bench' (the script rewrites every order's warning)",
    )
    return parser.parse_args(argv)


def setup_django(database: str) -> None:
    """Point Django at ``database`` on the local PostgreSQL, create it if missing, set up Django and migrate."""
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from scripts.ensure_database import main as ensure_database

    if ensure_database() != 0:
        raise SystemExit(f"cannot create or reach database {database}")

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def load_master_data() -> None:
    """Units, categories and demo users (quick, and skipped once loaded)."""
    from demo.loader import demo_loaded, load_demo

    if not demo_loaded():
        load_demo()


# --------------------------------------------------------------------------------------------- data generation


def not_null_columns(table: str) -> set[str]:
    """Columns PostgreSQL itself requires: NOT NULL, no DB default, not an identity column."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT column_name FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name = %s AND is_nullable = 'NO'
                 AND column_default IS NULL AND is_identity = 'NO'""",
            [table],
        )
        return {row[0] for row in cursor.fetchall()}


def master_ids() -> tuple[list[int], list[int], list[int]]:
    """Primary keys of the handling units (not the city or the 12345 centre), leaf categories and request types."""
    from categories.models import Category, RequestType
    from org.models import Unit

    units = list(Unit.objects.exclude(kind__in=["city", "center"]).values_list("pk", flat=True))
    categories = list(Category.objects.filter(level=3).values_list("pk", flat=True))
    request_types = list(RequestType.objects.values_list("pk", flat=True))
    if not (units and categories and request_types):
        raise SystemExit("master data missing: units, level-3 categories and request types are needed")
    return units, categories, request_types


def order_rows(
    first_id: int, count: int, base: datetime, columns: list[str], template: list[Any], seed: int
) -> Iterator[tuple[list[Any], bool]]:
    """(row, tagged) for ``count`` open orders numbered from ``first_id``; the row follows ``columns``.

    Runs no query (it is consumed while a COPY holds the connection).
    """
    from orders.models import Priority, ReplyResult, State

    rng = random.Random(seed + first_id)  # noqa: S311 - benchmark data, not security
    units, categories, request_types = MASTER

    at = {name: columns.index(name) for name in columns}
    now_ts = base.timestamp()
    utc = UTC

    def ts(value: float) -> datetime:
        return datetime.fromtimestamp(value, utc)

    for order_id in range(first_id, first_id + count):
        row = template.copy()
        received = now_ts - rng.random() * 20 * DAY
        r = rng.random()
        state = (
            State.PENDING_DISPATCH
            if r < 0.05
            else State.PENDING_CALLBACK
            if r < 0.15
            else State.PENDING_SIGN
            if r < 0.45
            else State.IN_PROGRESS
        )
        row[at["id"]] = order_id
        row[at["number"]] = f"B{order_id:013d}"
        row[at["caller_phone"]] = f"138{order_id % 100_000_000:08d}"
        row[at["title"]] = f"压测工单 {order_id}"
        row[at["content"]] = f"压测诉求内容 {order_id}"
        row[at["request_type_id"]] = request_types[order_id % len(request_types)]
        row[at["category_id"]] = categories[rng.randrange(len(categories))]
        row[at["priority"]] = Priority.NORMAL.value
        row[at["state"]] = state.value
        row[at["received_at"]] = ts(received)
        if state != State.PENDING_DISPATCH:
            dispatched = min(received + rng.uniform(300, 4 * HOUR), now_ts)
            row[at["lead_unit_id"]] = units[rng.randrange(len(units))]
            row[at["dispatched_at"]] = ts(dispatched)
            row[at["sign_due_at"]] = ts(dispatched + DAY)
            row[at["limit_started_at"]] = ts(dispatched)
            row[at["due_at"]] = ts(dispatched + rng.randint(1, 10) * DAY)
            if state != State.PENDING_SIGN:
                signed = min(dispatched + rng.uniform(600, 30 * HOUR), now_ts)
                row[at["signed_at"]] = ts(signed)
            if state == State.PENDING_CALLBACK:
                replied = signed + (now_ts - signed) * rng.random()
                row[at["replied_at"]] = ts(replied)
                row[at["callback_due_at"]] = ts(replied + rng.randint(1, 5) * DAY)
                row[at["reply_result"]] = ReplyResult.RESOLVED.value
                row[at["reply_content"]] = "已处理"
        yield row, rng.random() < 0.10


def generate(count: int, base: datetime, seed: int) -> dict[str, Any]:
    """COPY ``count`` more open orders (and their ``jinan`` tags) into the tables, then ANALYZE."""
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Max

    from orders.models import Channel, Tag, WorkOrder

    table = WorkOrder._meta.db_table
    fields = WorkOrder._meta.concrete_fields
    columns = [f.column for f in fields]
    explicit: dict[str, Any] = {
        "channel": Channel.PHONE.value,
        "warning": 0,
        "warned": 0,
        "version": 0,
        "return_count": 0,
        "reopen_count": 0,
        "extension_count": 0,
        "is_enterprise": False,
        "closure": "",
        "created_at": base,
        "updated_at": base,
    }
    # Everything not set explicitly or per row gets the model default at the DB level ('' for blank text, else None).
    template = [
        explicit[f.column] if f.column in explicit else f.get_db_prep_save(f.get_default(), connection) for f in fields
    ]
    per_row = {"id", "number", "caller_phone", "title", "content", "request_type_id", "category_id", "priority"}
    per_row |= {"state", "received_at"}  # always set by order_rows()
    given = {c for c, value in zip(columns, template, strict=True) if value is not None} | per_row
    missing = sorted(not_null_columns(table) - given)
    if missing:
        raise SystemExit(f"{table}: NOT NULL columns without a value in the generator: {', '.join(missing)}")

    through = WorkOrder.tags.through
    tags_field = WorkOrder._meta.get_field("tags")
    tag_columns = (tags_field.m2m_column_name(), tags_field.m2m_reverse_name())
    jinan = Tag.objects.get(code="jinan").pk
    first_id = (WorkOrder.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    MASTER[:] = master_ids()

    id_at = columns.index("id")
    started = time.perf_counter()
    tagged: list[int] = []
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.copy(f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN") as copy:
            for row, tag in order_rows(first_id, count, base, columns, template, seed):
                copy.write_row(row)
                if tag:
                    tagged.append(row[id_at])
        copied = time.perf_counter()
        quoted = ", ".join(connection.ops.quote_name(c) for c in tag_columns)
        with cursor.copy(f"COPY {connection.ops.quote_name(through._meta.db_table)} ({quoted}) FROM STDIN") as copy:
            for order_id in tagged:
                copy.write_row((order_id, jinan))
        for sql in connection.ops.sequence_reset_sql(no_style(), [WorkOrder, through]):
            cursor.execute(sql)
    committed = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        cursor.execute(f"ANALYZE {connection.ops.quote_name(through._meta.db_table)}")
    analyzed = time.perf_counter()
    return {
        "orders": count,
        "tagged": len(tagged),
        "copy_orders_s": round(copied - started, 2),
        "copy_tags_and_commit_s": round(committed - copied, 2),
        "analyze_s": round(analyzed - committed, 2),
        "total_s": round(analyzed - started, 2),
    }


def prepare_data(wanted: int, fresh: bool, seed: int) -> tuple[datetime, dict[str, Any] | None]:
    """Make sure at least ``wanted`` orders exist; returns the reference time and the generation timings."""
    from django.db import connection
    from django.db.models import Max

    from orders.models import WorkOrder

    if fresh:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {connection.ops.quote_name(WorkOrder._meta.db_table)} RESTART IDENTITY CASCADE")
    existing = WorkOrder.objects.count()
    base = WorkOrder.objects.aggregate(m=Max("created_at"))["m"] or datetime.now(UTC).replace(microsecond=0)
    if existing >= wanted:
        print(f"» reusing {existing} existing orders (reference time {base:%Y-%m-%d %H:%M:%S%z})")
        return base, None
    print(f"» generating {wanted - existing} orders with COPY …", flush=True)
    info = generate(wanted - existing, base, seed)
    print(f"» generated in {info['total_s']} s ({info})")
    return base, info


# ------------------------------------------------------------------------------------------------- measurement


def reset_warnings() -> float:
    """All warnings back to green and every order due, in one UPDATE, then VACUUM ANALYZE so every run starts from
    the same table."""
    from django.db import connection

    from orders.models import WorkOrder

    started = time.perf_counter()
    WorkOrder.objects.update(warning=0, warning_due=None)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(WorkOrder._meta.db_table)}")
        try:
            cursor.execute("CHECKPOINT")  # so no checkpoint of the reset's writes lands inside the timed run
        except Exception as exc:  # noqa: BLE001 - needs superuser or pg_checkpoint; the benchmark works without
            print(f"  (CHECKPOINT skipped: {exc})")
    return time.perf_counter() - started


def short_sql(sql: str, width: int = 150) -> str:
    sql = re.sub(r'"orders_workorder"\.', "", re.sub(r"\s+", " ", sql))
    return sql if len(sql) <= width else sql[: width - 1] + "…"


def schedule(runs: int, step: timedelta) -> list[tuple[str, timedelta]]:
    """The runs: the first after every order was made due (as after an upgrade), ``runs`` at the scheduler's pace,
    then a worker that was stopped for an hour, and for a day, catching up."""
    plan = [("first: every order due", timedelta(0))]
    plan += [(f"every {step.total_seconds() / 60:g} min, {i}", step * i) for i in range(1, runs + 1)]
    last = step * runs
    plan += [
        ("after 1 h stopped", last + timedelta(hours=1)),
        ("after 1 day stopped", last + timedelta(days=1, hours=1)),
    ]
    return plan


def measure(base: datetime, runs: int, step: timedelta) -> list[dict[str, Any]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orders.models import WorkOrder
    from supervision.warnings import due, recompute

    orders = WorkOrder.objects.count()
    results = []
    for label, offset in schedule(runs, step):
        now = base + offset
        due_rows = WorkOrder.objects.filter(due(now)).count()  # not timed
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            changed = recompute(now)
            seconds = time.perf_counter() - started
        statements = [{"seconds": float(q["time"]), "sql": q["sql"]} for q in ctx.captured_queries]
        results.append(
            {
                "orders": orders,
                "run": label,
                "offset_minutes": offset.total_seconds() / 60,
                "now": now.isoformat(),
                "seconds": round(seconds, 3),
                "rows_due": due_rows,
                "rows_changed": changed,
                "queries": len(ctx.captured_queries),
                "statements": statements,
            }
        )
        print(f"  {label:>22}: {seconds:7.3f} s, {due_rows} due, {changed} changed, {len(statements)} queries")
        if not results[:-1]:
            # What autovacuum does once a fifth of the table changed: the old index entries of the million rows
            # written go, and the planner learns that few orders are due.
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(WorkOrder._meta.db_table)}")
    return results


def colour_counts() -> dict[str, int]:
    from django.db.models import Count

    from orders.models import Warning, WorkOrder

    labels = {None: "none", **{w.value: w.name.lower() for w in Warning}}
    rows = WorkOrder.objects.values("warning").annotate(n=Count("pk")).order_by("warning")
    return {labels.get(r["warning"], str(r["warning"])): r["n"] for r in rows}


def explain_statements(statements: list[str]) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of ``statements`` in order, in one transaction that is rolled back."""
    from django.db import connection, transaction

    out = []

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for number, sql in enumerate(statements, 1):
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                plan = "\n".join(r[0] for r in cursor.fetchall())
                out.append(f"-- statement {number}\n{sql}\n\n{plan}\n")
            raise Rollback
    except Rollback:
        pass
    return "\n".join(out)


def explain_runs(runs: list[dict[str, Any]]) -> str:
    """Plans of the last run's statements again (nothing left to change), then of the first run's statements
    after a fresh reset (every order due). Leaves every warning at 0; the next run resets anyway."""
    warm = explain_statements([s["sql"] for s in runs[-1]["statements"]])
    reset_warnings()
    cold = explain_statements([s["sql"] for s in runs[0]["statements"]])
    return (
        f"=== {runs[-1]['run']} run repeated (nothing due any more)\n\n{warm}\n"
        f"=== first run (after resetting every warning to 0 and making every order due)\n\n{cold}"
    )


# ----------------------------------------------------------------------------------------------------- machine


def machine() -> dict[str, Any]:
    from django.db import connection

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    ram_gb = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"^MemTotal:\s*(\d+) kB", meminfo.read_text(), re.MULTILINE)
        ram_gb = round(int(match.group(1)) / 1024 / 1024, 1) if match else None
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0]
        settings = {}
        for name in ("shared_buffers", "work_mem", "max_wal_size", "synchronous_commit"):
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": ram_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": version,
        "postgresql_settings": settings,
    }


# ----------------------------------------------------------------------------------------------------- report


def table(runs: list[dict[str, Any]], step_minutes: float) -> str:
    lines = [
        "| orders | run | clock | seconds | rows due | rows changed | queries |",
        "|-------:|-----|------:|--------:|---------:|-------------:|--------:|",
    ]
    for r in runs:
        lines.append(
            f"| {r['orders']} | {r['run']} | +{r['offset_minutes']:g} min | {r['seconds']:.3f} "
            f"| {r['rows_due']} | {r['rows_changed']} | {r['queries']} |"
        )
    return "\n".join(lines)


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    cold = result["runs"][0]
    slowest = sorted(cold["statements"], key=lambda s: -s["seconds"])[:5]
    paced = [r for r in result["runs"] if r["run"].startswith("every")]
    parts = [
        "# supervision.warnings.recompute — PostgreSQL benchmark",
        "",
        f"Date: {result['date']}  ",
        f"Database: `{result['database']}`, reference time {result['reference_time']}  ",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, {m['os']}  ",
        f"PostgreSQL: {m['postgresql']}  ",
        f"Settings: {', '.join(f'{k}={v}' for k, v in m['postgresql_settings'].items())}",
        "",
        table(result["runs"], result["step_minutes"]),
        "",
        f"Target: under {TARGET_SECONDS:g} s per recompute at the worker's pace (every minute) — "
        + ("met." if all(r["seconds"] < TARGET_SECONDS for r in paced) else "**not met**.")
        + f" The first run, which colours every order once after the upgrade, took {result['runs'][0]['seconds']} s;"
        + " a stopped worker catches up in "
        + ", ".join(f"{r['seconds']} s ({r['run']})" for r in result["runs"] if r["run"].startswith("after"))
        + ".",
        "",
        f"Colours after the runs: {', '.join(f'{k} {v}' for k, v in result['colours'].items())}",
        "",
    ]
    if result.get("generation"):
        g = result["generation"]
        parts += [f"Generation: {g['orders']} orders ({g['tagged']} tagged jinan) in {g['total_s']} s.", ""]
    parts += ["Slowest statements of the first run:", ""]
    parts += [f"- {s['seconds']:.3f} s — `{short_sql(s['sql'], 220)}`" for s in slowest]
    parts.append("")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if "bench" not in args.database and not args.allow_any_database:
        raise SystemExit("the database name should contain 'bench' (or pass --allow-any-database)")
    if args.orders <= 0:
        raise SystemExit("--orders must be positive")
    setup_django(args.database)
    load_master_data()
    base, generation = prepare_data(args.orders, args.fresh, args.seed)

    print("» resetting all warnings to 0 …", flush=True)
    reset_s = reset_warnings()
    print(f"  reset + VACUUM ANALYZE in {reset_s:.1f} s")
    print("» timing recompute(now) …", flush=True)
    step = timedelta(minutes=args.step_minutes)
    runs = measure(base, args.runs, step)

    result = {
        "date": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        "database": args.database,
        "reference_time": base.isoformat(),
        "step_minutes": args.step_minutes,
        "target_seconds": TARGET_SECONDS,
        "machine": machine(),
        "generation": generation,
        "colours": colour_counts(),
        "runs": runs,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.explain:
        print("» EXPLAIN ANALYZE of the last and the first run (rolled back) …", flush=True)
        explain_path = RESULTS / f"{args.name}_explain.txt"
        explain_path.write_text(explain_runs(runs), encoding="utf-8")
        result["explain_file"] = str(explain_path.relative_to(ROOT))
    (RESULTS / f"{args.name}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (RESULTS / f"{args.name}.md").write_text(markdown(result), encoding="utf-8")

    m = result["machine"]
    print()
    print(f"{m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; {m['postgresql'].split(' on ')[0]}")
    print(table(runs, args.step_minutes))
    print(f"\nresults: {RESULTS / (args.name + '.json')}, {RESULTS / (args.name + '.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
