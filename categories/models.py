"""诉求分类 (the three-level category tree) and 诉求类型 (request types)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from org.models import Unit

MAX_LEVEL = 3


class CategoryQuerySet(models.QuerySet):
    def leaves(self) -> "CategoryQuerySet":
        return self.filter(level=MAX_LEVEL)

    def active(self) -> "CategoryQuerySet":
        return self.filter(is_active=True)


class Category(models.Model):
    name = models.CharField(_("分类名称"), max_length=50)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级分类"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.PositiveSmallIntegerField(_("层级"), editable=False, default=1)
    full_name = models.CharField(_("完整名称"), max_length=200, editable=False, default="")
    default_unit = models.ForeignKey(
        Unit,
        verbose_name=_("默认承办单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="default_categories",
    )
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("诉求分类")
        verbose_name_plural = _("诉求分类")
        ordering = ["full_name"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name_per_parent")]
        indexes = [models.Index(fields=["level", "is_active"])]

    def __str__(self) -> str:
        return self.full_name or self.name

    def clean(self) -> None:
        if "›" in self.name:
            raise ValidationError({"name": _("分类名称不能包含“›”。")})
        if self.parent_id and self.parent.level >= MAX_LEVEL:
            raise ValidationError({"parent": _("分类最多三级，三级分类下不能再建下级。")})
        if self.pk and self.parent_id and self._is_own_ancestor(self.parent):
            raise ValidationError({"parent": _("不能把分类移到它自己或它的下级之下。")})

    def _is_own_ancestor(self, candidate: "Category") -> bool:
        node: Category | None = candidate
        while node is not None:
            if node.pk == self.pk:
                return True
            node = node.parent
        return False

    def save(self, *args, **kwargs) -> None:
        self.level = self.parent.level + 1 if self.parent_id else 1
        self.full_name = f"{self.parent.full_name} › {self.name}" if self.parent_id else self.name
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            return  # a new node has no children to rename
        for child in self.children.all():
            if child.full_name != f"{self.full_name} › {child.name}":
                child.save()

    @property
    def is_leaf(self) -> bool:
        return self.level == MAX_LEVEL

    def lineage_ids(self) -> list[int]:
        """This category's id and its ancestors', nearest first: at most one query, the tree has three levels."""
        ids = [self.pk]
        if self.parent_id is not None:
            ids.append(self.parent_id)
            if self.level >= MAX_LEVEL:
                grand = Category.objects.filter(pk=self.parent_id).values_list("parent_id", flat=True).first()
                if grand is not None:
                    ids.append(grand)
        return ids


class RequestType(models.Model):
    """咨询/求助/投诉/举报/建议/表扬/其他: editable, the code is what rules and reports refer to."""

    code = models.SlugField(_("类型编码"), max_length=20, unique=True)
    name = models.CharField(_("类型名称"), max_length=20, unique=True)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("诉求类型")
        verbose_name_plural = _("诉求类型")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name
