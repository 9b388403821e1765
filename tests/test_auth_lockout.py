"""Sign-in lockout: five failures lock a username for 15 minutes, many failures lock an address, admins unlock."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import lockout
from accounts.models import LoginThrottle
from accounts.roles import Role
from tests.conftest import PASSWORD

LOCKED = "登录失败次数过多，已暂时锁定"
WRONG = "正确的用户名和密码"


def sign_in(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def operator(make_user):
    return make_user(Role.OPERATOR, username="operator")


def test_five_failures_lock_the_username_even_for_the_right_password(client, operator):
    for attempt in range(1, 5):
        assert WRONG in sign_in(client, "operator", f"wrong-{attempt}").content.decode()
    fifth = sign_in(client, "operator", "wrong-5").content.decode()
    assert LOCKED in fifth and "15 分钟" in fifth
    response = sign_in(client, "operator", PASSWORD)
    assert LOCKED in response.content.decode() and not signed_in(client)
    row = LoginThrottle.objects.get(kind="username", value="operator")
    assert row.failures == 5 and row.locked_until > timezone.now() + timedelta(minutes=14)
    # attempts refused by the lock check no password and do not use up the address's allowance
    assert LoginThrottle.objects.get(kind="ip", value="10.0.0.1").failures == 5


def test_a_username_that_does_not_exist_gets_the_same_answers(client, operator):
    answers = {}
    for username in ("operator", "nobody"):
        responses = [sign_in(client, username, f"wrong-{i}") for i in range(6)]
        answers[username] = [r.context["form"].non_field_errors() for r in responses]
    assert [str(a) for a in answers["operator"]] == [str(a) for a in answers["nobody"]]
    assert LOCKED in str(answers["nobody"][-1])


def test_the_lock_ends_after_15_minutes(client, operator):
    for attempt in range(5):
        sign_in(client, "operator", f"wrong-{attempt}")
    assert LOCKED in sign_in(client, "operator", PASSWORD).content.decode()
    earlier = timedelta(minutes=15, seconds=1)
    row = LoginThrottle.objects.get(kind="username", value="operator")
    LoginThrottle.objects.filter(pk=row.pk).update(
        window_started_at=row.window_started_at - earlier, locked_until=row.locked_until - earlier
    )
    assert sign_in(client, "operator", PASSWORD).status_code == 302 and signed_in(client)


def test_failures_spread_over_more_than_the_window_do_not_add_up(client, operator):
    for attempt in range(4):
        sign_in(client, "operator", f"wrong-{attempt}")
    LoginThrottle.objects.update(window_started_at=timezone.now() - timedelta(minutes=16))
    assert WRONG in sign_in(client, "operator", "wrong-again").content.decode()
    assert LoginThrottle.objects.get(kind="username", value="operator").failures == 1


def test_success_resets_the_count(client, operator):
    for attempt in range(4):
        sign_in(client, "operator", f"wrong-{attempt}")
    assert sign_in(client, "operator", PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    for attempt in range(4):
        assert WRONG in sign_in(client, "operator", f"wrong-{attempt}").content.decode()
    assert LoginThrottle.objects.get(kind="username", value="operator").failures == 4


def test_case_of_the_username_does_not_buy_more_attempts(client, operator):
    for name in ("operator", "Operator", "OPERATOR", "operator ", "oPerator"):
        sign_in(client, name, "wrong")
    assert LOCKED in sign_in(client, "operator", PASSWORD).content.decode()


def test_one_address_failing_on_many_usernames_is_throttled(client, settings, operator):
    settings.LOGIN_IP_FAILURE_LIMIT = 8
    for i in range(8):
        sign_in(client, f"guess{i}", "wrong", ip="203.0.113.9")
    assert LOCKED in sign_in(client, "operator", PASSWORD, ip="203.0.113.9").content.decode()
    # the username itself was not charged for the address's lock, and another address signs in
    assert not LoginThrottle.objects.filter(kind="username", value="operator", failures__gt=0).exists()
    assert sign_in(Client(), "operator", PASSWORD, ip="10.0.0.2").status_code == 302


def test_successful_sign_ins_do_not_count_against_a_shared_address(client, settings, make_user):
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    users = [make_user(Role.OPERATOR, username=f"op{i}") for i in range(5)]
    for user in users:
        assert sign_in(Client(), user.username, PASSWORD, ip="10.1.1.1").status_code == 302
    sign_in(client, "op0", "wrong", ip="10.1.1.1")
    assert LoginThrottle.objects.get(kind="ip", value="10.1.1.1").failures == 1


def test_admin_unlocks_from_the_user_list_and_from_the_failure_records(client, make_user, operator):
    admin_user = make_user(Role.ADMIN)
    for attempt in range(5):
        sign_in(Client(), "operator", f"wrong-{attempt}")
    assert lockout.is_locked("operator", "10.0.0.1")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:accounts_user_changelist"), {"action": "unlock", "_selected_action": [operator.pk]}
    )
    assert response.status_code == 302
    assert not lockout.is_locked("operator", "10.0.0.1")
    assert sign_in(Client(), "operator", PASSWORD).status_code == 302

    for attempt in range(5):
        sign_in(Client(), "ghost", f"wrong-{attempt}", ip="10.9.9.9")
    row = LoginThrottle.objects.get(kind="username", value="ghost")
    assert "ghost" in client.get(reverse("admin:accounts_loginthrottle_changelist")).content.decode()
    client.post(reverse("admin:accounts_loginthrottle_changelist"), {"action": "unlock", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.failures == 0 and row.locked_until is None


def test_the_admin_site_signs_in_through_the_locked_login_page(client, make_user):
    response = client.get(reverse("admin:login") + "?next=/admin/accounts/user/")
    assert response.status_code == 302
    assert response.url == reverse("accounts:login") + "?next=/admin/accounts/user/"
    client.force_login(make_user(Role.OPERATOR))
    assert client.get(reverse("admin:login")).status_code == 403
    client.force_login(make_user(Role.ADMIN))
    assert client.get(reverse("admin:login")).url == reverse("admin:index")


def test_claims_stop_at_the_limit(db, settings):
    now = timezone.now()
    results = [lockout.claim("someone", "10.0.0.1", now) for _ in range(7)]
    assert results == [True] * 5 + [False] * 2
    assert lockout.is_locked("someone", "10.0.0.9", now)
    assert not lockout.is_locked("someone", "10.0.0.9", now + timedelta(minutes=15))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_wrong_passwords_get_no_more_than_five_checks(operator):
    """Twelve requests released at once: the conditional UPDATE lets exactly five through to the password check."""
    barrier = threading.Barrier(12)
    answers: list[str] = []

    def attempt(i: int) -> None:
        try:
            barrier.wait()
            answers.append(sign_in(Client(), "operator", f"wrong-{i}", ip=f"10.2.0.{i}").content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == 12
    checked = [a for a in answers if WRONG in a]
    assert len(checked) <= 4 and len(checked) + sum(LOCKED in a for a in answers) == 12
    row = LoginThrottle.objects.get(kind="username", value="operator")
    assert row.failures == 5 and row.locked_until is not None
