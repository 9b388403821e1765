"""Server-side role checks for pages; the API uses the same rule through ``hotline.api.require_roles``."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def role_required(*roles: str) -> Callable:
    """Page only for signed-in, active users holding one of ``roles`` (all staff roles when none given)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if roles and not request.user.has_role(*roles):
                raise PermissionDenied("当前角色无权访问此页面")
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator
