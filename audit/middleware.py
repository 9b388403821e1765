"""Every request that may change something (POST, PUT, PATCH, DELETE) leaves an audit entry: who, from where,
which address and order, and how it ended. Bodies are not kept: they hold the personal data being protected."""

import logging

from django.db.utils import DatabaseError

from audit.log import record
from audit.models import AuditAction

logger = logging.getLogger("audit")

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AuditMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method in WRITES:
            try:
                record(request, AuditAction.WRITE, status=response.status_code)
            except DatabaseError:  # the database went away: the entry goes to the log instead of being lost
                logger.error("audit entry not stored: %s %s -> %s", request.method, request.path, response.status_code)
        return response
