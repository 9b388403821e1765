"""Knowledge-base search (knowledge/search.py) with 100,000 articles, on SQLite (FTS5) and PostgreSQL (GIN).

What it measures
    The wall-clock time of ``search.search(question, limit=5)``, the call the intake form makes as the operator
    types, for 300 questions: the title plus the first 80 characters of each raw message of
    nlp/data/messages_labeled_sample.csv, the way an operator would type a caller's words. Median, p95 and
    max, and how many returned at least one article. Also the time to import and index the articles.

The data
    N published articles made from the past cases of knowledge/seed/cases.csv: the title of one message, the
    summary from a reply, the body from the details and replies of two others, so that every article is
    distinct and the vocabulary is that of real hotline messages. Each backend gets a fresh database: a SQLite
    file in a temporary directory and the PostgreSQL database ``hotline_kb_bench`` (dropped and re-created).

Usage (from the repository root)
    .venv/bin/python bench/knowledge_search.py [--articles 100000] [--backend sqlite|postgresql]
Without --backend both run, one after the other, each in its own process. Results: printed, and saved to
bench/results/knowledge_search.json and .md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PG_DATABASE = "hotline_kb_bench"
TARGET_MS = 50.0
QUERIES = 300


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000, help="articles in the base (default 100000)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], help="only this database")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the generated articles")
    return parser.parse_args(argv)


def setup_django(backend: str, var_dir: str) -> None:
    os.environ["HOTLINE_VAR_DIR"] = var_dir
    if backend == "postgresql":
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_DATABASE}"
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
            c.execute(f"CREATE DATABASE {PG_DATABASE}")
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{var_dir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def articles(count: int, seed: int):
    from knowledge.models import Kind
    from knowledge.workflow import Draft

    rng = random.Random(seed)
    cases = read(ROOT / "knowledge" / "seed" / "cases.csv")
    kinds = [Kind.FAQ, Kind.POLICY, Kind.GUIDE, Kind.DUTY, Kind.CASE]
    for i in range(count):
        a, b, c = rng.sample(cases, 3)
        body = f"## 问题\n\n{b['detail'][:300]}\n\n## 答复\n\n{c['reply'][:300]}"
        yield Draft(title=a["title"][:200], summary=a["reply"][:300] or "见正文", body=body, kind=kinds[i % 5])


def run(backend: str, count: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as var_dir:
        setup_django(backend, var_dir)
        from django.db import connection

        from knowledge import search, workflow
        from knowledge.models import SearchTerm

        started = time.perf_counter()
        batch: list = []
        for number, draft in enumerate(articles(count, seed), 1):
            batch.append((draft, f"bench:{number}"))
            if len(batch) == 5000:
                workflow.import_published(None, batch)
                batch = []
                print(f"{backend}: {number} articles", flush=True)
        if batch:
            workflow.import_published(None, batch)
        import_seconds = time.perf_counter() - started
        if backend == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        else:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

        sample = read(ROOT / "nlp" / "data" / "messages_labeled_sample.csv")
        questions = [f"{row['title']} {row['detail'][:80]}" for row in sample][:QUERIES]
        search.search(questions[0])  # loads jieba's dictionary
        times, found = [], 0
        for question in questions:
            started = time.perf_counter()
            hits = search.search(question, limit=5)
            times.append((time.perf_counter() - started) * 1000)
            found += bool(hits)
        times.sort()
        return {
            "backend": backend,
            "server": connection.vendor + " " + ".".join(map(str, connection.Database.sqlite_version_info))
            if backend == "sqlite"
            else f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}",
            "articles": count,
            "terms": SearchTerm.objects.count(),
            "import_seconds": round(import_seconds, 1),
            "queries": len(times),
            "with_results": found,
            "median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
            "max_ms": round(times[-1], 2),
        }


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def markdown(results: list[dict], count: int) -> str:
    lines = [
        "# Knowledge-base search (knowledge/search.py)",
        "",
        f"{datetime.now().astimezone().isoformat(timespec='seconds')} · {machine()} · "
        f"`.venv/bin/python bench/knowledge_search.py --articles {count}`",
        "",
        f"search(question, limit=5) for {QUERIES} operator-style questions (title + first 80 characters of a raw "
        f"message); target under {TARGET_MS:.0f} ms per query.",
        "",
        "| database | articles | distinct terms | import + index | queries with results | median | p95 | max |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['server']} | {r['articles']:,} | {r['terms']:,} | {r['import_seconds']} s "
            f"| {r['with_results']}/{r['queries']} | **{r['median_ms']} ms** | **{r['p95_ms']} ms** "
            f"| {r['max_ms']} ms |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.backend:
        print(json.dumps(run(args.backend, args.articles, args.seed), ensure_ascii=False))
        return 0
    results = []
    for backend in ("sqlite", "postgresql"):
        command = [sys.executable, __file__, "--backend", backend, "--articles", str(args.articles)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
        results.append(json.loads(output.strip().splitlines()[-1]))
        print(results[-1], flush=True)
    RESULTS.mkdir(exist_ok=True)
    payload = {"date": datetime.now().astimezone().isoformat(timespec="seconds"), "machine": machine(),
               "results": results}  # fmt: skip
    (RESULTS / "knowledge_search.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    report = markdown(results, args.articles)
    (RESULTS / "knowledge_search.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
