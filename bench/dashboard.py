"""Benchmark of the dashboards: page times over the roll-up with N work orders on PostgreSQL.

What it measures
    1. The dashboard pages (``analytics:overview``, ``analytics:unit``, ``analytics:category`` and the
       ``analytics:orders`` drill-down) rendered by Django's test ``Client`` signed in as the demo leader, for
       periods of 7, 30, 90 and 365 days ending on the reference date and for several units (district and
       street level) and categories (level 1 and 2). Each URL is requested once to warm up, then ``--repeat``
       times in a random order; per URL: p50, p95, max, the number of SQL queries and the slowest statement.
       Statements of the pages over the target are explained (``EXPLAIN (ANALYZE, BUFFERS)``).
    2. The incremental maintenance: K recent orders are touched (replied, called back, or just updated a minute
       before "now") and ``rollup.refresh(now)`` is timed, inside a transaction that is rolled back afterwards,
       so every run starts from the same data.
    3. The full rebuild of the roll-up (facts by batches of order ids, then the cells), whenever the roll-up
       does not match the orders.

The data
    N orders received over the 730 days before a reference time (volume growing by a third over the two years,
    fewer on weekends, mostly during office hours); ids follow the received time within each ``--batch``.
    Categories Zipf-like over the level-3 leaves; the area a street (some only a district, a few none), Zipf-like
    over the streets; the lead unit the area's street (or one of its communities), its district or district
    department, or the category's default unit (utilities for theirs); 70 % phone; skewed request types;
    5 % enterprise. About 20 % are closed directly at intake; the others are dispatched, signed (mostly on time),
    replied (mostly by the deadline); 70 % of the replies are called back (reached 86 %); ~3 % get a return
    request and ~2.5 % an extension request. Orders replied without a callback are archived ten days later; the
    last days' orders are still open. ``created_at`` is the reference time for every order, ``updated_at`` the
    time of its last event.
    Written with ``COPY`` (psycopg 3) into a dedicated database, ``hotline_dash_bench`` by default, one
    transaction per ``--batch`` orders (each batch spread over the two years), and reused by later runs: asking
    for more orders adds the difference, the same way; ``--fresh`` truncates and generates again.

Usage (from the repository root)
    .venv/bin/python bench/dashboard.py [--orders 1000000] [--database hotline_dash_bench] [--fresh]
        [--repeat 20] [--touch 0,1000,10000] [--rebuild] [--generate-only]

Results are printed and saved to ``bench/results/dashboard.json`` and ``.md``, keyed by the number of orders:
a run replaces the entry of its own order count and keeps the others.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import random
import re
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from warnings_recompute import load_master_data, machine, not_null_columns, setup_django  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
NAME = "dashboard"
TARGET_SECONDS = 1.0
DAYS = 730
PERIODS = (7, 30, 90, 365)
DAY = 86400.0
HOUR = 3600.0
MINUTE = 60.0

# Share of the orders received in each local hour of the day.
HOUR_WEIGHTS = (0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.5, 1.5, 4, 7, 8, 7.5, 5, 5, 6.5, 7, 6.5, 5.5, 4, 3.5, 3, 2.5, 1.5, 0.8)
WEEKDAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 0.97, 0.72, 0.62)
CHANNEL_WEIGHTS = {"phone": 70, "app": 12, "web": 8, "api": 4, "mailbox": 3, "email": 2, "weibo": 1}
REQUEST_TYPE_WEIGHTS = {"consult": 35, "help": 25, "complaint": 24, "suggestion": 7, "report": 4, "praise": 2}
OTHER_REQUEST_TYPE_WEIGHT = 3
REPLY_RESULTS = (("resolved", 62), ("explained", 18), ("partly", 12), ("unresolved", 8))
# Satisfaction of a reached callback by the reply's result: (satisfied, basic) shares, the rest unsatisfied.
SATISFACTION = {"resolved": (0.78, 0.18), "explained": (0.55, 0.30), "partly": (0.35, 0.40), "unresolved": (0.15, 0.30)}
DUE_DAYS = ((5, 40), (7, 30), (10, 20), (15, 10))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="number of work orders (default 1000000)")
    parser.add_argument(
        "--database", default="hotline_dash_bench", help="PostgreSQL database (default hotline_dash_bench)"
    )
    parser.add_argument("--fresh", action="store_true", help="truncate the orders and the roll-up and generate again")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per URL (default 20)")
    parser.add_argument(
        "--budget", type=float, default=60.0,
        help="stop repeating a URL once its timed requests took this many seconds and it has 5 (default 60)",
    )  # fmt: skip
    parser.add_argument("--touch", default="0,1000,10000", help="orders touched before each timed refresh")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the whole roll-up even when it is up to date")
    parser.add_argument("--generate-only", action="store_true", help="stop after generating the orders")
    parser.add_argument("--jobs", type=int, default=2, help="threads of the roll-up rebuild (default 2)")
    parser.add_argument("--batch", type=int, default=1_000_000, help="orders per COPY transaction (default 1000000)")
    parser.add_argument("--explain-max", type=int, default=8, help="slow statements explained at most (default 8)")
    parser.add_argument("--seed", type=int, default=12345, help="random seed of the generated data and the order")
    parser.add_argument(
        "--allow-any-database",
        action="store_true",
        help="allow a database whose name does not contain 'bench' (the script truncates and rewrites tables)",
    )
    return parser.parse_args(argv)


# --------------------------------------------------------------------------------------------- master data


class Master:
    """Ids of the units, categories, request types and users the generator draws from, with their weights."""

    def __init__(self, seed: int) -> None:
        from accounts.models import User
        from accounts.roles import Role
        from categories.models import Category, RequestType
        from org.models import Unit, UnitKind

        rng = random.Random(seed)  # noqa: S311 - benchmark data, not security
        units = {u.pk: u for u in Unit.objects.all()}
        kind = {pk: u.kind for pk, u in units.items()}
        leaves = list(Category.objects.filter(level=3).select_related("parent__default_unit").order_by("pk"))
        if not leaves:
            raise SystemExit("master data missing: level-3 categories are needed")
        rng.shuffle(leaves)
        self.leaves = [c.pk for c in leaves]
        self.leaf_cum = cumulative(1 / (rank + 1) ** 1.1 for rank in range(len(leaves)))
        self.leaf_default = [
            (c.parent.default_unit_id, kind.get(c.parent.default_unit_id))
            if c.parent.default_unit_id and c.parent.default_unit.is_active
            else (None, None)
            for c in leaves
        ]
        streets = sorted(pk for pk, k in kind.items() if k == UnitKind.STREET)
        rng.shuffle(streets)
        if not streets:
            raise SystemExit("master data missing: street units are needed")
        self.streets = streets
        self.street_cum = cumulative(1 / (rank + 1) ** 0.9 for rank in range(len(streets)))
        self.district_of = {pk: units[pk].parent_id for pk in streets}
        self.communities: dict[int, list[int]] = {}
        self.district_departments: dict[int, list[int]] = {}
        for pk, unit in sorted(units.items()):
            if unit.kind == UnitKind.COMMUNITY and unit.parent_id in self.district_of:
                self.communities.setdefault(unit.parent_id, []).append(pk)
            if unit.kind == UnitKind.DEPARTMENT and kind.get(unit.parent_id) == UnitKind.DISTRICT:
                self.district_departments.setdefault(unit.parent_id, []).append(pk)
        districts = sorted(pk for pk, k in kind.items() if k == UnitKind.DISTRICT)
        self.fallback = districts + sorted(pk for ds in self.district_departments.values() for pk in ds)
        types = dict(RequestType.objects.values_list("code", "pk"))
        self.request_types = sorted(types.values())
        by_pk = {pk: REQUEST_TYPE_WEIGHTS.get(code, OTHER_REQUEST_TYPE_WEIGHT) for code, pk in types.items()}
        self.request_type_cum = cumulative(by_pk[pk] for pk in self.request_types)
        self.channels = list(CHANNEL_WEIGHTS)
        self.channel_cum = cumulative(CHANNEL_WEIGHTS.values())
        self.due_days = [d for d, _ in DUE_DAYS]
        self.due_cum = cumulative(w for _, w in DUE_DAYS)
        self.reply_results = [r for r, _ in REPLY_RESULTS]
        self.reply_cum = cumulative(w for _, w in REPLY_RESULTS)

        def user(role: str) -> int:
            pk = User.objects.filter(role=role, is_active=True).order_by("pk").values_list("pk", flat=True).first()
            if pk is None:
                raise SystemExit(f"master data missing: a demo user with role {role}")
            return pk

        self.agent, self.dispatcher, self.handler = user(Role.CALLBACK), user(Role.DISPATCHER), user(Role.HANDLER)
        self.operator = user(Role.OPERATOR)
        self.leader = user(Role.LEADER)


def cumulative(weights) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return [c / total for c in out]


def pick(rng: random.Random, values: list, cum: list[float]):
    return values[min(bisect.bisect_left(cum, rng.random()), len(values) - 1)]


# --------------------------------------------------------------------------------------------- data generation


def day_plan(total: int, ref: datetime) -> list[tuple[float, float, int]]:
    """(start, end, count) per local day of the DAYS days up to ``ref``, chronological; counts sum to ``total``."""
    from django.utils import timezone

    tz = timezone.get_current_timezone()
    last = ref.astimezone(tz).date()
    days = [last - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    hour_cum = cumulative(HOUR_WEIGHTS)
    ref_local = ref.astimezone(tz)
    hours_done = ref_local.hour + ref_local.minute / 60
    # The reference day counts only the share of its orders received before the reference time.
    whole = int(hours_done)
    today_share = (hour_cum[whole - 1] if whole else 0) + (hours_done - whole) * HOUR_WEIGHTS[whole] / sum(HOUR_WEIGHTS)
    weights = []
    for i, day in enumerate(days):
        w = (0.85 + 0.3 * i / (DAYS - 1)) * WEEKDAY_WEIGHTS[day.weekday()]
        weights.append(w * (today_share if day == last else 1.0))
    exact = [total * w / sum(weights) for w in weights]
    counts = [int(x) for x in exact]
    for i in sorted(range(DAYS), key=lambda i: counts[i] - exact[i])[: total - sum(counts)]:
        counts[i] += 1
    plan = []
    for day, count in zip(days, counts, strict=True):
        start = datetime.combine(day, clock.min, tz).timestamp()
        plan.append((start, min(start + DAY, ref.timestamp()), count))
    return plan


def received_times(rng: random.Random, start: float, end: float, count: int) -> list[float]:
    hour_cum = cumulative(HOUR_WEIGHTS)
    out = []
    while len(out) < count:
        hour = min(bisect.bisect_left(hour_cum, rng.random()), 23)
        t = start + (hour + rng.random()) * HOUR
        if t < end:
            out.append(t)
    out.sort()
    return out


class Generator:
    """Work orders and the records of their life cycle, as rows for COPY (runs no query)."""

    def __init__(self, master: Master, columns: list[str], template: list[Any], ref: datetime, seed: int) -> None:
        self.m = master
        self.columns = columns
        self.template = template
        self.ref = ref.timestamp()
        self.created = ref
        self.seed = seed
        self.at = {name: columns.index(name) for name in columns}

    def orders(self, first_id: int, plan: list[tuple[float, float, int]]) -> Iterator[tuple[list, ...]]:
        """(order row, callback rows, return rows, extension rows, event rows) in received order, ids from
        ``first_id``."""
        rng = random.Random(self.seed * 1_000_003 + first_id)  # noqa: S311 - benchmark data
        order_id = first_id
        for start, end, count in plan:
            for received in received_times(rng, start, end, count):
                yield self.order(rng, order_id, received)
                order_id += 1

    def order(self, rng: random.Random, order_id: int, received: float):  # noqa: C901 - one life cycle
        m, at, ref = self.m, self.at, self.ref
        row = self.template.copy()
        callbacks: list[tuple] = []
        returns: list[tuple] = []
        extensions: list[tuple] = []
        events: list[tuple] = []

        def ts(value: float) -> datetime:
            return datetime.fromtimestamp(value, UTC)

        def event(action: str, at_: float, actor: int | None, unit: int | None, old: str, new: str, note: str = ""):
            events.append((order_id, action, actor, unit, old, new, note, "{}", ts(at_)))

        leaf_index = min(bisect.bisect_left(m.leaf_cum, rng.random()), len(m.leaves) - 1)
        r = rng.random()
        street = pick(rng, m.streets, m.street_cum) if r >= 0.04 else None
        district = m.district_of[street] if street else None
        area = None if street is None else district if r < 0.12 else street
        enterprise = rng.random() < 0.05
        row[at["id"]] = order_id
        row[at["number"]] = f"D{order_id:013d}"
        row[at["channel"]] = pick(rng, m.channels, m.channel_cum)
        row[at["caller_phone"]] = f"139{rng.randrange(100_000_000):08d}"
        row[at["is_enterprise"]] = enterprise
        if enterprise:
            row[at["enterprise_name"]] = f"压测企业{rng.randrange(5000)}有限公司"
        row[at["request_type_id"]] = pick(rng, m.request_types, m.request_type_cum)
        row[at["category_id"]] = m.leaves[leaf_index]
        row[at["title"]] = f"压测工单 {order_id}"
        row[at["content"]] = f"市民来电反映诉求 {order_id}：小区附近存在需要相关部门协调处理的问题，希望尽快核实答复。"
        row[at["area_id"]] = area
        row[at["received_at"]] = ts(received)
        last = received
        event("intake", received, m.operator, None, "", "pending_dispatch")

        if rng.random() < 0.20:  # 直接办结 at intake
            replied = received + rng.uniform(2, 10) * MINUTE
            if replied <= ref:
                row[at["state"]] = "archived"
                row[at["closure"]] = "direct"
                row[at["reply_result"]] = "explained"
                row[at["reply_content"]] = "已按热线知识库答复诉求人。"
                row[at["replied_at"]] = row[at["archived_at"]] = ts(replied)
                last = replied
                event("answer_directly", replied, m.operator, None, "pending_dispatch", "archived")
            else:
                row[at["state"]] = "pending_dispatch"
            row[at["updated_at"]] = ts(last)
            return row, callbacks, returns, extensions, events

        dispatched = received + min(rng.lognormvariate(math.log(40 * MINUTE), 1.0), 8 * HOUR)
        if dispatched > ref:
            row[at["state"]] = "pending_dispatch"
            row[at["updated_at"]] = ts(last)
            return row, callbacks, returns, extensions, events
        lead = self.lead_unit(rng, leaf_index, street, district)
        due = dispatched + pick(rng, m.due_days, m.due_cum) * DAY
        sign_due = dispatched + DAY
        row[at["lead_unit_id"]] = lead
        row[at["dispatched_at"]] = row[at["limit_started_at"]] = ts(dispatched)
        row[at["sign_due_at"]] = ts(sign_due)
        row[at["warning"]] = 0  # green while open; cleared when archived
        last = dispatched
        event("dispatch", dispatched, m.dispatcher, None, "pending_dispatch", "pending_sign")
        if rng.random() < 0.03 and dispatched + 12 * HOUR < ref:  # 退单 requested, decided two hours later
            asked = dispatched + rng.uniform(0.5, 12) * HOUR
            approved = rng.random() < 0.6
            status = "approved" if approved else "rejected"
            reason = "不属于本单位职责范围，申请退回。"
            returns.append(
                (order_id, lead, m.handler, reason, status, m.dispatcher, "", ts(asked), ts(asked + 2 * HOUR))
            )
            row[at["return_count"]] = 1
            event("return_request", asked, m.handler, lead, "pending_sign", "pending_sign", reason)
            decision = "return_approve" if approved else "return_reject"  # the order stays with the unit here
            event(decision, asked + 2 * HOUR, m.dispatcher, None, "pending_sign", "pending_sign")
            last = asked + 2 * HOUR
        signed = dispatched + (rng.uniform(0.2, 20) if rng.random() < 0.94 else rng.uniform(24, 60)) * HOUR
        if signed > ref:
            row[at["state"]] = "pending_sign"
            row[at["due_at"]] = ts(due)
            row[at["updated_at"]] = ts(min(last, ref))
            return row, callbacks, returns, extensions, events
        row[at["signed_at"]] = ts(signed)
        last = max(last, signed)
        event("sign", signed, m.handler, lead, "pending_sign", "in_progress")
        if rng.random() < 0.025:  # 延期 requested halfway, mostly approved
            asked = signed + (due - signed) * rng.uniform(0.3, 0.8)
            if asked + 4 * HOUR <= ref:
                approved = rng.random() < 0.8
                new_due = due + 5 * DAY
                extensions.append((order_id, lead, m.handler, "需协调多个部门，申请延期办理。", ts(due), ts(new_due),
                                   "approved" if approved else "rejected", m.dispatcher, "", ts(asked),
                                   ts(asked + 4 * HOUR)))  # fmt: skip
                row[at["extension_count"]] = 1
                event("extension_request", asked, m.handler, lead, "in_progress", "in_progress")
                decision = "extension_approve" if approved else "extension_reject"
                event(decision, asked + 4 * HOUR, m.dispatcher, None, "in_progress", "in_progress")
                due = new_due if approved else due
                last = max(last, asked + 4 * HOUR)
        row[at["due_at"]] = ts(due)
        limit = due - dispatched
        replied = signed + rng.lognormvariate(math.log(0.45 * limit), 0.6)
        if replied > ref:
            row[at["state"]] = "in_progress"
            row[at["updated_at"]] = ts(last)
            return row, callbacks, returns, extensions, events
        result = pick(rng, m.reply_results, m.reply_cum)
        row[at["replied_at"]] = ts(replied)
        row[at["reply_result"]] = result
        row[at["reply_content"]] = "经现场核实，已协调相关部门处理，并向诉求人反馈办理情况。"
        row[at["reply_measures"]] = "现场核实，协调处理。"
        row[at["callback_due_at"]] = ts(replied + 3 * DAY)
        last = replied
        event("reply", replied, m.handler, lead, "in_progress", "pending_callback")
        archived = None
        if rng.random() < 0.70:  # 回访
            called = replied + min(rng.lognormvariate(math.log(20 * HOUR), 0.7), 6 * DAY)
            if called <= ref:
                c = rng.random()
                if c < 0.86:
                    satisfied, basic = SATISFACTION[result]
                    s = rng.random()
                    satisfaction = "satisfied" if s < satisfied else "basic" if s < satisfied + basic else "unsatisfied"
                    resolved = satisfaction != "unsatisfied" and (result != "unresolved" or rng.random() < 0.3)
                    callbacks.append((order_id, m.agent, "reached", satisfaction, resolved, "", ts(called)))
                    row[at["satisfaction"]] = satisfaction
                    row[at["resolved"]] = resolved
                    archived = called if resolved else called + rng.uniform(1, 24) * HOUR
                else:
                    contact = "unreachable" if c < 0.95 else "refused"
                    callbacks.append((order_id, m.agent, contact, "", None, "", ts(called)))
                    archived = called + rng.uniform(1, 24) * HOUR
                event("callback", called, m.agent, None, "pending_callback", "pending_callback")
                last = called
        elif replied + 10 * DAY <= ref:  # not sampled for a callback: archived after ten days
            archived = replied + 10 * DAY
        if archived is not None and archived <= ref:
            row[at["state"]] = "archived"
            row[at["closure"]] = "handled"
            row[at["archived_at"]] = ts(archived)
            row[at["warning"]] = None
            event("archive", archived, m.agent, None, "pending_callback", "archived")
            last = archived
        else:
            row[at["state"]] = "pending_callback"
        row[at["updated_at"]] = ts(last)
        return row, callbacks, returns, extensions, events

    def lead_unit(self, rng: random.Random, leaf_index: int, street: int | None, district: int | None) -> int:
        """属地 first (the street or one of its communities, the district or its departments), else the
        category's default unit; a utility's categories go to the utility."""
        m = self.m
        default, kind = m.leaf_default[leaf_index]
        r = rng.random()
        if kind == "utility" and r < 0.9:
            return default
        if street is not None and r < 0.5:
            communities = m.communities.get(street)
            return rng.choice(communities) if communities and rng.random() < 0.15 else street
        if district is not None and r < 0.7:
            return rng.choice(m.district_departments.get(district) or [district])
        if default is not None and r < 0.95:
            return default
        return rng.choice(m.fallback)


def split(part, callbacks: list, returns: list, extensions: list, events: list) -> Iterator[list]:
    """The order rows of ``part``; the records of their life cycle are appended to the lists on the way."""
    for row, cbs, rets, exts, evs in part:
        callbacks.extend(cbs)
        returns.extend(rets)
        extensions.extend(exts)
        events.extend(evs)
        yield row


def copy_rows(cursor, table: str, columns: list[str], rows) -> int:
    from django.db import connection

    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    count = 0
    with cursor.copy(f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


CALLBACK_COLUMNS = ["order_id", "agent_id", "contact_result", "satisfaction", "resolved", "note", "created_at"]
RETURN_COLUMNS = ["order_id", "unit_id", "requested_by_id", "reason", "status", "decided_by_id", "decision_note",
                  "created_at", "decided_at"]  # fmt: skip
EXTENSION_COLUMNS = ["order_id", "unit_id", "requested_by_id", "reason", "old_due_at", "new_due_at", "status",
                     "decided_by_id", "decision_note", "created_at", "decided_at"]  # fmt: skip
EVENT_COLUMNS = ["order_id", "action", "actor_id", "actor_unit_id", "from_state", "to_state", "note", "data",
                 "created_at"]  # fmt: skip


def generate(count: int, ref: datetime, seed: int, batch: int) -> dict[str, Any]:
    """COPY ``count`` more orders (spread over the DAYS days before ``ref``) and their records, then ANALYZE."""
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Max

    from orders.models import Callback, ExtensionRequest, OrderEvent, ReturnRequest, WorkOrder

    fields = WorkOrder._meta.concrete_fields
    columns = [f.column for f in fields]
    explicit = {"warned": 0, "version": 0, "return_count": 0, "reopen_count": 0, "extension_count": 0,
                "is_enterprise": False, "closure": "", "created_at": ref, "updated_at": ref}  # fmt: skip
    template = [
        explicit[f.column] if f.column in explicit else f.get_db_prep_save(f.get_default(), connection) for f in fields
    ]
    per_row = {"id", "number", "channel", "caller_phone", "request_type_id", "category_id", "title", "content"}
    per_row |= {"state", "received_at"}
    given = {c for c, value in zip(columns, template, strict=True) if value is not None} | per_row
    checks = [(WorkOrder, given), (Callback, set(CALLBACK_COLUMNS)), (ReturnRequest, set(RETURN_COLUMNS)),
              (ExtensionRequest, set(EXTENSION_COLUMNS)), (OrderEvent, set(EVENT_COLUMNS))]  # fmt: skip
    for model, covered in checks:
        missing = sorted(not_null_columns(model._meta.db_table) - covered)
        if missing:
            raise SystemExit(f"{model._meta.db_table}: NOT NULL columns without a value: {', '.join(missing)}")

    master = Master(seed)
    first_id = (WorkOrder.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    generator = Generator(master, columns, template, ref, seed)
    totals = {"orders": 0, "callbacks": 0, "return_requests": 0, "extension_requests": 0, "events": 0}
    started = time.perf_counter()
    while totals["orders"] < count:
        callbacks: list[tuple] = []
        returns: list[tuple] = []
        extensions: list[tuple] = []
        events: list[tuple] = []
        # Each batch spans all the days, so the batches committed before an interruption are evenly spread and
        # a later run adds the rest alike.
        size = min(batch, count - totals["orders"])
        stream = generator.orders(first_id + totals["orders"], day_plan(size, ref))
        part = split(stream, callbacks, returns, extensions, events)
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            done = copy_rows(cursor, WorkOrder._meta.db_table, columns, part)
            copy_rows(cursor, Callback._meta.db_table, CALLBACK_COLUMNS, callbacks)
            copy_rows(cursor, ReturnRequest._meta.db_table, RETURN_COLUMNS, returns)
            copy_rows(cursor, ExtensionRequest._meta.db_table, EXTENSION_COLUMNS, extensions)
            copy_rows(cursor, OrderEvent._meta.db_table, EVENT_COLUMNS, events)
            for sql in connection.ops.sequence_reset_sql(no_style(), [WorkOrder]):
                cursor.execute(sql)
        totals["orders"] += done
        totals["callbacks"] += len(callbacks)
        totals["return_requests"] += len(returns)
        totals["extension_requests"] += len(extensions)
        totals["events"] += len(events)
        print(f"  {totals['orders']:>10} / {count} orders, batch in {time.perf_counter() - t0:.0f} s", flush=True)
        if not done:
            break
    copied = time.perf_counter()
    with connection.cursor() as cursor:
        for model in (WorkOrder, Callback, ReturnRequest, ExtensionRequest, OrderEvent):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return {
        **totals,
        "copy_s": round(copied - started, 1),
        "vacuum_analyze_s": round(time.perf_counter() - copied, 1),
        "total_s": round(time.perf_counter() - started, 1),
    }


def prepare_data(wanted: int, fresh: bool, seed: int, batch: int) -> tuple[datetime, dict[str, Any] | None]:
    """Make sure at least ``wanted`` orders exist; returns the reference time and the generation timings."""
    from django.db import connection
    from django.db.models import Max

    from analytics.models import OrderFact, RollupCell, RollupState
    from orders.models import WorkOrder

    if fresh:
        tables = [WorkOrder._meta.db_table, OrderFact._meta.db_table, RollupCell._meta.db_table,
                  RollupState._meta.db_table]  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(
                f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)} RESTART IDENTITY CASCADE"
            )
    existing = WorkOrder.objects.count()
    ref = WorkOrder.objects.aggregate(m=Max("created_at"))["m"] or datetime.now(UTC).replace(microsecond=0)
    if existing > wanted:
        raise SystemExit(
            f"{existing} orders in the database, more than --orders {wanted}: use another --database or --fresh"
        )
    if existing == wanted:
        print(f"» reusing {existing} existing orders (reference time {ref:%Y-%m-%d %H:%M:%S%z})")
        return ref, None
    print(f"» generating {wanted - existing} orders with COPY (reference time {ref:%Y-%m-%d %H:%M:%S%z}) …", flush=True)
    info = generate(wanted - existing, ref, seed, batch)
    print(f"» generated in {info['total_s']} s: {info}")
    return ref, info


# --------------------------------------------------------------------------------------------- roll-up


def rollup_matches() -> bool:
    """The roll-up counts every order once as received (a complete rebuild ran after the last generation)."""
    from django.db.models import Sum

    from analytics.models import RollupCell
    from orders.models import WorkOrder

    total = RollupCell.objects.filter(grain="total", span="m").aggregate(n=Sum("received"))["n"] or 0
    return total == WorkOrder.objects.count()


def build_rollup(ref: datetime, jobs: int = 2) -> dict[str, Any]:
    """``rollup.rebuild`` over every order (facts by batches of order ids, then the cells), then the watermark at
    the reference time."""
    from django.db import connection

    from analytics import rollup
    from analytics.models import OrderFact, RollupCell, RollupState

    started = time.perf_counter()
    last_print = [started]

    def progress(done: int, top: int, facts: int) -> None:
        if time.perf_counter() - last_print[0] > 30:
            last_print[0] = time.perf_counter()
            print(f"  orders ≤ {done}/{top}: {facts} facts, {time.perf_counter() - started:.0f} s", flush=True)

    facts = rollup.rebuild(batch=20_000, progress=progress, jobs=jobs)
    rebuilt = time.perf_counter()
    RollupState.objects.update_or_create(name=rollup.STATE, defaults={"watermark": ref})
    with connection.cursor() as cursor:
        for model in (OrderFact, RollupCell):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return {
        "rows": facts,
        "cells": RollupCell.objects.count(),
        "jobs": jobs,
        "rebuild_s": round(rebuilt - started, 1),
        "vacuum_analyze_s": round(time.perf_counter() - rebuilt, 1),
    }


def data_summary(ref: datetime) -> dict[str, Any]:
    """Row counts and sizes of the tables, and the roll-up rows a period of each length covers."""
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from analytics.models import OrderFact, RollupCell
    from orders.models import Callback, ExtensionRequest, ReturnRequest, WorkOrder

    models = {"orders": WorkOrder, "callbacks": Callback, "return_requests": ReturnRequest,
              "extension_requests": ExtensionRequest, "order_facts": OrderFact, "rollup_cells": RollupCell}  # fmt: skip
    out: dict[str, Any] = {"rows": {}, "size_mb": {}}
    with connection.cursor() as cursor:
        for key, model in models.items():
            table = model._meta.db_table
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT count(*), pg_total_relation_size(%s) FROM {quoted}", [table])  # noqa: S608
            count, size = cursor.fetchone()
            out["rows"][key] = count
            out["size_mb"][key] = round(size / 2**20, 1)
    end = timezone.localtime(ref).date()
    out["daily_stat_rows_per_period"] = {
        str(days): OrderFact.objects.filter(day__gt=end - timedelta(days=days), day__lte=end).count()
        for days in PERIODS
    }
    out["cells_per_grain"] = dict(
        RollupCell.objects.values_list("grain").annotate(n=Count("pk")).order_by("grain").values_list("grain", "n")
    )
    states = WorkOrder.objects.values("state").annotate(n=Count("pk")).order_by("state")
    out["states"] = {row["state"]: row["n"] for row in states}
    return out


# --------------------------------------------------------------------------------------------- pages


def try_reverse(name: str) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name)
    except NoReverseMatch:
        print(f"  (skipped: no URL named {name} yet)")
        return None


def choose_subjects(ref: datetime) -> dict[str, list[tuple[Any, str]]]:
    """Busy and middling units (district, street) and categories (level 1, 2) of the last 30 days."""
    from django.db.models import Sum
    from django.utils import timezone

    from analytics.models import OrderFact
    from categories.models import Category
    from org.models import Unit, UnitKind

    end = timezone.localtime(ref).date()
    recent = OrderFact.objects.filter(day__gt=end - timedelta(days=30), day__lte=end)
    by_unit = dict(recent.values_list("unit").annotate(n=Sum("received")).values_list("unit", "n"))
    units = {u.pk: u for u in Unit.objects.all()}
    district_total: dict[int, int] = {}
    for pk, n in by_unit.items():
        if pk is None:
            continue
        for part in units[pk].path.strip("/").split("/"):
            if units.get(int(part)) and units[int(part)].kind == UnitKind.DISTRICT:
                district_total[int(part)] = district_total.get(int(part), 0) + n
    districts = sorted(district_total, key=lambda pk: -district_total[pk])
    streets = sorted((pk for pk in by_unit if pk and units[pk].kind == UnitKind.STREET), key=lambda pk: -by_unit[pk])

    def busy_and_middling(ranked: list) -> list:
        return list(dict.fromkeys([ranked[0], ranked[len(ranked) // 2]])) if ranked else []

    def ranked_categories(level: int) -> list[int]:
        rows = recent.values_list(f"category{level}").annotate(n=Sum("received")).order_by("-n")
        return [pk for pk, _ in rows.values_list(f"category{level}", "n") if pk]

    categories = {c.pk: c for c in Category.objects.filter(level__in=(1, 2))}
    level1, level2 = ranked_categories(1), ranked_categories(2)
    return {
        "units": [(units[pk], "district") for pk in busy_and_middling(districts)]
        + [(units[pk], "street") for pk in busy_and_middling(streets)],
        "categories": [(categories[pk], "level 1") for pk in busy_and_middling(level1)]
        + [(categories[pk], "level 2") for pk in busy_and_middling(level2)],
        "areas": [(units[pk], "street") for pk in streets[:1]],
    }


def page_urls(ref: datetime, subjects: dict) -> list[dict[str, str]]:
    """Every URL measured: {view, label, url}."""
    from django.utils import timezone
    from django.utils.http import urlencode

    end = timezone.localtime(ref).date()

    def period(days: int) -> dict[str, str]:
        return {"start": (end - timedelta(days=days - 1)).isoformat(), "end": end.isoformat()}

    urls: list[dict[str, str]] = []

    def add(view: str, base: str | None, label: str, **query) -> None:
        if base is not None:
            urls.append({"view": view, "label": label, "url": f"{base}?{urlencode(query)}"})

    overview = try_reverse("analytics:overview")
    unit = try_reverse("analytics:unit")
    category = try_reverse("analytics:category")
    drill = try_reverse("analytics:orders")
    for days in PERIODS:
        add("overview", overview, f"{days} d", **period(days))
        add("unit", unit, f"all units, {days} d", **period(days))
        for u, kind in subjects["units"]:
            add("unit", unit, f"{u.name} ({kind}), {days} d", unit=u.pk, **period(days))
        add("category", category, f"all categories, {days} d", **period(days))
        for c, level in subjects["categories"]:
            add("category", category, f"{c.name} ({level}), {days} d", category=c.pk, **period(days))
    for days in (30, 365):
        add("orders", drill, f"received, {days} d", counter="received", **period(days))
        add("orders", drill, f"satisfied, {days} d", counter="satisfied", **period(days))
        add("orders", drill, f"returns, {days} d", counter="returns", **period(days))
    if subjects["units"]:
        u, kind = subjects["units"][0]
        add("orders", drill, f"received, unit {u.name} ({kind}), 30 d", counter="received", unit=u.pk, **period(30))
        u, kind = subjects["units"][-1]
        add("orders", drill, f"received, unit {u.name} ({kind}), 365 d", counter="received", unit=u.pk, **period(365))
    if subjects["categories"]:
        c, level = subjects["categories"][0]
        add("orders", drill, f"received, category {c.name} ({level}), 30 d", counter="received", category=c.pk,
            **period(30))  # fmt: skip
    for a, kind in subjects["areas"]:
        add("orders", drill, f"received, area {a.name} ({kind}), 30 d", counter="received", area=a.pk, **period(30))
    return urls


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(round(share * len(ordered), 9)) - 1)]


def measure_pages(urls: list[dict[str, str]], repeat: int, budget: float, seed: int) -> list[dict[str, Any]]:
    """Each URL requested by Django's test client signed in as its ``user`` (a username; the demo leader when the
    URL names none): a warm-up, then ``repeat`` timed requests in a random order."""
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from accounts.roles import Role

    hosts = [h for h in settings.ALLOWED_HOSTS if h and "*" not in h and not h.startswith(".")]
    leader = User.objects.filter(role=Role.LEADER, is_active=True).order_by("pk").first()
    if leader is None:
        raise SystemExit("no active user with role leader")
    clients: dict[str, Client] = {}
    for name in {u.get("user") or leader.username for u in urls}:
        clients[name] = Client(HTTP_HOST=hosts[0] if hosts else "testserver")
        clients[name].force_login(User.objects.get(username=name))
    stats: dict[str, dict[str, Any]] = {u["url"]: {**u, "times": [], "sql": [], "slowest": None} for u in urls}

    def request(url: str) -> tuple[float, list[dict[str, Any]]] | None:
        entry = stats[url]
        client = clients[entry.get("user") or leader.username]
        reset_queries()  # the query log keeps 9000 entries: a full one would misplace the captured slice
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            try:
                response = client.get(url)
            except Exception as exc:  # noqa: BLE001 - a broken page is reported, the others still measured
                entry["error"] = f"{type(exc).__name__}: {exc}"
                return None
            seconds = time.perf_counter() - started
        if response.status_code != 200:
            entry["error"] = f"HTTP {response.status_code}"
            return None
        return seconds, [{"seconds": float(q["time"]), "sql": q["sql"]} for q in ctx.captured_queries]

    print(f"» warming up {len(urls)} URLs …", flush=True)
    for url in (u["url"] for u in urls):
        measured = request(url)
        if measured is None:
            print(f"  {url}: {stats[url]['error']} (not measured)")
            continue
        stats[url]["first_s"] = round(measured[0], 3)
        stats[url]["queries"] = len(measured[1])
    schedule = [u["url"] for u in urls if "error" not in stats[u["url"]] for _ in range(repeat)]
    random.Random(seed).shuffle(schedule)  # noqa: S311 - request order, not security
    print(f"» {len(schedule)} timed requests in random order …", flush=True)
    for done, url in enumerate(schedule, 1):
        entry = stats[url]
        if "error" in entry or (len(entry["times"]) >= 5 and sum(entry["times"]) > budget):
            continue
        measured = request(url)
        if measured is None:
            continue
        seconds, statements = measured
        entry["times"].append(seconds)
        entry["sql"].append(sum(s["seconds"] for s in statements))
        entry["queries"] = len(statements)
        top = max(statements, key=lambda s: s["seconds"], default=None)
        if top and (entry["slowest"] is None or top["seconds"] > entry["slowest"]["seconds"]):
            entry["slowest"] = top
        if done % 100 == 0:
            print(f"  {done} / {len(schedule)}", flush=True)
    results = []
    for u in urls:
        entry = stats[u["url"]]
        times = entry["times"]
        row = {"view": u["view"], "label": u["label"], "url": u["url"], "n": len(times)}
        row |= {key: u[key] for key in ("user", "target_s") if key in u}
        if times:
            row |= {
                "p50_s": round(statistics.median(times), 3),
                "p95_s": round(nearest_rank(times, 0.95), 3),
                "max_s": round(max(times), 3),
                "first_s": entry.get("first_s"),
                "sql_p50_s": round(statistics.median(entry["sql"]), 3),
                "queries": entry.get("queries"),
                "slowest_sql": entry["slowest"],
            }
        if "error" in entry:
            row["error"] = entry["error"]
        results.append(row)
    return results


def explain_slow(pages: list[dict[str, Any]], limit: int, target: float | None = None) -> list[dict[str, Any]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest statement of the pages over the target: distinct statements,
    taken in turn from each view (slowest first), so every view that misses the target gets its plans."""
    from django.db import connection, transaction

    by_view: dict[str, dict[str, dict[str, Any]]] = {}
    for page in sorted(pages, key=lambda p: -(p.get("p95_s") or 0)):
        if (page.get("p95_s") or 0) < (page.get("target_s") or target or TARGET_SECONDS) or not page.get("slowest_sql"):
            continue
        seen = by_view.setdefault(page["view"], {})
        sql = page["slowest_sql"]["sql"]
        if sql not in seen:
            seen[sql] = {"pages": [], "seconds": page["slowest_sql"]["seconds"], "sql": sql}
        seen[sql]["pages"].append(f"{page['view']} {page['label']}")
    queues = [sorted(seen.values(), key=lambda s: -s["seconds"]) for seen in by_view.values()]
    chosen: list[dict[str, Any]] = []
    while len(chosen) < limit and any(queues):
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    for item in chosen:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {item['sql']}")
            item["plan"] = "\n".join(r[0] for r in cursor.fetchall())
            transaction.set_rollback(True)
    return chosen


