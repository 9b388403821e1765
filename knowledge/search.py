"""Chinese full-text search over the articles in force, one interface on SQLite and PostgreSQL.

Steps of a query:
1. Normalise the text (half-width, lower case, at most MAX_QUERY characters) and add the synonyms of every
   synonym group one of whose words it contains.
2. Segment it with jieba in search mode (long words also yield their parts) and drop stop words and punctuation.
3. Keep the rarest terms first, up to MAX_TERMS and a budget of postings, so that a long question typed at
   intake does not make the database rank half the base (document frequencies are kept in `SearchTerm`).
4. Ask the database's index for the best articles in force (title terms weigh more than body terms, rare terms
   more than common ones): FTS5 with bm25 on SQLite, a GIN-indexed tsvector with ts_rank weighted by each
   term's idf on PostgreSQL. Both index the same jieba terms.
5. Cut a snippet around the densest place of the body and mark the matched words.

Any text is a valid query: an empty, huge or odd one returns fewer results or none, never an error.
"""

import html
import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import jieba
from django.db import connection, transaction
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from knowledge import render
from knowledge.models import Article, ArticleStatus, SearchDoc, SearchTerm, Synonym
from nlp.text import STOP_WORDS

logger = logging.getLogger(__name__)

MAX_QUERY = 300  # characters of a query that are read; an operator's question is rarely longer
MAX_TERMS = 8
POSTINGS_BUDGET = 2_000  # sum of the chosen terms' document frequencies: bounds the rows a query ranks
TITLE_WEIGHT = 4.0  # SQLite bm25 weight of the title against the body; PostgreSQL: weights A and B
SNIPPET_CHARS = 90

_TERM = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff]")
_MARKUP = re.compile(r"<[^>]{0,200}>|[#*_`>|\[\]()~-]+|https?://\S+")


@dataclass
class Hit:
    article: Article
    score: float
    snippet: SafeString
    title: SafeString


def normalize(text: object) -> str:
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", html.unescape(str(text))).lower()
    return " ".join(text.split())


def terms(text: object) -> list[str]:
    """The index terms of a text, in order, repeats kept: jieba search-mode words without stop words."""
    words = []
    for word in jieba.cut_for_search(normalize(text), HMM=False):
        word = _TERM.sub("", word)[:100]
        if word and word not in STOP_WORDS:
            words.append(word)
    return words


# --- indexing ---------------------------------------------------------------------------------------------


# The SearchTerm row with the empty term (never a real term) counts the indexed articles, for the weights.
DOCUMENTS = ""


def _term_set(doc: SearchDoc | None) -> set[str]:
    return set(doc.title_terms.split()) | set(doc.body_terms.split()) if doc else set()


def _doc(article: Article) -> SearchDoc:
    return SearchDoc(
        article=article,
        title_terms=" ".join(terms(article.title)),
        body_terms=" ".join(terms(f"{article.tags} {article.summary} {article.body}")),
    )


def _add_df(counts: Counter, sign: int) -> None:
    """Add (sign 1) or take away (sign -1) document frequencies."""
    table = SearchTerm._meta.db_table
    rows = sorted((term, n) for term, n in counts.items() if n)
    if not rows:
        return
    with connection.cursor() as cursor:
        if sign > 0:
            cursor.executemany(
                f"INSERT INTO {table} (term, df) VALUES (%s, %s) "
                f"ON CONFLICT (term) DO UPDATE SET df = {table}.df + excluded.df",
                rows,
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET df = CASE WHEN df > %s THEN df - %s ELSE 0 END WHERE term = %s",
                [(n, n, term) for term, n in rows],
            )


def index(article: Article) -> None:
    """Put a published article's current text in the index (or take out one that is not published)."""
    if article.status != ArticleStatus.PUBLISHED:
        unindex(article)
        return
    with transaction.atomic():
        old = SearchDoc.objects.select_for_update().filter(article=article).first()
        new = _doc(article)
        old_terms, new_terms = _term_set(old), _term_set(new)
        new.save()
        _add_df(Counter(new_terms - old_terms) + Counter({DOCUMENTS: int(old is None)}), +1)
        _add_df(Counter(old_terms - new_terms), -1)


