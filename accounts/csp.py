"""The Content-Security-Policy header (``settings.CONTENT_SECURITY_POLICY``) on every response.

With ``script-src 'self'`` a script injected into a page — through a citizen's message, an order's title,
anything shown back — does not run: every script is a file under /static/, and data for a script travels
in ``json_script`` or ``data-`` attributes.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
