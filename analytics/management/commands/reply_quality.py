"""manage.py reply_quality IN.csv OUT.csv: score the units' replies in a CSV of messages (答复质量).

For supervisors with replies in a spreadsheet (an export of another platform, a year of archived cases): the rows
come back as they were, in the same order, with six more columns from ``analytics.reply_quality.score``. A time
that cannot be read leaves that row's timeliness empty; bad input stops with a message saying what to fix, never a
traceback, and never leaves half an output file behind.
"""

import csv
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from analytics import reply_quality

REQUIRED = ("title", "detail", "reply", "time", "reply_time")
ADDED = ("relevance", "completeness", "substance", "timeliness", "score", "flags")
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
BOM = b"\xef\xbb\xbf"

# The csv module refuses fields over 128 KiB; a pasted document can be longer, and the scorer cuts it anyway.
csv.field_size_limit(16 * 1024 * 1024)


def parse_time(text: str) -> datetime | None:
    """2019-05-10 17:14:18, 2019/5/10 17:14 or 2019-05-10 (project time zone); None when it is not a time."""
    text = " ".join(text.replace("T", " ").replace("/", "-").split())
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


class Command(BaseCommand):
    help = (
        "给 CSV 中的答复（title、detail、reply、time、reply_time 五列）评答复质量，加上 relevance 相关性、"
        "completeness 完整性、substance 实质内容、timeliness 及时性、score 总分和 flags 问题标记六列"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "input", type=Path, help="输入 CSV（UTF-8，可带 BOM），须有 title、detail、reply、time、reply_time 五列"
        )
        parser.add_argument("output", type=Path, help="输出 CSV：原有各列加 relevance、completeness 等六列")
        parser.add_argument(
            "--limit-days",
            type=float,
            default=reply_quality.DEFAULT_LIMIT_DAYS,
            help=f"答复时限（工作日），超过即扣及时性分；默认 {reply_quality.DEFAULT_LIMIT_DAYS}",
        )

    def handle(self, *args, input: Path, output: Path, limit_days: float, **options) -> None:
        if limit_days <= 0:
            raise CommandError("--limit-days 必须大于 0")
        try:
            with input.open("rb") as f:
                has_bom = f.read(3) == BOM
            source = input.open(encoding="utf-8-sig", newline="")
        except FileNotFoundError as exc:
            raise CommandError(f"找不到输入文件 {input}") from exc
        except OSError as exc:
            raise CommandError(f"无法读取输入文件 {input}：{exc.strerror or exc}") from exc
        partial = output.with_name(output.name + ".part")
        try:
            with source, partial.open("w", encoding="utf-8-sig" if has_bom else "utf-8", newline="") as target:
                counts = self.score_rows(input, csv.reader(source), csv.writer(target), limit_days)
            partial.replace(output)
        except OSError as exc:
            raise CommandError(f"无法写入输出文件 {output}：{exc.strerror or exc}") from exc
        finally:
            # Only left behind when something failed half-way.
            if partial.exists():
                os.remove(partial)
        rows, total, templates, untimed, fixed = counts
        average = f"，平均 {total / rows:.1f} 分" if rows else ""
        self.stdout.write(
            self.style.SUCCESS(f"已评 {rows} 条答复{average}，其中套话答复 {templates} 条，写入 {output}")
        )
        if untimed:
            self.stderr.write(f"注意：{untimed} 行的 time 或 reply_time 无法识别（或答复早于留言），这些行的及时性留空")
        if fixed:
            self.stderr.write(f"注意：{fixed} 行的列数与表头不符，已按表头补齐或截断")

    def score_rows(
        self, input: Path, reader: Iterator[list[str]], writer, limit_days: float
    ) -> tuple[int, int, int, int, int]:
        """Copy the rows with the added columns; returns (rows, sum of scores, templates, rows without times, fixed)."""
        try:
            header = next(reader, None)
            if header is None:
                raise CommandError(f"输入文件 {input} 是空的，第一行应是表头（含 {'、'.join(REQUIRED)}）")
            names = [name.strip() for name in header]
            missing = [name for name in REQUIRED if name not in names]
            if missing:
                raise CommandError(
                    f"输入文件 {input} 缺少列：{'、'.join(missing)}（现有列：{'、'.join(names) or '无'}）"
                )
            col = {name: names.index(name) for name in REQUIRED}
            # A file scored before keeps its columns; the new values replace the old ones.
            out_header = names + [name for name in ADDED if name not in names]
            out = {name: out_header.index(name) for name in ADDED}
            writer.writerow(out_header)
            rows = total = templates = untimed = fixed = 0
            for line in reader:
                if not line:  # a blank line is no message
                    continue
                if len(line) != len(names):
                    fixed += 1
                row = (line + [""] * len(out_header))[: len(out_header)]
                asked_at, replied_at = parse_time(row[col["time"]]), parse_time(row[col["reply_time"]])
                quality = reply_quality.score(
                    row[col["title"]], row[col["detail"]], row[col["reply"]], asked_at, replied_at,
                    limit_days=limit_days,
                )  # fmt: skip
                row[out["relevance"]] = f"{quality.relevance:.2f}"
                row[out["completeness"]] = f"{quality.completeness:.2f}"
                row[out["substance"]] = f"{quality.substance:.2f}"
                row[out["timeliness"]] = "" if quality.timeliness is None else f"{quality.timeliness:.2f}"
                row[out["score"]] = str(quality.score)
                row[out["flags"]] = "；".join(quality.flag_labels)
                writer.writerow(row)
                rows += 1
                total += quality.score
                templates += reply_quality.Flag.TEMPLATE_ONLY in quality.flags
                untimed += quality.timeliness is None
            return rows, total, templates, untimed, fixed
        except UnicodeDecodeError as exc:
            raise CommandError(f"输入文件 {input} 不是 UTF-8 编码（请在 Excel 中另存为“CSV UTF-8”）") from exc
        except csv.Error as exc:
            raise CommandError(f"输入文件 {input} 不是有效的 CSV（第 {reader.line_num} 行）：{exc}") from exc
