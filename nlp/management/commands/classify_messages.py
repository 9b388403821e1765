"""manage.py classify_messages IN.csv OUT.csv: add the classifier's category and confidence to a CSV of messages.

For staff who have messages in a spreadsheet (an export of another system, a survey): the rows come back as they
were, in the same order, with two more columns. Bad input stops with a message saying what to fix, never a
traceback, and never leaves half an output file behind.
"""

import csv
import os
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from nlp import classifier

REQUIRED = ("title", "detail")
ADDED = ("category", "confidence")
BATCH = 1000  # rows predicted at once: batches are much faster than single rows, and memory stays flat
BOM = b"\xef\xbb\xbf"

# The csv module refuses fields over 128 KiB; a pasted document can be longer, and the classifier cuts it anyway.
csv.field_size_limit(16 * 1024 * 1024)


class Command(BaseCommand):
    help = "给 CSV 中的留言（title、detail 两列）加上分类 category 和置信度 confidence 两列"

    def add_arguments(self, parser) -> None:
        parser.add_argument("input", type=Path, help="输入 CSV（UTF-8，可带 BOM），须有 title 和 detail 两列")
        parser.add_argument("output", type=Path, help="输出 CSV：原有各列加 category、confidence")

    def handle(self, *args, input: Path, output: Path, **options) -> None:
        try:
            with input.open("rb") as f:
                has_bom = f.read(3) == BOM
            source = input.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise CommandError(f"无法读取输入文件 {input}：{exc.strerror or exc}") from exc
        partial = output.with_name(output.name + ".part")
        try:
            with source, partial.open("w", encoding="utf-8-sig" if has_bom else "utf-8", newline="") as target:
                counts = self.classify(input, csv.reader(source), csv.writer(target))
            partial.replace(output)
        except OSError as exc:
            raise CommandError(f"无法写入输出文件 {output}：{exc.strerror or exc}") from exc
        finally:
            # Only left behind when something failed half-way.
            if partial.exists():
                os.remove(partial)
        rows, unknown, fixed = counts
        self.stdout.write(self.style.SUCCESS(f"已分类 {rows} 条留言，其中 {unknown} 条无法确定类别，写入 {output}"))
        if fixed:
            self.stderr.write(f"注意：{fixed} 行的列数与表头不符，已按表头补齐或截断")

    def classify(self, input: Path, reader: Iterator[list[str]], writer) -> tuple[int, int, int]:
        """Copy the rows with the two added columns; returns (rows, unknown, rows whose length was fixed)."""
        try:
            header = next(reader, None)
            if header is None:
                raise CommandError(f"输入文件 {input} 是空的，第一行应是表头（含 title 和 detail 两列）")
            names = [name.strip() for name in header]
            missing = [name for name in REQUIRED if name not in names]
            if missing:
                raise CommandError(
                    f"输入文件 {input} 缺少列：{'、'.join(missing)}（现有列：{'、'.join(names) or '无'}）"
                )
            title, detail = names.index("title"), names.index("detail")
            # A file classified before keeps its columns; the new values replace the old ones.
            out_header = names + [name for name in ADDED if name not in names]
            category, confidence = out_header.index("category"), out_header.index("confidence")
            writer.writerow(out_header)
            rows = unknown = fixed = 0
            batch: list[list[str]] = []
            for line in reader:
                if not line:  # a blank line is no message
                    continue
                if len(line) != len(names):
                    fixed += 1
                batch.append((line + [""] * len(out_header))[: len(out_header)])
                if len(batch) >= BATCH:
                    unknown += self.write_batch(batch, writer, title, detail, category, confidence)
                    rows += len(batch)
                    batch = []
            if batch:
                unknown += self.write_batch(batch, writer, title, detail, category, confidence)
                rows += len(batch)
            return rows, unknown, fixed
        except UnicodeDecodeError as exc:
            raise CommandError(f"输入文件 {input} 不是 UTF-8 编码（请在 Excel 中另存为“CSV UTF-8”）") from exc
        except csv.Error as exc:
            raise CommandError(f"输入文件 {input} 不是有效的 CSV（第 {reader.line_num} 行）：{exc}") from exc

    @staticmethod
    def write_batch(batch: list[list[str]], writer, title: int, detail: int, category: int, confidence: int) -> int:
        predictions = classifier.predict_many([(row[title], row[detail]) for row in batch])
        unknown = 0
        for row, prediction in zip(batch, predictions, strict=True):
            row[category] = prediction.label or ""
            row[confidence] = f"{prediction.confidence:.4f}"
            unknown += prediction.label is None
        writer.writerows(batch)
        return unknown
