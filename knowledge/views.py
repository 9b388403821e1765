"""知识库 pages for staff (search, read, write, review, usage) and the public 常见问答 pages."""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.permissions import role_required
from analytics.indicators import direct_answer_rates
from knowledge import render as markup
from knowledge import search, workflow
from knowledge.forms import ArticleForm, ReviewForm
from knowledge.models import Article, ArticleStatus, Kind, Revision, RevisionStatus
from orders.errors import TransitionError
from orders.forms import apply_errors

PAGE = 20
STATUS_FILTERS = {
    "": ("现行有效", lambda qs: qs.in_force()),
    "pending": ("待审核", lambda qs: qs.filter(revisions__status=RevisionStatus.REVIEW).distinct()),
    "draft": ("未发布", lambda qs: qs.filter(status=ArticleStatus.DRAFT)),
    "expired": ("已过期", lambda qs: qs.filter(status=ArticleStatus.PUBLISHED, valid_to__lt=timezone.localdate())),
    "withdrawn": ("已下线", lambda qs: qs.filter(status=ArticleStatus.WITHDRAWN)),
    "all": ("全部", lambda qs: qs),
}


def _kind(value: str) -> str:
    return value if value in Kind.values else ""


@role_required()
def index(request):
    """Search the articles in force, or browse them (editors also drafts, expired and withdrawn ones)."""
    q = request.GET.get("q", "")[:200]
    kind = _kind(request.GET.get("kind", ""))
    status = request.GET.get("status", "")
    editor = workflow.can_edit(request.user)
    if status not in STATUS_FILTERS or (status and not editor):
        status = ""
    context = {
        "title": "知识库", "q": q, "kind": kind, "status": status, "kinds": Kind.choices, "editor": editor,
        "statuses": [(k, label) for k, (label, _) in STATUS_FILTERS.items()],
    }  # fmt: skip
    if q.strip() and not status:
        context["hits"] = search.search(q, limit=30, kinds=[kind] if kind else None)
    else:
        articles = STATUS_FILTERS[status][1](Article.objects.all())
        if kind:
            articles = articles.filter(kind=kind)
        if q.strip():
            articles = articles.filter(Q(title__icontains=q.strip()) | Q(tags__icontains=q.strip()))
        page = Paginator(articles.order_by("-published_at", "-id"), PAGE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context.update(page=page, articles=page.object_list, query=query.urlencode())
    return render(request, "knowledge/index.html", context)


def _article(request, pk: int) -> Article:
    """Anyone on staff reads articles in force; drafts, expired and withdrawn ones only editors."""
    article = get_object_or_404(Article, pk=pk)
    if not article.is_in_force() and not workflow.can_edit(request.user):
        raise Http404
    return article


@role_required()
def detail(request, pk: int):
    article = _article(request, pk)
    pending = workflow.pending(article)
    context = {
        "title": article.title,
        "article": article,
        "body": markup.to_html(article.body),
        # a past case's 答复口径 is usually its reply, already printed in full under 答复: not twice
        "show_summary": article.summary.strip() not in article.body,
        "steps": markup.steps(article.body) if article.kind == Kind.GUIDE else [],
        "pending": pending,
        "revisions": article.revisions.select_related("author", "reviewer"),
        "uses": article.direct_answers.count(),
        "editor": workflow.can_edit(request.user),
        "can_review": pending is not None
        and pending.status == RevisionStatus.REVIEW
        and workflow.can_review(request.user, pending),
        "review_form": ReviewForm(),
    }
    return render(request, "knowledge/detail.html", context)


@role_required()
def revision(request, pk: int, number: int):
    article = _article(request, pk)
    if not workflow.can_edit(request.user):
        raise Http404
    version = get_object_or_404(Revision, article=article, number=number)
    context = {
        "title": f"{version.title}（第 {version.number} 版）",
        "article": article,
        "version": version,
        "body": markup.to_html(version.body),
    }
    return render(request, "knowledge/revision.html", context)


def _save(request, form: ArticleForm, article: Article | None):
    try:
        if article is None:
            revision = workflow.create(request.user, form.draft())
        else:
            revision = workflow.edit(request.user, article, form.draft())
        if "submit" in request.POST:
            workflow.submit(request.user, revision)
            messages.success(request, f"已保存第 {revision.number} 版并提交审核")
        else:
            messages.success(request, f"已保存第 {revision.number} 版草稿")
        return redirect("knowledge:detail", revision.article_id)
    except TransitionError as exc:
        apply_errors(form, exc)
    return None


@role_required(*workflow.EDITORS)
def create(request):
    form = ArticleForm(request.POST or None, initial={"valid_from": timezone.localdate()})
    if request.method == "POST" and form.is_valid() and (response := _save(request, form, None)):
        return response
    return render(request, "knowledge/edit.html", {"title": "新建知识", "form": form})


@role_required(*workflow.EDITORS)
def edit(request, pk: int):
    article = get_object_or_404(Article, pk=pk)
    pending = workflow.pending(article)
    initial = ArticleForm.initial_from(pending or article)
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and (response := _save(request, form, article)):
        return response
    context = {"title": f"修改：{article.title}", "form": form, "article": article, "pending": pending}
    return render(request, "knowledge/edit.html", context)


def _act(request, action, *args, success: str):
    try:
        action(request.user, *args)
        messages.success(request, success)
    except TransitionError as exc:
        messages.error(request, exc.text)


@role_required(*workflow.EDITORS)
@require_POST
def submit(request, pk: int):
    article = get_object_or_404(Article, pk=pk)
    revision = workflow.pending(article)
    if revision is None:
        messages.error(request, "没有可提交的草稿")
    else:
        _act(request, workflow.submit, revision, success="已提交审核")
    return redirect("knowledge:detail", pk)


@role_required(*workflow.REVIEWERS)
@require_POST
def review(request, pk: int):
    article = get_object_or_404(Article, pk=pk)
    revision = workflow.pending(article)
    form = ReviewForm(request.POST)
    if revision is None or not form.is_valid():
        messages.error(request, "没有待审核的版本，或审核结果无效")
    elif form.cleaned_data["decision"] == "approve":
        note = form.cleaned_data["review_note"]
        _act(request, workflow.approve, revision, note, success=f"第 {revision.number} 版已发布")
    else:
        _act(request, workflow.reject, revision, form.cleaned_data["review_note"], success="已退回修改")
    return redirect("knowledge:detail", pk)


@role_required(*workflow.REVIEWERS)
@require_POST
def withdraw(request, pk: int):
    article = get_object_or_404(Article, pk=pk)
    _act(request, workflow.withdraw, article, success="已下线；历史版本和引用记录保留")
    return redirect("knowledge:detail", pk)


@role_required(*workflow.REVIEWERS)
def reviews(request):
    pending = Revision.objects.filter(status=RevisionStatus.REVIEW).select_related("article", "author")
    page = Paginator(pending.order_by("submitted_at"), PAGE).get_page(request.GET.get("page"))
    context = {"title": "待审核知识", "page": page, "revisions": page.object_list, "query": ""}
    return render(request, "knowledge/reviews.html", context)


def _period(request) -> tuple[datetime, datetime, int]:
    try:
        days = max(1, min(int(request.GET.get("days", 30)), 3660))
    except ValueError:
        days = 30
    end = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=1), time.min))
    return end - timedelta(days=days), end, days


