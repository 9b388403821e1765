from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from categories.models import Category, RequestType
from hotline.api import Pagination

router = Router(tags=["诉求分类"])


class CategoryOut(Schema):
    id: int
    name: str
    full_name: str
    level: int
    parent_id: int | None
    default_unit_code: str | None = Field(None, alias="default_unit.code")


class RequestTypeOut(Schema):
    code: str
    name: str


@router.get("", response=list[CategoryOut], summary="诉求分类（可按层级、上级、关键词筛选）")
@paginate(Pagination)
def list_categories(
    request,
    level: int | None = Query(None, ge=1, le=3),
    parent_id: int | None = None,
    q: str = Query("", max_length=50),
):
    categories = Category.objects.active().select_related("default_unit")
    if level:
        categories = categories.filter(level=level)
    if parent_id:
        categories = categories.filter(parent_id=parent_id)
    if q:
        categories = categories.filter(full_name__icontains=q)
    return categories


@router.get("/types", response=list[RequestTypeOut], summary="诉求类型")
def list_types(request):
    return RequestType.objects.filter(is_active=True)
