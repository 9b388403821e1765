"""The life of a knowledge article: the only code that changes an article's or a revision's status.

    create ─► draft revision ─ submit ─► review ─ approve ─► published (the article's text, indexed)
                   ▲   edit                 │ reject
                   └────────────────────────┘
    edit of a published article ─► a new draft revision; the published text stays in service until approved
    withdraw ─► the article leaves search and the public pages; its versions stay as history

Editors (督办员, 管理员) write and submit; a reviewer (督办员, 管理员) other than the author approves or rejects,
except that an admin may approve their own work. Every step is atomic and leaves the index in step.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from categories.models import Category
from knowledge import search
from knowledge.models import Article, ArticleStatus, Kind, Revision, RevisionStatus
from orders.errors import Conflict, Forbidden, InvalidInput
from org.models import Unit

EDITORS = (Role.SUPERVISOR, Role.ADMIN)
REVIEWERS = (Role.SUPERVISOR, Role.ADMIN)
CONTENT_FIELDS = ("kind", "title", "summary", "body", "tags", "is_enterprise", "is_public", "valid_from", "valid_to")


@dataclass
class Draft:
    """What an editor submits for a version; validated by `clean`."""

    title: str
    summary: str
    kind: str = Kind.FAQ
    body: str = ""
    tags: str = ""
    is_enterprise: bool = False
    is_public: bool = False
    valid_from: date | None = None
    valid_to: date | None = None
    categories: list = field(default_factory=list)
    units: list = field(default_factory=list)
    note: str = ""


def can_edit(user: User | None) -> bool:
    return user is None or user.has_role(*EDITORS)


def can_review(user: User | None, revision: Revision) -> bool:
    if user is None:
        return True
    if not user.has_role(*REVIEWERS):
        return False
    return revision.author_id != user.pk or user.has_role(Role.ADMIN)


def _ids(values: list, model, name: str, label: str) -> list[int]:
    ids = sorted({getattr(v, "pk", v) for v in values or []})
    try:
        ids = [int(i) for i in ids]
    except (TypeError, ValueError):
        raise InvalidInput({name: f"{label}编号无效"}) from None
    if len(ids) != model.objects.filter(pk__in=ids).count():
        raise InvalidInput({name: f"{label}不存在"})
    return ids


def clean(draft: Draft) -> dict:
    """The revision's fields, or InvalidInput naming every wrong field."""
    errors = {}
    title, summary = (draft.title or "").strip(), (draft.summary or "").strip()
    if not title:
        errors["title"] = "请填写标题"
    elif len(title) > 200:
        errors["title"] = "标题不能超过 200 字"
    if not summary:
        errors["summary"] = "请填写答复口径"
    elif len(summary) > 2000:
        errors["summary"] = "答复口径不能超过 2000 字"
    if len(draft.body or "") > 50000:
        errors["body"] = "正文不能超过 50000 字"
    if draft.kind not in Kind.values:
        errors["kind"] = "类型无效"
    if len(draft.tags or "") > 200:
        errors["tags"] = "标签不能超过 200 字"
    valid_from = draft.valid_from or timezone.localdate()
    if draft.valid_to and draft.valid_to < valid_from:
        errors["valid_to"] = "失效日期不能早于生效日期"
    if len(draft.note or "") > 500:
        errors["note"] = "修改说明不能超过 500 字"
    if errors:
        raise InvalidInput(errors)
    return {
        "kind": draft.kind, "title": title, "summary": summary, "body": draft.body or "", "tags": draft.tags or "",
        "is_enterprise": bool(draft.is_enterprise), "is_public": bool(draft.is_public),
        "valid_from": valid_from, "valid_to": draft.valid_to,
        "category_ids": _ids(draft.categories, Category, "categories", "诉求分类"),
        "unit_ids": _ids(draft.units, Unit, "units", "单位"), "note": (draft.note or "").strip(),
    }  # fmt: skip


def _copy_to_article(revision: Revision, article: Article) -> None:
    for name in CONTENT_FIELDS:
        setattr(article, name, getattr(revision, name))
    article.save()
    article.categories.set(revision.category_ids)
    article.units.set(revision.unit_ids)


def _require_editor(user: User | None) -> None:
    if not can_edit(user):
        raise Forbidden("只有督办员或管理员可以编写知识")


def create(user: User | None, draft: Draft, *, source: str = "") -> Revision:
    """A new article with its first, draft revision; it is invisible until approved."""
    _require_editor(user)
    fields = clean(draft)
    with transaction.atomic():
        article = Article.objects.create(created_by=user, source=source[:100], **{k: fields[k] for k in CONTENT_FIELDS})
        article.categories.set(fields["category_ids"])
        article.units.set(fields["unit_ids"])
        return Revision.objects.create(article=article, number=1, author=user, **fields)


def pending(article: Article) -> Revision | None:
    return article.revisions.filter(
        status__in=(RevisionStatus.DRAFT, RevisionStatus.REVIEW, RevisionStatus.REJECTED)
    ).first()


