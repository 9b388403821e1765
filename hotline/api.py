"""The REST API (django-ninja): one NinjaAPI, one router per app, errors as {code, message, errors}.

Each endpoint declares the errors that are its own (404 for a missing object, 409 for a state that
forbids the action). The errors every endpoint can give, because the API object itself raises them,
are declared here once: 401 and 403 (no valid credentials, or a token or role that may not do this),
400 for a body that is not JSON and 422 for input that does not fit the declared types.
"""

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.utils import InterfaceError, OperationalError
from django.http import Http404
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.files import UploadedFile
from ninja.openapi.schema import REF_TEMPLATE, OpenAPISchema
from ninja.pagination import LimitOffsetPagination
from ninja.security import django_auth
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as ResponseValidationError

from accounts.tokens import TokenAuth
from hotline.error_codes import ErrorCode
from orders.errors import TransitionError


class ErrorItemOut(Schema):
    field: str = Field(description="出错的参数名；空表示整个请求")
    message: str


class ErrorOut(Schema):
    """Every refusal has this shape; nothing else is added, so clients can rely on it."""

    model_config = ConfigDict(extra="forbid")

    code: ErrorCode = Field(description="稳定的错误码，供程序判断")
    message: str = Field(description="给人看的说明")
    errors: list[ErrorItemOut] = Field([], description="逐个参数的错误（参数有误时）")


ERROR_DESCRIPTIONS = {
    400: "请求体不是有效的 JSON",
    401: "未登录或令牌无效",
    403: "当前用户或令牌无权执行此操作",
    422: "参数有误",
}


class HotlineAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None) -> OpenAPISchema:
        """ninja's document plus the errors the API object raises for every operation (see the module docstring)."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        definition = ErrorOut.model_json_schema(ref_template=REF_TEMPLATE, mode="serialization")
        schema["components"]["schemas"].update(definition.pop("$defs", {}), ErrorOut=definition)
        for path in schema["paths"].values():
            for operation in path.values():
                statuses = []
                if operation.get("security"):
                    statuses += [401, 403]
                if "requestBody" in operation:
                    statuses.append(400)
                if operation["parameters"] or "requestBody" in operation:
                    statuses.append(422)
                for status in statuses:
                    operation["responses"].setdefault(status, _error_response(ERROR_DESCRIPTIONS[status]))
        return schema


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF_TEMPLATE.format(model="ErrorOut")}}},
    }


api = HotlineAPI(
    title="12345 政务服务便民热线 API",
    version="1.0",
    description="工单、组织机构、诉求分类和工作日历的接口。错误统一返回 {code, message, errors}。",
    auth=[TokenAuth(), django_auth],
    urls_namespace="api",
)


class ApiError(Exception):
    """A refusal an endpoint raises itself; ``field`` names the parameter at fault, if one is."""

    def __init__(self, status: int, code: ErrorCode, message: str, field: str | None = None) -> None:
        self.status, self.code, self.message, self.field = status, code, message, field
        super().__init__(message)


def error(request, status: int, code: ErrorCode, message: str, errors: list[dict] | None = None):
    body = {"code": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return api.create_response(request, body, status=status)


# Text no database here can store: PostgreSQL refuses U+0000, and a lone surrogate (what JSON's "\ud800"
# escape gives) cannot be encoded for either database.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(value: Any, name: str) -> str | None:
    """The dotted name of the first text inside ``value`` that holds an unstorable character, else None."""
    if isinstance(value, str):
        return name if UNSTORABLE.search(value) else None
    if isinstance(value, UploadedFile):
        return _unstorable(value.name or "", name)
    if isinstance(value, BaseModel):
        items = [(f"{name}.{key}" if name else key, item) for key, item in value]
    elif isinstance(value, list | tuple):
        items = [(f"{name}.{i}", item) for i, item in enumerate(value)]
    else:
        return None
    return next((found for key, item in items if (found := _unstorable(item, key))), None)


def refuse_unstorable_text(view: Callable) -> Callable:
    """Refuse with 422, naming the field, any input text the database would reject with a server error.

    Applied to every operation after ninja has parsed its parameters, so no endpoint has to remember it.
    A body or query model is searched by its own field names, as validation errors name them.
    """

    @wraps(view)
    def checked(request, *args, **kwargs):
        for name, value in kwargs.items():
            if field := _unstorable(value, "" if isinstance(value, BaseModel) else name):
                raise ApiError(422, ErrorCode.INVALID, f"{field} 含有无法保存的字符（空字符或不成对的代理字符）", field)
        return view(request, *args, **kwargs)

    return checked


api.add_decorator(refuse_unstorable_text)


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    errors = [{"field": exc.field, "message": exc.message}] if exc.field else None
    return error(request, exc.status, exc.code, exc.message, errors=errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return error(request, 401, ErrorCode.UNAUTHENTICATED, "请先登录")


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return error(request, 403, ErrorCode.FORBIDDEN, str(exc) or "无权执行此操作")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error(request, 404, ErrorCode.NOT_FOUND, "对象不存在或无权查看")


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    fields = []
    for item in exc.errors:
        loc = [str(p) for p in item.get("loc", []) if p not in ("body", "query", "path", "payload")]
        fields.append({"field": ".".join(loc), "message": item.get("msg", "")})
    names = "、".join(f["field"] for f in fields if f["field"]) or "请求"
    return error(request, 422, ErrorCode.INVALID, f"参数有误：{names}", errors=fields)


@api.exception_handler(TransitionError)
def _transition_error(request, exc: TransitionError):
    errors = [{"field": field, "message": message} for field, message in exc.errors.items()]
    return error(request, exc.status, exc.code, exc.message, errors=errors)


def _database_unavailable(request):
    from system.middleware import MESSAGE, RETRY_AFTER

    response = error(request, 503, ErrorCode.UNAVAILABLE, MESSAGE)
    response["Retry-After"] = RETRY_AFTER
    return response


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _unavailable(request, exc):
    return _database_unavailable(request)


@api.exception_handler(ResponseValidationError)
def _response_unreadable(request, exc: ResponseValidationError):
    """The answer could not be read from the database (it went away after the change was committed): 503, and
    the client's retry with the same Idempotency-Key gets the order. Any other such error is a bug: 500."""
    lost = ("OperationalError", "InterfaceError")
    if any(e["type"] == "get_attribute_error" and str(e.get("ctx", {}).get("error", "")).startswith(lost)
           for e in exc.errors()):  # fmt: skip
        return _database_unavailable(request)
    raise exc


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    codes = {
        401: ErrorCode.UNAUTHENTICATED,
        403: ErrorCode.FORBIDDEN,
        404: ErrorCode.NOT_FOUND,
        409: ErrorCode.CONFLICT,
    }
    return error(request, exc.status_code, codes.get(exc.status_code, ErrorCode.INVALID), str(exc))


class Pagination(LimitOffsetPagination):
    """ninja's ``limit``/``offset`` pages, bounded: an enormous number is refused (422) instead of reaching the
    database, where it overflows a 64-bit integer."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=1000, description="每页条数，1–1000")
        offset: int = Field(0, ge=0, le=1_000_000_000, description="跳过的条数")


def require_roles(request, *roles: str) -> None:
    """Raise 403 unless the authenticated user has one of ``roles``."""
    if not request.auth.has_role(*roles):
        raise PermissionDenied("当前角色无权执行此操作")


def register_routers() -> None:
    from accounts.api import router as accounts_router
    from calls.api import router as calls_router
    from categories.api import router as categories_router
    from knowledge.api import router as knowledge_router
    from orders.api import router as orders_router
    from org.api import router as org_router
    from sharing.api import router as sharing_router
    from workcalendar.api import router as calendar_router

    api.add_router("/me", accounts_router)
    api.add_router("/units", org_router)
    api.add_router("/categories", categories_router)
    api.add_router("/calendar", calendar_router)
    api.add_router("/orders", orders_router)
    api.add_router("/calls", calls_router)
    api.add_router("/knowledge", knowledge_router)
    api.add_router("/events", sharing_router)


register_routers()
