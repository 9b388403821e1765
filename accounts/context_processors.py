from accounts.navigation import menu_for


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "role", None):
        return {}
    return {"nav_items": menu_for(user, request.path)}
