"""manage.py classify_messages IN.csv OUT.csv: add the classifier's category and confidence to a CSV of messages.

For staff who have messages in a spreadsheet (an export of another system, a survey): the rows come back as they
were, in the same order, with two more columns. Bad input stops with a message saying what to fix, never a
traceback, and never leaves half an output file behind (system/csvfiles.py).
"""

from pathlib import Path

from django.core.management.base import BaseCommand

from nlp import classifier
from system.csvfiles import add_columns

REQUIRED = ("title", "detail")
ADDED = ("category", "confidence")


class Command(BaseCommand):
    help = "给 CSV 中的留言（title、detail 两列）加上分类 category 和置信度 confidence 两列"

    def add_arguments(self, parser) -> None:
        parser.add_argument("input", type=Path, help="输入 CSV（UTF-8，可带 BOM），须有 title 和 detail 两列")
        parser.add_argument("output", type=Path, help="输出 CSV：原有各列加 category、confidence")

    def handle(self, *args, input: Path, output: Path, **options) -> None:
        unknown = 0

        def fill(rows: list[list[str]], column: dict[str, int]) -> list[dict[str, str]]:
            nonlocal unknown
            # Batches are much faster than single rows, and memory stays flat.
            predictions = classifier.predict_many([(row[column["title"]], row[column["detail"]]) for row in rows])
            unknown += sum(p.label is None for p in predictions)
            return [{"category": p.label or "", "confidence": f"{p.confidence:.4f}"} for p in predictions]

        rows, fixed = add_columns(input, output, REQUIRED, ADDED, fill)
        self.stdout.write(self.style.SUCCESS(f"已分类 {rows} 条留言，其中 {unknown} 条无法确定类别，写入 {output}"))
        if fixed:
            self.stderr.write(f"注意：{fixed} 行的列数与表头不符，已按表头补齐或截断")
