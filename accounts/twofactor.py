"""Two-step sign-in with an authenticator app, for the roles that can change how the hotline works.

Enrolment: ``start`` stores a new secret, unconfirmed; the user adds it to an app (QR code, ``otpauth://``
URI or the secret typed in) and ``confirm`` with a code from the app turns it on. ``disable`` takes a code too.

Signing in: when the password is right and the user has a confirmed device, ``begin`` keeps who is signing
in in the anonymous session, and only ``verify_code`` with a valid, unused code signs them in. Codes of the
second step count towards the same lockout as passwords.
"""

from datetime import timedelta

import segno
from django.contrib.auth import login as auth_login
from django.http import HttpRequest
from django.utils import timezone

from accounts import lockout, totp
from accounts.models import TotpDevice, User
from accounts.roles import Role

ISSUER = "12345热线"
ENROL_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR})
SESSION_KEY = "accounts_second_step"
# Time allowed between the password and the code.
PENDING_FOR = timedelta(minutes=5)


def may_enrol(user: User) -> bool:
    return user.role in ENROL_ROLES


def is_enabled(user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def start(user: User) -> TotpDevice:
    """A fresh, unconfirmed secret for ``user``, replacing an unconfirmed one; a confirmed device is kept as it is."""
    device, _ = TotpDevice.objects.get_or_create(user=user, defaults={"secret": totp.new_secret()})
    if not device.is_confirmed:
        device.secret, device.last_used_step = totp.new_secret(), 0
        device.save(update_fields=["secret", "last_used_step"])
    return device


def confirm(device: TotpDevice, code: str) -> bool:
    """Turn the device on with a first code from the app; False when the code is wrong."""
    if device.is_confirmed or not device.accept(code):
        return False
    device.confirmed_at = timezone.now()
    device.save(update_fields=["confirmed_at"])
    return True


def disable(device: TotpDevice, code: str) -> bool:
    """Switch two-step sign-in off; it takes a current code, so an unattended session cannot do it."""
    if not device.accept(code):
        return False
    device.delete()
    return True


def provisioning_uri(device: TotpDevice) -> str:
    return totp.provisioning_uri(device.secret, device.user.username, ISSUER)


def qr_data_uri(device: TotpDevice) -> str:
    """The ``otpauth://`` URI as a QR code in a ``data:`` SVG image, drawn here rather than by an outside service."""
    return segno.make(provisioning_uri(device), error="m").svg_data_uri(scale=5)


def begin(request: HttpRequest, user: User, next_url: str) -> None:
    """The password was right: remember who is signing in until the code arrives. Nobody is signed in yet."""
    request.session[SESSION_KEY] = {
        "user": user.pk,
        "backend": user.backend,
        "next": next_url,
        "at": timezone.now().timestamp(),
    }


def pending(request: HttpRequest) -> tuple[User, str] | None:
    """(user, where to go afterwards) of a second step still open, else None."""
    state = request.session.get(SESSION_KEY)
    if not state or timezone.now().timestamp() - state["at"] > PENDING_FOR.total_seconds():
        return None
    user = User.objects.filter(pk=state["user"], is_active=True).first()
    if user is None or not is_enabled(user):
        return None
    return user, state["next"]


def cancel(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


def verify_code(request: HttpRequest, user: User, code: str) -> str | None:
    """Sign ``user`` in when ``code`` is valid and unused; else the message to show."""
    ip = lockout.client_ip(request)
    if not lockout.claim(user.username, ip):
        cancel(request)
        return lockout.locked_message()
    if user.totp_device.accept(code):
        lockout.succeeded(user.username, ip)
        backend = request.session[SESSION_KEY]["backend"]
        cancel(request)
        auth_login(request, user, backend=backend)
        return None
    if lockout.is_locked(user.username, ip):
        cancel(request)
        return lockout.locked_message()
    return "验证码不正确或已经用过，请输入验证器当前显示的 6 位数字。"