def index_many(articles: Iterable[Article]) -> int:
    """Index published articles that are not in the index yet, in bulk (imports); returns how many."""
    with transaction.atomic():
        docs, df = [], Counter()
        for article in articles:
            if article.status == ArticleStatus.PUBLISHED:
                docs.append(_doc(article))
                df.update(_term_set(docs[-1]))
        df[DOCUMENTS] = len(docs)
        SearchDoc.objects.bulk_create(docs, batch_size=500)
        _add_df(df, +1)
    return len(docs)


def unindex(article: Article) -> None:
    with transaction.atomic():
        old = SearchDoc.objects.select_for_update().filter(article=article).first()
        if old is not None:
            old.delete()
            _add_df(Counter(_term_set(old)) + Counter({DOCUMENTS: 1}), -1)


def rebuild() -> int:
    """Rebuild the whole index from the published articles; returns how many were indexed."""
    with transaction.atomic():
        SearchDoc.objects.all().delete()
        SearchTerm.objects.all().delete()
        return index_many(Article.objects.filter(status=ArticleStatus.PUBLISHED).iterator(chunk_size=1000))


# --- querying ---------------------------------------------------------------------------------------------


def expand(query: str) -> tuple[str, list[str]]:
    """The query with the synonyms of the groups it touches appended, and those synonyms."""
    added = []
    for group in Synonym.objects.values_list("words", flat=True):
        words = Synonym(words=group).word_list
        if any(normalize(w) in query for w in words):
            added += [w for w in words if normalize(w) not in query]
    return (f"{query} {' '.join(added)}" if added else query), added


def _choose(candidates: Iterable[str]) -> tuple[list[tuple[str, int]], int]:
    """The rarest known terms within MAX_TERMS and POSTINGS_BUDGET (at least one when any is known), each with
    its document frequency, and the number of indexed articles."""
    unique = list(dict.fromkeys(candidates))[:200]
    df = dict(SearchTerm.objects.filter(term__in=[*unique, DOCUMENTS], df__gt=0).values_list("term", "df"))
    documents = df.pop(DOCUMENTS, 0)
    chosen, budget = [], 0
    for count, term in sorted((df[t], t) for t in unique if t in df):
        if len(chosen) >= MAX_TERMS or (chosen and budget + count > POSTINGS_BUDGET):
            break
        chosen.append((term, count))
        budget += count
    return chosen, max(documents, max((n for _, n in chosen), default=0))


def choose_terms(candidates: Iterable[str]) -> list[str]:
    return [term for term, _ in _choose(candidates)[0]]


def idf(df: int, documents: int) -> float:
    """BM25's inverse document frequency: a term in few articles says more than one in many."""
    return math.log((documents - df + 0.5) / (df + 0.5) + 1)


def _filters(
    day: date, kinds: Iterable[str] | None, exclude_kinds: Iterable[str] | None, public: bool, enterprise: bool | None
) -> tuple[str, list]:
    sql = " AND a.status = %s AND a.valid_from <= %s AND (a.valid_to IS NULL OR a.valid_to >= %s)"
    params: list = [ArticleStatus.PUBLISHED, day, day]
    if kinds:
        kinds = list(kinds)
        sql += f" AND a.kind IN ({', '.join(['%s'] * len(kinds))})"
        params += kinds
    if exclude_kinds:
        exclude_kinds = list(exclude_kinds)
        sql += f" AND a.kind NOT IN ({', '.join(['%s'] * len(exclude_kinds))})"
        params += exclude_kinds
    if public:
        sql += " AND a.is_public = %s"
        params.append(True)
    if enterprise is not None:
        sql += " AND a.is_enterprise = %s"
        params.append(enterprise)
    return sql, params


