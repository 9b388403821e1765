"""manage.py hot_issues IN.csv --top 5 --out DIR: the period's hot issues (热点问题) of a CSV of messages.

The input is a CSV like the 2020 Teddy Cup messages (analytics/data/messages_with_votes.csv): columns title,
detail and time are required; id, user, likes and dislikes are used when present. Two tables are written into
DIR, in the layout of the Teddy Cup task and with a BOM so that Excel shows the Chinese:
- hot_issues.csv: 热度排名, 问题ID, 热度指数, 时间范围, 地点/人群, 问题描述 of the top issues;
- hot_issue_messages.csv: 问题ID, 留言编号, 留言用户, 留言主题, 留言时间, 留言详情, 点赞数, 反对数 of their messages.
Bad input stops with a message saying what to fix, never a traceback, and never leaves half-written tables.
"""

import csv
import os
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from analytics.hot_issues import Issue, Message, find_issues
from system.csvfiles import header, parse_time, reading

REQUIRED = ("title", "detail", "time")
ISSUE_HEADER = ("热度排名", "问题ID", "热度指数", "时间范围", "地点/人群", "问题描述")
MESSAGE_HEADER = ("问题ID", "留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "点赞数", "反对数")
ISSUES_FILE = "hot_issues.csv"
MESSAGES_FILE = "hot_issue_messages.csv"
SHOWN_ERRORS = 5


def parse_count(text: str) -> int | None:
    """A vote count; empty is 0; Excel may have written 3 as 3.0."""
    text = text.strip()
    if not text:
        return 0
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() and value >= 0 else None


def read_messages(path: Path) -> list[Message]:
    """The messages of a CSV file (UTF-8, with or without BOM); CommandError naming every problem found.

    Without a user column every message counts as a different caller; without id, the row number is the id.
    """
    with reading(path) as (reader, _):
        names = header(reader, path, REQUIRED)
        column = {name: index for index, name in reversed(list(enumerate(names)))}
        messages, problems = [], []
        for row in reader:
            if not any(cell.strip() for cell in row):  # a blank line is no message
                continue
            message = _message(row, column, reader.line_num, problems)
            if message is not None:
                messages.append(message)
    if problems:
        shown = "；".join(problems[:SHOWN_ERRORS])
        more = f"；另有 {len(problems) - SHOWN_ERRORS} 处" if len(problems) > SHOWN_ERRORS else ""
        raise CommandError(f"输入文件 {path} 有 {len(problems)} 处数据无法识别，请改正后重试：{shown}{more}")
    if not messages:
        raise CommandError(f"输入文件 {path} 只有表头，没有留言")
    return messages


def _message(row: list[str], column: dict[str, int], line: int, problems: list[str]) -> Message | None:
    def cell(name: str) -> str:
        index = column.get(name)
        return row[index] if index is not None and index < len(row) else ""

    when = parse_time(cell("time"))
    if when is None:
        problems.append(f"第 {line} 行的时间“{cell('time')[:30]}”（应如 2019-02-28 11:25:05）")
    likes, dislikes = parse_count(cell("likes")), parse_count(cell("dislikes"))
    for name, value in (("likes", likes), ("dislikes", dislikes)):
        if value is None:
            problems.append(f"第 {line} 行的 {name}“{cell(name)[:30]}”（应为非负整数）")
    if when is None or likes is None or dislikes is None:
        return None
    ident = cell("id").strip() or str(line)
    return Message(
        id=ident,
        user=cell("user").strip() or f"#{ident}",
        title=cell("title").strip(),
        detail=cell("detail").strip(),
        time=when,
        likes=likes,
        dislikes=dislikes,
    )


def write_tables(issues: list[Issue], issues_path: Path, messages_path: Path) -> None:
    """Both tables, each written to a temporary name first and renamed only when both are complete."""
    parts = [path.with_name(f".{path.name}.part") for path in (issues_path, messages_path)]
    try:
        with parts[0].open("w", encoding="utf-8-sig", newline="") as target:
            writer = csv.writer(target)
            writer.writerow(ISSUE_HEADER)
            for issue in issues:
                writer.writerow([issue.rank, issue.id, f"{issue.heat:.2f}", issue.time_range, issue.place,
                                 issue.description])  # fmt: skip
        with parts[1].open("w", encoding="utf-8-sig", newline="") as target:
            writer = csv.writer(target)
            writer.writerow(MESSAGE_HEADER)
            for issue in issues:
                for m in issue.messages:
                    writer.writerow([issue.id, m.id, m.user, m.title, f"{m.time:%Y/%m/%d %H:%M:%S}", m.detail,
                                     m.likes, m.dislikes])  # fmt: skip
        parts[0].replace(issues_path)
        parts[1].replace(messages_path)
    finally:
        # Only left behind when something failed half-way.
        for part in parts:
            if part.exists():
                os.remove(part)


class Command(BaseCommand):
    help = "从留言 CSV（至少含 title、detail、time 列）挖掘热点问题，输出热点问题表和热点问题留言明细表"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "input", type=Path,
            help="输入 CSV（UTF-8，可带 BOM）：必须有 title、detail、time 列，可有 id、user、likes、dislikes 列",
        )  # fmt: skip
        parser.add_argument("--top", type=int, default=5, help="输出热度最高的前几个问题（默认 5）")
        parser.add_argument(
            "--out", type=Path, required=True,
            help=f"输出目录（不存在则创建），写入 {ISSUES_FILE}（热点问题表）和 {MESSAGES_FILE}（热点问题留言明细表）",
        )  # fmt: skip

    def handle(self, *args, input: Path, top: int, out: Path, **options) -> None:
        if top < 1:
            raise CommandError(f"--top 应为正整数，收到 {top}")
        started = time.perf_counter()
        messages = read_messages(input)
        issues = find_issues(messages, top=top)
        seconds = time.perf_counter() - started
        try:
            out.mkdir(parents=True, exist_ok=True)
            write_tables(issues, out / ISSUES_FILE, out / MESSAGES_FILE)
        except OSError as exc:
            raise CommandError(f"无法写入输出目录 {out}：{exc.strerror or exc}") from exc
        self.stdout.write(" | ".join(ISSUE_HEADER))
        for issue in issues:
            self.stdout.write(
                f"{issue.rank} | {issue.id} | {issue.heat:.2f} | {issue.time_range} | {issue.place} | "
                f"{issue.description}（{len(issue.messages)} 条留言）"
            )
        written = f"{out / ISSUES_FILE}、{out / MESSAGES_FILE}"
        self.stdout.write(
            self.style.SUCCESS(
                f"共 {len(messages)} 条留言，前 {len(issues)} 个热点问题已写入 {written}，用时 {seconds:.1f} 秒"
            )
        )
