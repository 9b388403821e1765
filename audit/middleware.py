"""Every request that may change something (POST, PUT, PATCH, DELETE) leaves an audit entry: who, from where,
which address and order, and how it ended. Bodies are not kept: they hold the personal data being protected."""

from audit.log import record
from audit.models import AuditAction

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AuditMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method in WRITES:
            record(request, AuditAction.WRITE, status=response.status_code)
        return response
