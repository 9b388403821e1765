"""The knowledge base (知识库): articles, their numbered versions, synonyms for search, and the search index.

An article's own fields hold its *published* content, the one operators and citizens see; every edit is a
`Revision` that goes draft → review → published, so the published text stays in service while a new version is
written and reviewed. Only `knowledge.workflow` changes an article's or a revision's status.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    DUTY = "duty", _("部门职责")
    GUIDE = "guide", _("办事指南")
    POLICY = "policy", _("政策解读")
    FAQ = "faq", _("常见问答")
    CASE = "case", _("案例")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("未发布")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已下线")


class RevisionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    REVIEW = "review", _("待审核")
    REJECTED = "rejected", _("已退回")
    PUBLISHED = "published", _("现行版本")
    SUPERSEDED = "superseded", _("历史版本")


class Content(models.Model):
    """What an article says and to whom it applies; shared by the article and each of its revisions."""

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.FAQ)
    title = models.CharField(_("标题"), max_length=200)
    summary = models.TextField(_("答复口径"), max_length=2000, help_text=_("话务员可直接答复来电人的标准口径"))
    body = models.TextField(_("正文（Markdown）"), max_length=50000, blank=True)
    tags = models.CharField(_("标签"), max_length=200, blank=True, help_text=_("以逗号分隔"))
    is_enterprise = models.BooleanField(_("涉企知识"), default=False)
    is_public = models.BooleanField(_("对公众公开"), default=False)
    valid_from = models.DateField(_("生效日期"), default=timezone.localdate)
    valid_to = models.DateField(_("失效日期"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.replace("，", ",").split(",") if t.strip()]


class ArticleQuerySet(models.QuerySet):
    def in_force(self, day=None) -> "ArticleQuerySet":
        """Published and valid on ``day`` (today by default): what operators and the public may see."""
        day = day or timezone.localdate()
        return self.filter(status=ArticleStatus.PUBLISHED, valid_from__lte=day).filter(
            models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=day)
        )


class Article(Content):
    status = models.CharField(_("状态"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    version = models.PositiveIntegerField(_("现行版本号"), default=0)
    categories = models.ManyToManyField("categories.Category", blank=True, verbose_name=_("诉求分类"))
    units = models.ManyToManyField("org.Unit", blank=True, verbose_name=_("相关单位"))
    source = models.CharField(_("来源"), max_length=100, blank=True, help_text=_("案例的原始留言编号等"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("创建人")
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        verbose_name = _("知识条目")
        verbose_name_plural = _("知识条目")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["status", "kind"])]

    def __str__(self) -> str:
        return self.title

    def is_in_force(self, day=None) -> bool:
        day = day or timezone.localdate()
        return (
            self.status == ArticleStatus.PUBLISHED
            and self.valid_from <= day
            and (self.valid_to is None or self.valid_to >= day)
        )

    @property
    def is_expired(self) -> bool:
        return self.valid_to is not None and self.valid_to < timezone.localdate()


class Revision(Content):
    """One numbered version of an article: a proposal until published, history afterwards; never deleted."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("条目"))
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(_("状态"), max_length=10, choices=RevisionStatus.choices, default=RevisionStatus.DRAFT)
    category_ids = models.JSONField(_("诉求分类"), default=list, blank=True)
    unit_ids = models.JSONField(_("相关单位"), default=list, blank=True)
    note = models.CharField(_("修改说明"), max_length=500, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("编写人")
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    submitted_at = models.DateTimeField(_("提交审核时间"), null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("审核人")
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.CharField(_("审核意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("知识版本")
        verbose_name_plural = _("知识版本")
        ordering = ["article", "-number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="knowledge_revision_unique_number")]

    def __str__(self) -> str:
        return f"{self.title}（第 {self.number} 版）"

    @property
    def is_pending(self) -> bool:
        return self.status in (RevisionStatus.DRAFT, RevisionStatus.REVIEW, RevisionStatus.REJECTED)


class Synonym(models.Model):
    """Words that mean the same for search (物业费 = 物业管理费); a query with one also finds the others."""

    words = models.CharField(_("同义词组"), max_length=300, unique=True, help_text=_("以空格或逗号分隔的同义词"))

    class Meta:
        verbose_name = _("同义词")
        verbose_name_plural = _("同义词")
        ordering = ["words"]

    def __str__(self) -> str:
        return self.words

    @property
    def word_list(self) -> list[str]:
        return [w for w in self.words.replace("，", ",").replace(",", " ").split() if w]


class SearchDoc(models.Model):
    """The segmented text of one article in force, the input of the database's full-text index.

    On SQLite an FTS5 table reads from this one through triggers; on PostgreSQL a generated tsvector column with
    a GIN index lives on it (both made by migration 0002). Managed by `knowledge.search` only.
    """

    article = models.OneToOneField(Article, primary_key=True, on_delete=models.CASCADE, related_name="+")
    title_terms = models.TextField()
    body_terms = models.TextField()

    class Meta:
        verbose_name = _("检索文档")
        verbose_name_plural = _("检索文档")


class SearchTerm(models.Model):
    """How many indexed articles contain a term: lets a query skip terms that would match half the base."""

    term = models.CharField(max_length=100, primary_key=True)
    df = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("检索词频")
        verbose_name_plural = _("检索词频")
