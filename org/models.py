"""承办单位: the tree of units that receive and handle work orders."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    CITY = "city", _("市")
    DISTRICT = "district", _("区/县")
    STREET = "street", _("街道/乡镇")
    COMMUNITY = "community", _("社区/村")
    DEPARTMENT = "department", _("职能部门")
    UTILITY = "utility", _("公共服务企业")
    CENTER = "center", _("热线中心")


# Which kinds of unit may hang under which: the administrative tree 市 › 区/县 › 街道/乡镇 › 社区/村,
# departments under the city or a district, utilities and the hotline centre under the city.
ALLOWED_PARENTS: dict[str, set[str | None]] = {
    UnitKind.CITY: {None},
    UnitKind.DISTRICT: {UnitKind.CITY},
    UnitKind.STREET: {UnitKind.DISTRICT},
    UnitKind.COMMUNITY: {UnitKind.STREET},
    UnitKind.DEPARTMENT: {UnitKind.CITY, UnitKind.DISTRICT, UnitKind.DEPARTMENT},
    UnitKind.UTILITY: {UnitKind.CITY, UnitKind.UTILITY},
    UnitKind.CENTER: {UnitKind.CITY},
}

code_validator = RegexValidator(r"^[A-Za-z0-9_-]{1,32}$", _("编码只能包含字母、数字、下划线和连字符，最长 32 位。"))


class UnitQuerySet(models.QuerySet):
    def active(self) -> "UnitQuerySet":
        return self.filter(is_active=True)

    def subtree_of(self, unit: "Unit") -> "UnitQuerySet":
        """The unit itself and every unit below it."""
        return self.filter(path__startswith=unit.path)


class Unit(models.Model):
    code = models.CharField(_("单位编码"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("单位名称"), max_length=100)
    kind = models.CharField(_("单位类型"), max_length=16, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    area = models.CharField(_("辖区"), max_length=100, blank=True, help_text=_("单位负责的行政区域，如“A市A1区”。"))
    contact_person = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    # Materialised path of primary keys ("/1/4/17/"), kept by save(): subtree queries are one LIKE.
    path = models.CharField(_("路径"), max_length=255, editable=False, db_index=True, default="")
    depth = models.PositiveSmallIntegerField(_("层级"), editable=False, default=0)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("承办单位")
        verbose_name_plural = _("承办单位")
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="unit_unique_name_per_parent")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not self.kind:
            return  # the missing kind is the field's own error; which parent fits depends on it
        parent_kind = self.parent.kind if self.parent_id else None
        allowed = ALLOWED_PARENTS.get(self.kind, set())
        if parent_kind not in allowed:
            if parent_kind is None:
                raise ValidationError(
                    {"parent": _("“%(kind)s”类单位必须有上级单位。") % {"kind": self.get_kind_display()}}
                )
            raise ValidationError(
                {
                    "parent": _("“%(kind)s”不能隶属于“%(parent)s”。")
                    % {"kind": self.get_kind_display(), "parent": self.parent.get_kind_display()}
                }
            )
        if self.pk and self.parent_id and self.parent.path.startswith(self.path):
            raise ValidationError({"parent": _("不能把单位移到它自己或它的下级单位之下。")})

    @transaction.atomic
    def save(self, *args, **kwargs) -> None:
        old_path = self.path
        if not self.pk:
            super().save(*args, **kwargs)
            kwargs = {}
        self.path = f"{self.parent.path if self.parent_id else '/'}{self.pk}/"
        self.depth = self.path.count("/") - 2
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            self._move_descendants(old_path)

    def _move_descendants(self, old_path: str) -> None:
        for unit in Unit.objects.filter(path__startswith=old_path).exclude(pk=self.pk):
            unit.path = self.path + unit.path[len(old_path) :]
            unit.depth = unit.path.count("/") - 2
            Unit.objects.filter(pk=unit.pk).update(path=unit.path, depth=unit.depth)

    def ancestors(self) -> list["Unit"]:
        ids = [int(p) for p in self.path.strip("/").split("/")[:-1] if p]
        by_id = Unit.objects.in_bulk(ids)
        return [by_id[i] for i in ids if i in by_id]

    def subtree(self) -> UnitQuerySet:
        return Unit.objects.subtree_of(self)

    @property
    def full_name(self) -> str:
        return " › ".join([u.name for u in self.ancestors()] + [self.name])