def _ranked(
    chosen: list[tuple[str, int]], documents: int, where: str, params: list, limit: int
) -> list[tuple[int, float]]:
    article = Article._meta.db_table
    if connection.vendor == "postgresql":
        # ts_rank has no notion of rarity: each term's rank (title A = 1.0, body B = 0.4, damped by the length)
        # is weighted by its idf, which bm25 does by itself on SQLite.
        weighted = " + ".join(["%s * ts_rank(d.doc, to_tsquery('simple', %s), 1)"] * len(chosen))
        sql = (
            f"SELECT a.id, {weighted} AS score FROM knowledge_searchdoc d JOIN {article} a "
            "ON a.id = d.article_id, to_tsquery('simple', %s) q "
            f"WHERE d.doc @@ q{where} ORDER BY score DESC, a.id LIMIT %s"
        )
        arguments = [x for term, df in chosen for x in (idf(df, documents), term)]
        arguments.append(" | ".join(term for term, _ in chosen))
    else:
        sql = (
            f"SELECT a.id, -bm25(knowledge_fts, {TITLE_WEIGHT}, 1.0) AS score FROM knowledge_fts "
            f"JOIN {article} a ON a.id = knowledge_fts.rowid "
            f"WHERE knowledge_fts MATCH %s{where} ORDER BY score DESC, a.id LIMIT %s"
        )
        arguments = [" OR ".join(f'"{term}"' for term, _ in chosen)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*arguments, *params, limit])
        return [(row[0], float(row[1])) for row in cursor.fetchall()]


def search(
    query: object,
    *,
    limit: int = 5,
    kinds: Iterable[str] | None = None,
    exclude_kinds: Iterable[str] | None = None,
    public: bool = False,
    enterprise: bool | None = None,
    day: date | None = None,
) -> list[Hit]:
    """The best articles in force for a free-text query, best first; [] when nothing matches."""
    text = normalize(query)[:MAX_QUERY]
    if not text.strip():
        return []
    limit = max(1, min(int(limit), 100))
    expanded, synonyms = expand(text)
    chosen, documents = _choose(terms(expanded))
    if not chosen:
        return []
    where, params = _filters(day or timezone.localdate(), kinds, exclude_kinds, public, enterprise)
    ranked = _ranked(chosen, documents, where, params, limit)
    articles = Article.objects.in_bulk([pk for pk, _ in ranked])
    words = highlight_words(text, synonyms)
    return [
        Hit(articles[pk], score, snippet(articles[pk], words, public=public), mark(articles[pk].title, words))
        for pk, score in ranked
        if pk in articles
    ]


# --- snippets ---------------------------------------------------------------------------------------------


def highlight_words(query: str, synonyms: Iterable[str] = ()) -> list[str]:
    """Words worth marking: the query's terms of two or more characters and its synonyms, longest first."""
    words = {t for t in terms(query) if len(t) >= 2} | {normalize(s) for s in synonyms}
    return sorted(words, key=len, reverse=True)


def mark(text: str, words: list[str]) -> SafeString:
    """HTML-escaped text with every occurrence of the words wrapped in <mark>."""
    if not words:
        return mark_safe(html.escape(text))  # noqa: S308 - escaped just here
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(text):
        out += [html.escape(text[last : match.start()]), f"<mark>{html.escape(match.group())}</mark>"]
        last = match.end()
    out.append(html.escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece escaped above


def plain(markdown_text: str) -> str:
    return " ".join(_MARKUP.sub(" ", markdown_text).split())


def snippet(article: Article, words: list[str], size: int = SNIPPET_CHARS, public: bool = False) -> SafeString:
    """About `size` characters of the summary and body around the place where most query words meet; for the
    public, from the part of the body they may see."""
    body = render.public_part(article.body) if public else article.body
    text = plain(f"{article.summary} {body}")
    lowered = text.lower()
    positions = sorted(m.start() for w in words for m in re.finditer(re.escape(w), lowered))
    start = 0
    if positions:
        best = max(positions, key=lambda p: sum(p <= q < p + size for q in positions))
        start = max(0, best - 15)
    piece = text[start : start + size]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + size < len(text) else ""
    return mark_safe(f"{prefix}{mark(piece, words)}{suffix}")  # noqa: S308 - mark() escapes
