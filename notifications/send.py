"""Tell a unit's people something: an in-app message each, and an email to those with an address.

Called inside the caller's transaction: the messages and the queued email commit or vanish with
the change that caused them (the email task sits in the same database with the default backend).
"""

from collections.abc import Iterable

from django.db.models import Q

from accounts.models import User
from accounts.roles import Role
from notifications.models import Notification
from notifications.tasks import send_email
from org.models import Unit


def unit_recipients(unit: Unit) -> list[User]:
    """Handlers of the unit, plus managers of the units above it who see it."""
    above = [u.pk for u in unit.ancestors()]
    handlers = User.objects.filter(is_active=True, role=Role.HANDLER)
    return list(handlers.filter(Q(unit=unit) | Q(unit_id__in=above, is_unit_manager=True)))


def notify(users: Iterable[User], title: str, body: str = "", link: str = "") -> int:
    users = [u for u in users if u.is_active]
    Notification.objects.bulk_create([Notification(user=u, title=title, body=body, link=link) for u in users])
    emails = sorted({u.email for u in users if u.email})
    if emails:
        send_email.enqueue(subject=f"【12345热线】{title}", body=f"{body}\n\n{link}".strip(), recipients=emails)
    return len(users)


def notify_unit(unit: Unit, title: str, body: str = "", link: str = "") -> int:
    return notify(unit_recipients(unit), title, body, link)


def notify_role(role: str, title: str, body: str = "", link: str = "") -> int:
    return notify(User.objects.filter(role=role, is_active=True), title, body, link)