@role_required(*workflow.EDITORS, "leader")
def usage(request):
    """直办率 per request type, citations per article, and articles nobody has answered from."""
    start, end, days = _period(request)
    rates = direct_answer_rates(timezone.localtime(start).date(), timezone.localtime(end).date())
    cited = (
        Article.objects.filter(direct_answers__received_at__gte=start, direct_answers__received_at__lt=end)
        .annotate(uses=Count("direct_answers"), last_used=Max("direct_answers__replied_at"))
        .order_by("-uses", "title")
    )
    total = sum(r.direct for r in rates)
    never = (
        Article.objects.in_force()
        .exclude(kind=Kind.CASE)
        .filter(direct_answers__isnull=True)
        .order_by("published_at", "id")
    )
    page = Paginator(never, PAGE).get_page(request.GET.get("page"))
    context = {
        "title": "知识使用情况", "days": days, "rates": rates, "cited": cited[:50], "total_direct": total,
        "page": page, "never": page.object_list, "query": f"days={days}",
    }  # fmt: skip
    return render(request, "knowledge/usage.html", context)


# --- public 常见问答 -----------------------------------------------------------------------------------------

PUBLIC_KINDS = (Kind.FAQ, Kind.GUIDE, Kind.POLICY, Kind.DUTY)


def faq(request):
    """The public FAQ: searchable, only public articles in force, no internal notes."""
    q = request.GET.get("q", "")[:200]
    context = {"title": "常见问答", "q": q}
    if q.strip():
        context["hits"] = search.search(q, limit=20, kinds=PUBLIC_KINDS, public=True)
    else:
        articles = Article.objects.in_force().filter(is_public=True, kind__in=PUBLIC_KINDS).order_by("kind", "title")
        page = Paginator(articles, PAGE).get_page(request.GET.get("page"))
        context.update(page=page, articles=page.object_list, query="")
    return render(request, "knowledge/faq.html", context)


def faq_detail(request, pk: int):
    article = get_object_or_404(Article.objects.in_force(), pk=pk, is_public=True, kind__in=PUBLIC_KINDS)
    body = markup.public_part(article.body)
    context = {
        "title": article.title,
        "article": article,
        "body": markup.to_html(body),
        "steps": markup.steps(body) if article.kind == Kind.GUIDE else [],
    }
    return render(request, "knowledge/faq_detail.html", context)
