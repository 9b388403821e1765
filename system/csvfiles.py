"""CSV files of the management commands that read and write spreadsheets (classify_messages, reply_quality,
hot_issues): one place for reading with clear errors, checking the header, adding columns and writing atomically.

Every problem becomes a CommandError that says what to fix, never a traceback, and an output file is written
under a temporary name and renamed only when complete, so a failure never leaves half a file behind.
"""

import csv
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from django.core.management.base import CommandError

BOM = b"\xef\xbb\xbf"
# The csv module refuses fields over 128 KiB; a pasted document can be longer, and every reader cuts it anyway.
csv.field_size_limit(16 * 1024 * 1024)
# As exported by the Teddy Cup data and by Excel re-saving it (2019/2/28 11:25).
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def parse_time(text: str) -> datetime | None:
    """2019-05-10 17:14:18, 2019/5/10 17:14, 2019-05-10T17:14 or 2019-05-10 (naive); None when it is not a time."""
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


@contextmanager
def reading(path: Path) -> Iterator[tuple[Iterator[list[str]], bool]]:
    """A csv.reader over a UTF-8 file (with or without BOM) and whether it had a BOM; errors while opening or
    reading it inside the block become CommandErrors naming the file."""
    try:
        with path.open("rb") as raw:
            has_bom = raw.read(3) == BOM
        source = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError as exc:
        raise CommandError(f"找不到输入文件 {path}") from exc
    except IsADirectoryError as exc:
        raise CommandError(f"输入路径是目录而不是 CSV 文件：{path}") from exc
    except OSError as exc:
        raise CommandError(f"无法读取输入文件 {path}：{exc.strerror or exc}") from exc
    reader = csv.reader(source)
    try:
        with source:
            yield reader, has_bom
    except UnicodeDecodeError as exc:
        raise CommandError(f"输入文件 {path} 不是 UTF-8 编码（请在 Excel 中另存为“CSV UTF-8”）") from exc
    except csv.Error as exc:
        raise CommandError(f"输入文件 {path} 不是有效的 CSV（第 {reader.line_num} 行）：{exc}") from exc


def header(reader: Iterator[list[str]], path: Path, required: tuple[str, ...]) -> list[str]:
    """The column names of the first row; CommandError when the file is empty or lacks a required column."""
    first = next(reader, None)
    if first is None:
        raise CommandError(f"输入文件 {path} 是空的，第一行应是表头（含 {'、'.join(required)}）")
    names = [name.strip() for name in first]
    missing = [name for name in required if name not in names]
    if missing:
        raise CommandError(f"输入文件 {path} 缺少列：{'、'.join(missing)}（现有列：{'、'.join(names) or '无'}）")
    return names


@contextmanager
def writing(path: Path, bom: bool = True) -> Iterator:
    """A csv.writer to ``path``, written aside and renamed when the block ends without an error."""
    partial = path.with_name(path.name + ".part")
    try:
        with partial.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as target:
            yield csv.writer(target)
        partial.replace(path)
    except OSError as exc:
        raise CommandError(f"无法写入输出文件 {path}：{exc.strerror or exc}") from exc
    finally:
        if partial.exists():  # only when something failed half-way
            os.remove(partial)


# Fills the added columns of a batch of rows: gets the rows (padded to the input header) and the index of each
# required column, returns one {added column: value} per row.
Filler = Callable[[list[list[str]], dict[str, int]], list[dict[str, str]]]


def add_columns(
    source: Path, output: Path, required: tuple[str, ...], added: tuple[str, ...], fill: Filler, batch: int = 1000
) -> tuple[int, int]:
    """Copy a CSV with ``added`` columns filled by ``fill``, rows in order, other columns kept (a column of the
    same name is overwritten), the BOM kept as it was. Returns (rows, rows whose length differed from the header)."""
    with reading(source) as (reader, has_bom), writing(output, bom=has_bom) as writer:
        names = header(reader, source, required)
        columns = {name: names.index(name) for name in required}
        out_header = names + [name for name in added if name not in names]
        out = {name: out_header.index(name) for name in added}
        writer.writerow(out_header)
        rows = fixed = 0
        pending: list[list[str]] = []

        def flush() -> None:
            for row, values in zip(pending, fill(pending, columns), strict=True):
                for name, value in values.items():
                    row[out[name]] = value
            writer.writerows(pending)
            pending.clear()

        for line in reader:
            if not line:  # a blank line is no row
                continue
            fixed += len(line) != len(names)
            pending.append((line + [""] * len(out_header))[: len(out_header)])
            rows += 1
            if len(pending) >= batch:
                flush()
        flush()
    return rows, fixed
