"""manage.py reply_quality IN.csv OUT.csv: score the units' replies in a CSV of messages (答复质量).

For supervisors with replies in a spreadsheet (an export of another platform, a year of archived cases): the rows
come back as they were, in the same order, with six more columns from ``analytics.reply_quality.score``. A time
that cannot be read leaves that row's timeliness empty; bad input stops with a message saying what to fix, never a
traceback, and never leaves half an output file behind.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from analytics import reply_quality
from system.csvfiles import add_columns, parse_time

REQUIRED = ("title", "detail", "reply", "time", "reply_time")
ADDED = ("relevance", "completeness", "substance", "timeliness", "score", "flags")


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
        total = templates = untimed = 0

        def fill(rows: list[list[str]], col: dict[str, int]) -> list[dict[str, str]]:
            nonlocal total, templates, untimed
            values = []
            for row in rows:
                asked_at, replied_at = parse_time(row[col["time"]]), parse_time(row[col["reply_time"]])
                quality = reply_quality.score(
                    row[col["title"]], row[col["detail"]], row[col["reply"]], asked_at, replied_at,
                    limit_days=limit_days,
                )  # fmt: skip
                total += quality.score
                templates += reply_quality.Flag.TEMPLATE_ONLY in quality.flags
                untimed += quality.timeliness is None
                values.append({
                    "relevance": f"{quality.relevance:.2f}",
                    "completeness": f"{quality.completeness:.2f}",
                    "substance": f"{quality.substance:.2f}",
                    "timeliness": "" if quality.timeliness is None else f"{quality.timeliness:.2f}",
                    "score": str(quality.score),
                    "flags": "；".join(quality.flag_labels),
                })  # fmt: skip
            return values

        rows, fixed = add_columns(input, output, REQUIRED, ADDED, fill)
        average = f"，平均 {total / rows:.1f} 分" if rows else ""
        self.stdout.write(
            self.style.SUCCESS(f"已评 {rows} 条答复{average}，其中套话答复 {templates} 条，写入 {output}")
        )
        if untimed:
            self.stderr.write(f"注意：{untimed} 行的 time 或 reply_time 无法识别（或答复早于留言），这些行的及时性留空")
        if fixed:
            self.stderr.write(f"注意：{fixed} 行的列数与表头不符，已按表头补齐或截断")
