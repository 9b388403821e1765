from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from hotline.api import ErrorOut, Pagination
from org.models import UnitKind

router = Router(tags=["组织机构"])


class UnitOut(Schema):
    code: str
    name: str
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    parent_code: str | None = Field(None, alias="parent.code")
    area: str
    contact_person: str
    contact_phone: str
    is_active: bool
    depth: int


@router.get("", response=list[UnitOut], summary="可见的承办单位列表")
@paginate(Pagination)
def list_units(request, kind: UnitKind | None = None, q: str = Query("", max_length=50), active: bool = True):
    units = request.auth.visible_units.select_related("parent")
    if kind:
        units = units.filter(kind=kind)
    if q:
        units = units.filter(name__icontains=q)
    if active:
        units = units.filter(is_active=True)
    return units


@router.get("/{code}", response={200: UnitOut, 404: ErrorOut}, summary="承办单位详情")
def get_unit(request, code: str):
    return get_object_or_404(request.auth.visible_units.select_related("parent"), code=code)
