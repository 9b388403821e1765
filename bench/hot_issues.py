"""Hot issues (analytics/hot_issues.py): the Teddy Cup table, and the time of a big city's day.

1. The 2020 Teddy Cup messages (analytics/data/messages_with_votes.csv, 4,254 messages with public votes):
   ``find_issues`` with the top 5 kept; the table and the issues' messages are saved as
   bench/results/hot_issues_top5.csv and hot_issues_top5_messages.csv, exactly as ``manage.py hot_issues``
   writes them, and the time is measured.
2. A day of a big city: 60,000 messages (Beijing's 12345 takes about 60,000 orders a day) made from the
   file's messages with small changes so that they are not plain copies: each place the message names
   (district, street, estate, road) is swapped, four times in five, for another place of the same kind
   found in the file; the sentences of the detail are shuffled; the caller is new; the time is random
   within one day. Seeded, so every run times the same messages. Target: under 60 s on one core.

    .venv/bin/python bench/hot_issues.py [--messages 60000] [--seed 7]
Results: bench/results/hot_issues.json and bench/results/hot_issues.md.
"""

import argparse
import json
import os
import platform
import random
import re
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
# The target is for one core: no BLAS or OpenMP threads (numpy is imported after this).
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

DATA = ROOT / "analytics" / "data" / "messages_with_votes.csv"
OUT = ROOT / "bench" / "results"
SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]*")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def teddy_cup(top: int) -> dict:
    """Top issues of the Teddy Cup file, written like the command writes them; returns time and table."""
    from analytics.hot_issues import find_issues
    from analytics.management.commands.hot_issues import read_messages, write_tables

    started = time.perf_counter()
    messages = read_messages(DATA)
    read_seconds = time.perf_counter() - started
    issues = find_issues(messages, top=top)
    seconds = time.perf_counter() - started - read_seconds
    write_tables(issues, OUT / f"hot_issues_top{top}.csv", OUT / f"hot_issues_top{top}_messages.csv")
    return {
        "messages": len(messages),
        "read_seconds": round(read_seconds, 2),
        "seconds": round(seconds, 2),
        "issues": [
            {
                "rank": i.rank,
                "heat": i.heat,
                "time_range": i.time_range,
                "place": i.place,
                "description": i.description,
                "messages": len(i.messages),
            }
            for i in issues
        ],  # fmt: skip
    }


def synthetic_day(count: int, seed: int) -> list:
    """``count`` messages of one day made from the file's messages (see the module docstring)."""
    from analytics.hot_issues import Message, extract_place
    from analytics.management.commands.hot_issues import read_messages

    rng = random.Random(seed)
    source = read_messages(DATA)
    places = [extract_place(m.title, m.detail) for m in source]
    pools = {
        kind: sorted({name for p in places for name in getattr(p, kind)})
        for kind in ("districts", "streets", "spots", "roads")
    }
    day = datetime(2020, 1, 27)
    made = []
    for k in range(count):
        index = rng.randrange(len(source))
        src, place = source[index], places[index]
        title, detail = src.title, src.detail
        for kind, pool in pools.items():
            for name in getattr(place, kind):
                if rng.random() < 0.8:
                    other = rng.choice(pool)
                    title, detail = title.replace(name, other), detail.replace(name, other)
        sentences = SENTENCE.findall(detail)
        rng.shuffle(sentences)
        made.append(
            Message(
                id=f"S{k:06d}",
                user=f"U{rng.randrange(count * 2):07d}",
                title=title,
                detail="".join(sentences),
                time=day + timedelta(seconds=rng.randrange(86400)),
                likes=src.likes,
                dislikes=src.dislikes,
            )
        )
    return made


def day_timing(count: int, seed: int) -> dict:
    from analytics.hot_issues import find_issues

    messages = synthetic_day(count, seed)
    started = time.perf_counter()
    issues = find_issues(messages)
    seconds = time.perf_counter() - started
    return {
        "messages": count,
        "seconds": round(seconds, 1),
        "issues": len(issues),
        "largest_issue": max(len(i.messages) for i in issues),
        "top5": [f"{i.place} {i.description} ({len(i.messages)})" for i in issues[:5]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=60_000, help="messages of the synthetic day")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    import django

    django.setup()
    OUT.mkdir(parents=True, exist_ok=True)
    cup = teddy_cup(5)
    day = day_timing(args.messages, args.seed)
    result = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "teddy_cup": cup, "day": day}
    top = "\n".join(
        f"| {i['rank']} | {i['heat']} | {i['time_range']} | {i['place']} | {i['description']} | {i['messages']} |"
        for i in cup["issues"]
    )
    rows = [
        (f"Teddy Cup file: {cup['messages']} messages, reading the CSV (s)", cup["read_seconds"]),
        (f"Teddy Cup file: {cup['messages']} messages, find_issues (s)", cup["seconds"]),
        (f"one day: {day['messages']} messages (s)", day["seconds"]),
        ("one day: issues found", day["issues"]),
        ("one day: largest issue (messages)", day["largest_issue"]),
    ]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    md = (
        f"# Hot issues (热点问题)\n\n{result['date']}, {result['machine']}\n\n"
        f"| measure | value |\n|---|---|\n{table}\n\n"
        f"The day: {day['messages']:,} messages made from the file's with their places swapped for others of the "
        f"file (4 in 5), sentences shuffled, new callers, times within one day (seed {args.seed}); one process, "
        "one core. Its hottest issues (of made-up messages): " + "; ".join(day["top5"]) + ".\n\n"
        "Top 5 of analytics/data/messages_with_votes.csv (the tables: hot_issues_top5.csv, "
        "hot_issues_top5_messages.csv):\n\n"
        f"| 热度排名 | 热度指数 | 时间范围 | 地点/人群 | 问题描述 | 留言数 |\n|---|---|---|---|---|---|\n{top}\n"
    )
    print(md)
    (OUT / "hot_issues.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    (OUT / "hot_issues.md").write_text(md)


if __name__ == "__main__":
    main()
