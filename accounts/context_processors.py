from accounts.navigation import menu_for


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "role", None):
        return {}
    unread = user.notifications.filter(read_at__isnull=True).count()
    return {"nav_items": menu_for(user, request.path), "unread_notes": unread}
