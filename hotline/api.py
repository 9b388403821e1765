"""The REST API (django-ninja): one NinjaAPI, one router per app, errors as {code, message}."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import django_auth

from accounts.tokens import TokenAuth
from hotline.error_codes import ErrorCode
from orders.errors import TransitionError

api = NinjaAPI(
    title="12345 政务服务便民热线 API",
    version="1.0",
    description="工单、组织机构、诉求分类和工作日历的接口。错误统一返回 {code, message}。",
    auth=[TokenAuth(), django_auth],
    urls_namespace="api",
)


class ApiError(Exception):
    def __init__(self, status: int, code: ErrorCode, message: str, **extra) -> None:
        self.status, self.code, self.message, self.extra = status, code, message, extra
        super().__init__(message)


def error(request, status: int, code: ErrorCode, message: str, **extra):
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return error(request, exc.status, exc.code, exc.message, **exc.extra)


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


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    codes = {
        401: ErrorCode.UNAUTHENTICATED,
        403: ErrorCode.FORBIDDEN,
        404: ErrorCode.NOT_FOUND,
        409: ErrorCode.CONFLICT,
    }
    return error(request, exc.status_code, codes.get(exc.status_code, ErrorCode.INVALID), str(exc))


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