def planner_settings() -> dict[str, str]:
    """The PostgreSQL settings behind the plans, beyond those ``machine()`` reports."""
    from django.db import connection

    names = ("effective_cache_size", "random_page_cost", "max_parallel_workers_per_gather", "jit")
    with connection.cursor() as cursor:
        out = {}
        for name in names:
            cursor.execute(f"SHOW {name}")
            out[name] = cursor.fetchone()[0]
    return out


# --------------------------------------------------------------------------------------------- maintenance


def touch(count: int, ref: datetime, at: datetime) -> dict[str, int]:
    """``count`` orders received in the 30 days before ``ref`` change a little before ``at``: open ones are
    replied, waiting ones called back and archived, closed ones just updated (a note, an attachment)."""
    from django.db import connection

    from accounts.models import User
    from accounts.roles import Role
    from orders.models import Callback, WorkOrder

    if not count:
        return {}
    agent = User.objects.filter(role=Role.CALLBACK).order_by("pk").values_list("pk", flat=True).first()
    when = at - timedelta(seconds=30)
    orders = connection.ops.quote_name(WorkOrder._meta.db_table)
    callbacks = connection.ops.quote_name(Callback._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""CREATE TEMPORARY TABLE touched ON COMMIT DROP AS
                SELECT id, state FROM {orders}
                WHERE received_at >= %s AND received_at < %s AND dispatched_at IS NOT NULL
                ORDER BY (id * 2654435761) %% 1000003 LIMIT %s""",  # noqa: S608 - table names from the models
            [ref - timedelta(days=30), ref, count],
        )
        cursor.execute(
            f"""UPDATE {orders} o SET replied_at = %s, reply_result = 'resolved', reply_content = '已办结',
                    signed_at = COALESCE(o.signed_at, %s), state = 'pending_callback', callback_due_at = %s,
                    updated_at = %s
                FROM touched t WHERE o.id = t.id AND t.state IN ('pending_sign', 'in_progress')""",  # noqa: S608 - table names from the models
            [when, when - timedelta(hours=1), when + timedelta(days=3), when],
        )
        replied = cursor.rowcount
        cursor.execute(
            f"""INSERT INTO {callbacks} (order_id, agent_id, contact_result, satisfaction, resolved, note, created_at)
                SELECT id, %s, 'reached', 'satisfied', true, '', %s FROM touched WHERE state = 'pending_callback'""",  # noqa: S608 - table names from the models
            [agent, when],
        )
        cursor.execute(
            f"""UPDATE {orders} o SET state = 'archived', closure = 'handled', archived_at = %s,
                    satisfaction = 'satisfied', resolved = true, updated_at = %s
                FROM touched t WHERE o.id = t.id AND t.state = 'pending_callback'""",  # noqa: S608 - table names from the models
            [when, when],
        )
        called = cursor.rowcount
        cursor.execute(
            f"""UPDATE {orders} o SET updated_at = %s FROM touched t
                WHERE o.id = t.id AND t.state NOT IN ('pending_sign', 'in_progress', 'pending_callback')""",  # noqa: S608 - table names from the models
            [when],
        )
        return {"replied": replied, "called_back": called, "updated": cursor.rowcount}


def measure_refresh(ref: datetime, counts: list[int]) -> list[dict[str, Any]]:
    """For each K: touch K orders, time ``rollup.refresh(now)``; all rolled back, so the runs are independent."""
    from django.db import connection, reset_queries, transaction
    from django.test.utils import CaptureQueriesContext

    from analytics import rollup
    from analytics.models import RollupState

    results = []
    for count in counts:
        with transaction.atomic():
            watermark = RollupState.objects.get(name=rollup.STATE).watermark
            now = watermark + timedelta(minutes=10)  # beyond the safety margin of the previous run
            t0 = time.perf_counter()
            touched = touch(count, ref, now)
            touch_s = time.perf_counter() - t0
            reset_queries()
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                days = rollup.refresh(now)  # the number of orders recomputed
                seconds = time.perf_counter() - t0
            statements = sorted(
                ({"seconds": float(q["time"]), "sql": q["sql"]} for q in ctx.captured_queries),
                key=lambda s: -s["seconds"],
            )
            reads = [s for s in statements if s["sql"].lstrip().upper().startswith("SELECT")]
            writes = [s for s in statements if s["sql"].lstrip().upper().startswith(("INSERT", "DELETE"))]
            result = {
                "touched": count, "detail": touched, "touch_s": round(touch_s, 2), "days_recomputed": days,
                # one rebuild (DELETE + INSERT of the roll-up rows) per range of consecutive days
                "ranges": sum(1 for s in writes if s["sql"].lstrip().upper().startswith("DELETE")),
                "refresh_s": round(seconds, 2), "select_s": round(sum(s["seconds"] for s in reads), 2),
                "write_s": round(sum(s["seconds"] for s in writes), 2), "queries": len(statements),
                "slowest_sql": statements[:5],
            }  # fmt: skip
            if count == max(counts) and reads:  # the plan of the slowest read, on the touched data
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {reads[0]['sql']}")
                    result["explained"] = {**reads[0], "plan": "\n".join(r[0] for r in cursor.fetchall())}
            transaction.set_rollback(True)
        results.append(result)
        print(f"  K={count}: {days} days or orders, {result['ranges']} DELETEs, recomputed in {seconds:.2f} s "
              f"(SQL: {result['select_s']} s reading, {result['write_s']} s writing; {len(statements)} queries)",
              flush=True)  # fmt: skip
    with connection.cursor() as cursor:  # the rolled-back roll-up rows leave dead tuples behind
        from analytics.models import OrderFact, RollupCell

        for model in (OrderFact, RollupCell):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return results


# --------------------------------------------------------------------------------------------- report


def short_sql(sql: str, width: int = 200) -> str:
    sql = re.sub(r'"(analytics_dailystat|analytics_orderfact|analytics_rollupcell|orders_workorder)"\.', "",
                 re.sub(r"\s+", " ", sql))  # fmt: skip
    return sql if len(sql) <= width else sql[: width - 1] + "…"


def mark(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds:.3f}" if seconds < TARGET_SECONDS else f"**{seconds:.3f}**"


def pages_table(pages: list[dict[str, Any]]) -> str:
    lines = [
        "| page | n | p50 s | p95 s | max s | SQL s (p50) | queries | slowest statement s |",
        "|------|--:|------:|------:|------:|------------:|--------:|--------------------:|",
    ]
    for p in pages:
        if "p95_s" not in p:
            lines.append(f"| {p['view']} · {p['label']} | 0 | — | — | — | — | — | {p.get('error', '')} |")
            continue
        slowest = p["slowest_sql"]["seconds"] if p.get("slowest_sql") else 0
        lines.append(
            f"| {p['view']} · {p['label']} | {p['n']} | {p['p50_s']:.3f} | {mark(p['p95_s'])} | {p['max_s']:.3f} "
            f"| {p['sql_p50_s']:.3f} | {p['queries']} | {slowest:.3f} |"
        )
    return "\n".join(lines)


def views_table(pages: list[dict[str, Any]]) -> str:
    lines = ["| view | URLs | worst p95 s | URLs over target |", "|------|-----:|------------:|-----------------:|"]
    for view in dict.fromkeys(p["view"] for p in pages):
        mine = [p for p in pages if p["view"] == view and "p95_s" in p]
        worst = max((p["p95_s"] for p in mine), default=None)
        over = sum(1 for p in mine if p["p95_s"] >= TARGET_SECONDS)
        lines.append(f"| {view} | {len(mine)} | {mark(worst)} | {over} |")
    return "\n".join(lines)


def run_markdown(key: str, run: dict[str, Any]) -> list[str]:
    m, d = run["machine"], run["data"]
    parts = [
        f"## {int(key):,} orders",
        "",
        f"Date: {run['date']}  ",
        f"Database: `{run['database']}`, reference time {run['reference_time']}  ",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM  ",
        f"PostgreSQL: {m['postgresql'].split(' on ')[0]}, "
        + ", ".join(f"{k}={v}" for k, v in {**m["postgresql_settings"], **m.get("planner_settings", {})}.items()),
        "",
        "| table | rows | size MB |",
        "|-------|-----:|--------:|",
    ]
    parts += [f"| {k} | {d['rows'][k]:,} | {d['size_mb'][k]:,} |" for k in d["rows"]]
    per = d["daily_stat_rows_per_period"]
    parts += [
        "",
        "Roll-up rows in a period ending on the reference date: "
        + ", ".join(f"{k} d {v:,}" for k, v in per.items())
        + (
            f"; orders per roll-up row: {d['rows']['orders'] / max(d['rows']['daily_stats'], 1):.2f}."
            if "daily_stats" in d["rows"]
            else " (per-order facts); roll-up cells per grain (day and month spans): "
            + ", ".join(f"{k} {v:,}" for k, v in d.get("cells_per_grain", {}).items())
            + "."
        ),
        "",
    ]
    if run.get("generation"):
        g = run["generation"]
        parts += [f"Generation of {g['orders']:,} orders ({g['callbacks']:,} callbacks, {g['return_requests']:,} "
                  f"return and {g['extension_requests']:,} extension requests, {g.get('events', 0):,} events): "
                  f"COPY {g['copy_s']} s, "
                  f"VACUUM ANALYZE {g['vacuum_analyze_s']} s.", ""]  # fmt: skip
    if run.get("rollup") and "months" not in run["rollup"]:
        r = run["rollup"]
        parts += [f"Full roll-up rebuild (`rollup.rebuild`: facts by batches of 20,000 order ids in "
                  f"{r.get('jobs', 1)} thread(s), then the cells): "
                  f"{r['rows']:,} facts and {r['cells']:,} cells in {r['rebuild_s']} s, "
                  f"then VACUUM ANALYZE {r['vacuum_analyze_s']} s.", ""]  # fmt: skip
    elif run.get("rollup"):
        r = run["rollup"]
        slow = max(r["months"], key=lambda x: x["seconds"])
        parts += [f"Full roll-up rebuild (`rollup.rebuild` month by month, {len(r['months'])} months): "
                  f"{r['rows']:,} rows in {r['rebuild_s']} s (slowest month {slow['month']}: {slow['seconds']} s), "
                  f"then VACUUM ANALYZE {r['vacuum_analyze_s']} s.", ""]  # fmt: skip
    pages = run["pages"]
    over = [p for p in pages if (p.get("p95_s") or 0) >= TARGET_SECONDS]
    parts += [
        f"### Pages (target: p95 under {TARGET_SECONDS:g} s) — "
        + ("met by every page." if not over else f"**{len(over)} of {len(pages)} URLs over the target**."),
        "",
        views_table(pages),
        "",
        pages_table(pages),
        "",
    ]
    if run.get("maintenance"):
        parts += [
            "### Incremental maintenance (`rollup.refresh(now)` after K orders changed; rolled back)",
            "",
            "| K orders touched | touch s | days or orders recomputed | DELETEs | refresh s | SQL reading s "
            "| SQL writing s "
            "| queries | slowest statement s |",
            "|-----------------:|--------:|----------------:|-------:|----------:|--------------:|--------------:"
            "|--------:|--------------------:|",
        ]
        for r in run["maintenance"]:
            slowest = r["slowest_sql"][0]["seconds"] if r["slowest_sql"] else 0
            parts.append(f"| {r['touched']:,} | {r['touch_s']} | {r['days_recomputed']} | {r.get('ranges', '—')} "
                         f"| {r['refresh_s']} | {r.get('select_s', '—')} | {r.get('write_s', '—')} | {r['queries']} "
                         f"| {slowest:.3f} |")  # fmt: skip
        worst = max(run["maintenance"], key=lambda r: r["refresh_s"])
        parts += ["", f"Slowest statements of the refresh with K={worst['touched']:,}:", ""]
        parts += [f"- {s['seconds']:.3f} s — `{short_sql(s['sql'])}`" for s in worst["slowest_sql"]]
        parts.append("")
        for r in run["maintenance"]:
            if r.get("explained"):
                e = r["explained"]
                parts += [f"Plan of the slowest read of the refresh with K={r['touched']:,} ({e['seconds']:.3f} s): "
                          f"`{short_sql(e['sql'], 400)}`", "", "```", e["plan"], "```", ""]  # fmt: skip
    if run.get("explained"):
        parts += ["### Slow statements explained", ""]
        for item in run["explained"]:
            parts += [
                f"{item['seconds']:.3f} s in {', '.join(item['pages'][:4])}"
                + (f" and {len(item['pages']) - 4} more" if len(item["pages"]) > 4 else "")
                + f": `{short_sql(item['sql'], 400)}`",
                "",
                "```",
                item["plan"],
                "```",
                "",
            ]
    return parts


def markdown(results: dict[str, Any]) -> str:
    parts = [
        "# Dashboards over the daily roll-up — PostgreSQL benchmark",
        "",
        "Every page rendered by Django's test client signed in as the demo leader; periods end on the reference "
        "date. `n` timed requests per URL in a random order after one warm-up request (fewer than `--repeat` when "
        "a URL used up its time budget). p95 is the nearest-rank 95th percentile; bold marks the target missed.",
        "",
    ]
    for key in sorted(results["runs"], key=int):
        parts += run_markdown(key, results["runs"][key])
    return "\n".join(parts)


def save(key: str, run: dict[str, Any]) -> None:
    """Replace this order count's entry, keep the others; keep the generation and rebuild figures of the same
    data when this run reused it."""
    path = RESULTS / f"{NAME}.json"
    results = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"runs": {}}
    old = results["runs"].get(key, {})
    if old.get("reference_time") == run["reference_time"] and old.get("data", {}).get("rows") == run["data"]["rows"]:
        for name in ("generation", "rollup"):
            if run.get(name) is None and old.get(name):
                run[name] = old[name]
                run[f"{name}_from"] = old.get(f"{name}_from", old["date"])
    results["runs"][key] = run
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (RESULTS / f"{NAME}.md").write_text(markdown(results), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if "bench" not in args.database and not args.allow_any_database:
        raise SystemExit("the database name should contain 'bench' (or pass --allow-any-database)")
    if args.orders <= 0 or args.repeat <= 0:
        raise SystemExit("--orders and --repeat must be positive")
    touches = [int(k) for k in args.touch.split(",") if k.strip()]
    setup_django(args.database)
    load_master_data()
    ref, generation = prepare_data(args.orders, args.fresh, args.seed, args.batch)
    if args.generate_only:
        return 0

    built = None
    if args.rebuild or generation is not None or not rollup_matches():
        print("» rebuilding the roll-up (facts by batches of order ids, then the cells) …", flush=True)
        built = build_rollup(ref, args.jobs)
        print(f"» roll-up: {built['rows']} rows in {built['rebuild_s']} s")
        if not rollup_matches():
            raise SystemExit("the roll-up does not count every order once as received")
    data = data_summary(ref)
    print(f"» data: {data['rows']}, sizes MB {data['size_mb']}")

    subjects = choose_subjects(ref)
    urls = page_urls(ref, subjects)
    pages = measure_pages(urls, args.repeat, args.budget, args.seed)
    for p in pages:
        if "p95_s" in p:
            print(f"  {p['view']:>8} {p['label']:<40} p50 {p['p50_s']:7.3f}  p95 {p['p95_s']:7.3f}  "
                  f"max {p['max_s']:7.3f}  {p['queries']} queries")  # fmt: skip
        else:
            print(f"  {p['view']:>8} {p['label']:<40} {p.get('error', 'not measured')}")
    explained = explain_slow(pages, args.explain_max)
    if explained:
        print(f"» explained {len(explained)} slow statements")

    print("» timing rollup.refresh(now) after touching orders …", flush=True)
    maintenance = measure_refresh(ref, touches) if touches else []

    run = {
        "date": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        "database": args.database,
        "reference_time": ref.isoformat(),
        "target_seconds": TARGET_SECONDS,
        "repeat": args.repeat,
        "machine": {**machine(), "planner_settings": planner_settings()},
        "generation": generation,
        "rollup": built,
        "data": data,
        "pages": pages,
        "explained": explained,
        "maintenance": maintenance,
    }
    save(str(data["rows"]["orders"]), run)
    over = [p for p in pages if (p.get("p95_s") or 0) >= TARGET_SECONDS]
    print(f"\n{len(pages)} URLs, {len(over)} over {TARGET_SECONDS:g} s at p95")
    print(f"results: {RESULTS / (NAME + '.json')}, {RESULTS / (NAME + '.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
