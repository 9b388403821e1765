"""知识库 API: full-text search and reading articles in force (for staff and connected systems)."""

from datetime import date

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from hotline.api import ErrorOut
from knowledge import search
from knowledge.models import Article, Kind

router = Router(tags=["知识库"])


class ArticleOut(Schema):
    id: int
    kind: str
    title: str
    summary: str
    body: str
    tags: str
    is_enterprise: bool
    is_public: bool
    version: int
    valid_from: date
    valid_to: date | None


class HitOut(Schema):
    id: int
    kind: str
    title: str
    summary: str
    score: float
    snippet: str


@router.get(
    "/search",
    response=list[HitOut],
    summary="全文检索现行知识（中文分词、同义词、相关度排序，片段中 <mark> 标出命中词）",
)
def search_articles(
    request,
    q: str = Query(..., max_length=1000, description="问题或关键词"),
    kind: Kind | None = None,
    enterprise: bool | None = None,
    limit: int = Query(10, ge=1, le=50),
):
    hits = search.search(q, limit=limit, kinds=[kind] if kind else None, enterprise=enterprise)
    return [
        {"id": h.article.pk, "kind": h.article.kind, "title": h.article.title, "summary": h.article.summary,
         "score": h.score, "snippet": str(h.snippet)}
        for h in hits
    ]  # fmt: skip


@router.get("/articles/{article_id}", response={200: ArticleOut, 404: ErrorOut}, summary="现行知识条目")
def get_article(request, article_id: int):
    return get_object_or_404(Article.objects.in_force(), pk=article_id)
