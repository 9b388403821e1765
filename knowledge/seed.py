"""Seed content of the knowledge base: the demo city's written articles and past cases (案例).

- `seed/articles/*.md`: one article per file, a front-matter block of `key: value` lines between `---` lines
  (kind, title, units, categories, tags, enterprise, public, valid_from, valid_to, synonyms, summary), then the
  Markdown body.
- `seed/cases.csv`: messages with the responsible unit's official reply, from the Teddy Cup 2020 data
  (id, title, time, detail, reply, reply_time); each becomes a case whose answer is the reply.

Loading is idempotent: an article or case whose source is already in the base is skipped.
"""

import csv
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from django.db import transaction

from categories.models import Category
from knowledge import workflow
from knowledge.models import Article, Kind, Synonym
from knowledge.workflow import Draft
from org.models import Unit

SEED = Path(__file__).resolve().parent / "seed"
ARTICLES = SEED / "articles"
CASES = SEED / "cases.csv"
YES = {"yes", "true", "1", "是"}


class SeedError(Exception):
    pass


@dataclass
class SeedArticle:
    draft: Draft
    source: str
    synonyms: list[list[str]]


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]


def _date(value: str, path: Path, key: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SeedError(f"{path.name}: {key} 不是日期（YYYY-MM-DD）：{value}") from None


def parse_article(path: Path, categories: dict[str, int], units: dict[str, int]) -> SeedArticle:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---" or "---" not in [line.strip() for line in lines[1:]]:
        raise SeedError(f"{path.name}: 缺少以 --- 开始和结束的文件头")
    end = [line.strip() for line in lines].index("---", 1)
    meta = {}
    for line in lines[1:end]:
        if line.strip():
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip()
    body = "\n".join(lines[end + 1 :]).strip()
    missing_units = [code for code in _split(meta.get("units", "")) if code not in units]
    missing_categories = [name for name in _split(meta.get("categories", "")) if name not in categories]
    if missing_units or missing_categories:
        raise SeedError(f"{path.name}: 未知的单位 {missing_units} 或分类 {missing_categories}")
    synonyms = []
    for pair in _split(meta.get("synonyms", "")):
        words = [w.strip() for w in pair.split("=") if w.strip()]
        if len(words) >= 2:
            synonyms.append(words)
    draft = Draft(
        kind=meta.get("kind", Kind.FAQ),
        title=meta.get("title", ""),
        summary=meta.get("summary", ""),
        body=body,
        tags=", ".join(_split(meta.get("tags", ""))),
        is_enterprise=meta.get("enterprise", "").lower() in YES,
        is_public=meta.get("public", "").lower() in YES,
        valid_from=_date(meta.get("valid_from", ""), path, "valid_from"),
        valid_to=_date(meta.get("valid_to", ""), path, "valid_to"),
        categories=[categories[name] for name in _split(meta.get("categories", ""))],
        units=[units[code] for code in _split(meta.get("units", ""))],
    )
    return SeedArticle(draft, f"seed:{path.stem}", synonyms)


def _category_paths() -> dict[str, int]:
    """Category ids by their path with "/" (城乡建设/物业管理), as the seed files write them."""
    return {c.full_name.replace(" › ", "/"): c.pk for c in Category.objects.all()}


def load_articles(directory: Path = ARTICLES, user=None) -> int:
    categories, units = _category_paths(), dict(Unit.objects.values_list("code", "pk"))
    seeds = [parse_article(path, categories, units) for path in sorted(directory.glob("*.md"))]
    known = set(Article.objects.filter(source__startswith="seed:").values_list("source", flat=True))
    new = [s for s in seeds if s.source not in known]
    for seed in new:
        for words in seed.synonyms:
            Synonym.objects.get_or_create(words=" ".join(words))
    return workflow.import_published(user, [(s.draft, s.source) for s in new])


def _case_date(value: str) -> date | None:
    try:
        return datetime.strptime(value.strip()[:10], "%Y-%m-%d").date()
    except ValueError:
        return None


def load_cases(path: Path = CASES, limit: int | None = None, user=None) -> int:
    known = set(Article.objects.filter(kind=Kind.CASE).values_list("source", flat=True))
    items = []
    with path.open(encoding="utf-8-sig", newline="") as f:
        for number, row in enumerate(csv.DictReader(f)):
            if limit is not None and number >= limit:  # the first `limit` cases of the file, loaded or not
                break
            source = f"留言{row['id']}"
            reply, detail, title = row["reply"].strip(), row["detail"].strip(), row["title"].strip()
            if source in known or not (reply and title):
                continue
            draft = Draft(
                kind=Kind.CASE,
                title=title[:200],
                summary=reply[:2000],
                body=f"## 诉求\n\n{detail[:20000]}\n\n## 答复\n\n{reply[:20000]}",
                valid_from=_case_date(row.get("reply_time", "")) or _case_date(row.get("time", "")),
            )
            items.append((draft, source))
    return workflow.import_published(user, items)


@transaction.atomic
def load(user=None, cases: int | None = None) -> dict[str, int]:
    """Articles and cases not yet in the base, published by ``user`` (None: the system); all or nothing."""
    try:
        return {"articles": load_articles(user=user), "cases": load_cases(limit=cases, user=user)}
    except workflow.InvalidInput as exc:
        raise SeedError(exc.message) from exc