def edit(user: User | None, article: Article, draft: Draft) -> Revision:
    """Change the article's open draft, or start a new version of a published or withdrawn article."""
    _require_editor(user)
    fields = clean(draft)
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk)
        revision = pending(article)
        if revision is not None and revision.status == RevisionStatus.REVIEW:
            raise Conflict("该条目有版本正在审核，审核完成前不能修改")
        if revision is None:
            number = (article.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
            revision = Revision(article=article, number=number)
        for name, value in fields.items():
            setattr(revision, name, value)
        revision.status, revision.author, revision.created_at = RevisionStatus.DRAFT, user, timezone.now()
        revision.save()
        if article.status == ArticleStatus.DRAFT:  # never published: the list shows the draft's title
            _copy_to_article(revision, article)
        return revision


def submit(user: User | None, revision: Revision) -> Revision:
    _require_editor(user)
    with transaction.atomic():
        updated = Revision.objects.filter(
            pk=revision.pk, status__in=(RevisionStatus.DRAFT, RevisionStatus.REJECTED)
        ).update(status=RevisionStatus.REVIEW, submitted_at=timezone.now())
        if updated != 1:
            raise Conflict("只有草稿或被退回的版本可以提交审核")
        return Revision.objects.get(pk=revision.pk)


def approve(user: User | None, revision: Revision, note: str = "") -> Article:
    """Publish the revision: it becomes the article's text (and index entry); the previous one becomes history."""
    if not can_review(user, revision):
        raise Forbidden("只有作者以外的督办员或管理员可以审核")
    now = timezone.now()
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=revision.article_id)
        if (
            Revision.objects.filter(pk=revision.pk, status=RevisionStatus.REVIEW).update(
                status=RevisionStatus.PUBLISHED, reviewer=user, reviewed_at=now, review_note=note[:500]
            )
            != 1
        ):
            raise Conflict("该版本不在待审核状态")
        article.revisions.filter(status=RevisionStatus.PUBLISHED).exclude(pk=revision.pk).update(
            status=RevisionStatus.SUPERSEDED
        )
        revision.refresh_from_db()
        article.status, article.version, article.published_at = ArticleStatus.PUBLISHED, revision.number, now
        _copy_to_article(revision, article)
        search.index(article)
        return article


def reject(user: User | None, revision: Revision, note: str) -> Revision:
    if not can_review(user, revision):
        raise Forbidden("只有作者以外的督办员或管理员可以审核")
    note = (note or "").strip()
    if not note:
        raise InvalidInput({"review_note": "退回时请填写审核意见"})
    with transaction.atomic():
        if (
            Revision.objects.filter(pk=revision.pk, status=RevisionStatus.REVIEW).update(
                status=RevisionStatus.REJECTED, reviewer=user, reviewed_at=timezone.now(), review_note=note[:500]
            )
            != 1
        ):
            raise Conflict("该版本不在待审核状态")
        return Revision.objects.get(pk=revision.pk)


def withdraw(user: User | None, article: Article) -> Article:
    """下线: out of search and the public pages at once; its history and the orders citing it stay."""
    if user is not None and not user.has_role(*REVIEWERS):
        raise Forbidden("只有督办员或管理员可以下线知识")
    with transaction.atomic():
        if (
            Article.objects.filter(pk=article.pk, status=ArticleStatus.PUBLISHED).update(status=ArticleStatus.WITHDRAWN)
            != 1
        ):
            raise Conflict("只有已发布的条目可以下线")
        article.refresh_from_db()
        search.unindex(article)
        return article


def publish(user: User | None, draft: Draft, *, source: str = "") -> Article:
    """Create, submit and approve in one step: for seed content and imports, by an admin or the system."""
    with transaction.atomic():
        revision = submit(user, create(user, draft, source=source))
        return approve(user, revision, note="导入")


def import_published(user: User | None, items: list[tuple[Draft, str]]) -> int:
    """Publish many new articles at once, each as version 1 approved by ``user`` (seed content, migrations of an
    old knowledge base). Every draft is validated like an editor's; one bad item stops the whole import."""
    _require_editor(user)
    now = timezone.now()
    prepared = []
    for number, (draft, source) in enumerate(items, 1):
        try:
            prepared.append((clean(draft), source[:100]))
        except InvalidInput as exc:
            raise InvalidInput({f"第 {number} 条 {field}": message for field, message in exc.errors.items()}) from exc
    with transaction.atomic():
        articles = Article.objects.bulk_create(
            [
                Article(
                    status=ArticleStatus.PUBLISHED, version=1, source=source, created_by=user, created_at=now,
                    published_at=now, **{k: fields[k] for k in CONTENT_FIELDS},
                )
                for fields, source in prepared
            ],
            batch_size=500,
        )  # fmt: skip
        Revision.objects.bulk_create(
            [
                Revision(
                    article=article, number=1, status=RevisionStatus.PUBLISHED, author=user, reviewer=user,
                    submitted_at=now, reviewed_at=now, review_note="导入", **fields,
                )
                for article, (fields, _) in zip(articles, prepared, strict=True)
            ],
            batch_size=500,
        )  # fmt: skip
        Article.categories.through.objects.bulk_create(
            [
                Article.categories.through(article_id=article.pk, category_id=category)
                for article, (fields, _) in zip(articles, prepared, strict=True)
                for category in fields["category_ids"]
            ]
        )
        Article.units.through.objects.bulk_create(
            [
                Article.units.through(article_id=article.pk, unit_id=unit)
                for article, (fields, _) in zip(articles, prepared, strict=True)
                for unit in fields["unit_ids"]
            ]
        )
        search.index_many(articles)
    return len(articles)
