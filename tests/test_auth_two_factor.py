"""Two-step sign-in (RFC 6238) for administrators and supervisors: enrol, sign in with a code, switch off."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import totp
from accounts.models import LoginThrottle, TotpDevice
from accounts.roles import Role
from tests.conftest import PASSWORD

# RFC 6238 appendix B: SHA-1 with the ASCII key "12345678901234567890"; six digits are the last six of eight.
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
RFC_VECTORS = [(59, "287082"), (1111111109, "081804"), (1111111111, "050471"), (1234567890, "005924"),
               (2000000000, "279037"), (20000000000, "353130")]  # fmt: skip


@pytest.mark.parametrize(("seconds", "code"), RFC_VECTORS)
def test_codes_match_the_rfc_6238_test_vectors(seconds, code):
    assert totp.code_at(RFC_SECRET, datetime.fromtimestamp(seconds, UTC)) == code


def test_a_code_is_accepted_one_step_either_side_and_not_further():
    moment = datetime(2026, 3, 1, 9, 0, 15, tzinfo=UTC)
    secret = totp.new_secret()
    assert len(secret) == 32
    for offset, accepted in [(-60, False), (-30, True), (0, True), (30, True), (60, False)]:
        code = totp.code_at(secret, moment + timedelta(seconds=offset))
        assert (totp.matching_step(secret, code, moment) is not None) == accepted, offset
    assert totp.matching_step(secret, "12345", moment) is None
    assert totp.matching_step(secret, "١٢٣٤٥٦", moment) is None  # digits, but not ASCII ones


def test_provisioning_uri_for_authenticator_apps():
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXP", "admin", "12345热线")
    assert uri.startswith("otpauth://totp/12345%E7%83%AD%E7%BA%BF:admin?secret=JBSWY3DPEHPK3PXP&")
    assert "issuer=12345%E7%83%AD%E7%BA%BF" in uri and "digits=6" in uri and "period=30" in uri


@pytest.fixture
def admin_user(make_user):
    return make_user(Role.ADMIN, username="admin")


def enable(user, **fields) -> TotpDevice:
    return TotpDevice.objects.create(user=user, secret=totp.new_secret(), confirmed_at=timezone.now(), **fields)


def now_code(device: TotpDevice, shift: int = 0) -> str:
    return totp.code_at(device.secret, timezone.now() + timedelta(seconds=shift))


def password_step(client, username: str = "admin", next_url: str = ""):
    data = {"username": username, "password": PASSWORD, "next": next_url}
    return client.post(reverse("accounts:login"), data, REMOTE_ADDR="10.0.0.1")


def code_step(client, code: str):
    return client.post(reverse("accounts:login_verify"), {"code": code}, REMOTE_ADDR="10.0.0.1")


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_enrol_shows_secret_and_uri_and_a_code_turns_it_on(client, admin_user):
    client.force_login(admin_user)
    url = reverse("accounts:two_factor")
    assert "两步验证未启用" in client.get(url).content.decode()
    assert client.post(url, {"action": "start"}).status_code == 302
    device = TotpDevice.objects.get(user=admin_user)
    assert not device.is_confirmed
    html = client.get(url).content.decode()
    assert device.secret in html and "otpauth://totp/" in html
    assert 'src="data:image/svg+xml' in html  # the QR code is drawn here, not fetched from a service

    wrong = client.post(url, {"action": "confirm", "code": "000000" if now_code(device) != "000000" else "111111"})
    assert "验证码不正确" in wrong.content.decode()
    assert client.post(url, {"action": "confirm", "code": now_code(device)}).status_code == 302
    device.refresh_from_db()
    assert device.is_confirmed
    assert "两步验证已启用" in client.get(url).content.decode()


def test_starting_again_replaces_an_unconfirmed_secret_but_not_a_confirmed_one(admin_user, client):
    client.force_login(admin_user)
    client.post(reverse("accounts:two_factor"), {"action": "start"})
    first = TotpDevice.objects.get().secret
    client.post(reverse("accounts:two_factor"), {"action": "start"})
    assert TotpDevice.objects.get().secret != first
    TotpDevice.objects.update(confirmed_at=timezone.now())
    confirmed = TotpDevice.objects.get().secret
    client.post(reverse("accounts:two_factor"), {"action": "start"})
    assert TotpDevice.objects.get().secret == confirmed


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.DISPATCHER, Role.HANDLER, Role.CALLBACK, Role.LEADER])
def test_only_admins_and_supervisors_enrol(client, make_user, role):
    client.force_login(make_user(role))
    assert client.get(reverse("accounts:two_factor")).status_code == 403
    assert "两步验证" not in client.get("/").content.decode()


def test_supervisor_sees_the_link_on_the_home_page(client, make_user):
    client.force_login(make_user(Role.SUPERVISOR))
    assert reverse("accounts:two_factor") in client.get("/").content.decode()
    assert client.get(reverse("accounts:two_factor")).status_code == 200


def test_sign_in_asks_for_the_code_before_the_session_is_authenticated(client, admin_user):
    device = enable(admin_user)
    response = password_step(client, next_url="/orders/")
    assert response.status_code == 302 and response.url == reverse("accounts:login_verify")
    assert not signed_in(client)
    assert client.get("/").status_code == 302  # nothing is open yet
    assert client.get("/api/me").status_code == 401
    assert "6 位验证码" in client.get(reverse("accounts:login_verify")).content.decode()

    response = code_step(client, now_code(device))
    assert response.status_code == 302 and response.url == "/orders/"
    assert signed_in(client) and int(client.session["_auth_user_id"]) == admin_user.pk
    assert not LoginThrottle.objects.filter(kind="username", value="admin", failures__gt=0).exists()


def test_a_wrong_code_does_not_sign_in(client, admin_user):
    device = enable(admin_user)
    password_step(client)
    wrong = "999999" if now_code(device) != "999999" else "888888"
    response = code_step(client, wrong)
    assert response.status_code == 200 and "验证码不正确" in response.content.decode()
    assert not signed_in(client)


def test_a_code_is_good_once(client, admin_user):
    device = enable(admin_user)
    code = now_code(device)
    password_step(client)
    assert code_step(client, code).status_code == 302
    client.post(reverse("accounts:logout"))
    password_step(client)
    response = code_step(client, code)
    assert response.status_code == 200 and "已经用过" in response.content.decode()
    assert not signed_in(client)


def test_the_same_code_cannot_be_used_twice_even_at_once(admin_user):
    """The step is claimed by a conditional UPDATE: two device objects read before either used the code."""
    device = enable(admin_user)
    moment = timezone.now()
    code = totp.code_at(device.secret, moment)
    first, second = TotpDevice.objects.get(pk=device.pk), TotpDevice.objects.get(pk=device.pk)
    assert first.accept(code, moment) is True
    assert second.accept(code, moment) is False
    # an older code of the window is refused once a newer one was used
    earlier = totp.code_at(device.secret, moment - timedelta(seconds=30))
    assert TotpDevice.objects.get(pk=device.pk).accept(earlier, moment) is False


def test_wrong_codes_count_towards_the_lockout(client, admin_user):
    device = enable(admin_user)
    wrong = "999999" if now_code(device) not in ("999999",) else "888888"
    password_step(client)  # the password step counts until the sign-in completes
    answers = [code_step(client, wrong).content.decode() for _ in range(4)]
    assert "验证码不正确" in answers[0] and "登录失败次数过多" in answers[-1]
    # the pending sign-in is gone, and the password is refused while locked
    assert code_step(client, now_code(device)).url == reverse("accounts:login")
    assert "登录失败次数过多" in password_step(client).content.decode()


def test_second_step_expires(client, admin_user):
    device = enable(admin_user)
    password_step(client)
    session = client.session
    session["accounts_second_step"]["at"] -= 301
    session.save()
    response = code_step(client, now_code(device))
    assert response.status_code == 302 and response.url == reverse("accounts:login") and not signed_in(client)


def test_the_verify_page_without_a_password_step_goes_to_login(client, db):
    assert client.get(reverse("accounts:login_verify")).url == reverse("accounts:login")


def test_disable_needs_a_current_code(client, admin_user):
    device = enable(admin_user)
    client.force_login(admin_user)
    url = reverse("accounts:two_factor")
    response = client.post(url, {"action": "disable", "code": "12345"})
    assert "验证码不正确" in response.content.decode() and TotpDevice.objects.exists()
    assert client.post(url, {"action": "disable", "code": now_code(device)}).status_code == 302
    assert not TotpDevice.objects.exists()
    client.post(reverse("accounts:logout"))
    assert password_step(client).url == "/"  # one step again


def test_an_unconfirmed_device_does_not_guard_sign_in(client, admin_user):
    TotpDevice.objects.create(user=admin_user, secret=totp.new_secret())
    assert password_step(client).url == "/" and signed_in(client)


def test_admin_site_switches_a_users_two_factor_off(client, make_user, admin_user):
    supervisor = make_user(Role.SUPERVISOR)
    device = enable(supervisor)
    client.force_login(admin_user)
    page = client.get(reverse("admin:accounts_totpdevice_changelist")).content.decode()
    assert str(supervisor) in page and device.secret not in page
    client.post(reverse("admin:accounts_totpdevice_delete", args=[device.pk]), {"post": "yes"})
    assert not TotpDevice.objects.exists()
