"""Load the three-level 诉求分类 tree from a CSV file with the header level1,level2,level3.

All rows are checked before anything is written; any bad row rejects the whole file with its
line number and reason. Loading the same file again changes nothing.
"""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from categories.models import Category

COLUMNS = ["level1", "level2", "level3"]
MAX_NAME = Category._meta.get_field("name").max_length


class CsvError(ValueError):
    """One or more rows of a CSV file are invalid; ``errors`` lists (line number, message)."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        super().__init__("\n".join(f"第 {line} 行：{msg}" for line, msg in errors))


@dataclass
class LoadResult:
    created: int
    existing: int


def read_rows(text: str) -> list[tuple[str, str, str]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != COLUMNS:
        raise CsvError([(1, f"表头应为 {','.join(COLUMNS)}，实际为 {','.join(header or [])}")])
    rows, errors = [], []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 3:
            errors.append((line, f"应有 3 列，实际 {len(row)} 列"))
            continue
        names = tuple(cell.strip() for cell in row)
        for column, name in zip(COLUMNS, names, strict=True):
            if not name:
                errors.append((line, f"{column} 为空"))
            elif len(name) > MAX_NAME:
                errors.append((line, f"{column}“{name[:20]}…”超过 {MAX_NAME} 个字"))
            elif "›" in name:
                errors.append((line, f"{column} 不能包含“›”"))
        rows.append(names)
    if errors:
        raise CsvError(errors)
    if not rows:
        raise CsvError([(2, "文件中没有分类数据")])
    return rows


@transaction.atomic
def load_categories(source: str | Path) -> LoadResult:
    rows = read_rows(Path(source).read_text(encoding="utf-8"))
    # every node already in the tree, by its path of names: one query instead of one per node
    cache: dict[tuple[str, ...], Category] = {tuple(c.full_name.split(" › ")): c for c in Category.objects.all()}
    seen: set[tuple[str, ...]] = set()
    created = existing = 0
    for row in rows:
        parent = None
        for depth in range(1, 4):
            key = row[:depth]
            node = cache.get(key)
            if node is None:
                node = Category(parent=parent, name=key[-1])
                node.parent = parent  # the parent in hand, so save() does not fetch it again
                node.save()
                created += 1
                cache[key] = node
            elif key not in seen:
                existing += 1
            seen.add(key)
            parent = node
    return LoadResult(created=created, existing=existing)
