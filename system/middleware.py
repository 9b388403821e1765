"""While the database is unreachable (a restart, a failover), requests get 503 with Retry-After and a clear
message, not a server error page: nothing was written, and the same request can simply be sent again (the
intake API deduplicates by Idempotency-Key)."""

from django.db.utils import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

from hotline.error_codes import ErrorCode

MESSAGE = "数据库暂时无法连接，本次操作未保存，请稍后重试"
RETRY_AFTER = "5"


def unavailable(request) -> HttpResponse:
    if request.path.startswith("/api/") or request.path.startswith("/open311/"):
        response = JsonResponse({"code": ErrorCode.UNAVAILABLE, "message": MESSAGE, "errors": []}, status=503)
    else:
        response = HttpResponse(
            f"<!doctype html><meta charset=utf-8><title>暂时无法服务</title><h1>暂时无法服务</h1><p>{MESSAGE}</p>",
            status=503,
        )
    response["Retry-After"] = RETRY_AFTER
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError) or (
            isinstance(exception, DatabaseError) and "connection" in str(exception).lower()
        ):
            return unavailable(request)
        return None
