"""Passwords: hashed with Argon2, old hashes upgraded at login, and the same rules in every form that sets one."""

import pytest
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.forms import UserCreateForm
from accounts.models import User
from accounts.roles import Role
from demo.loader import DEMO_PASSWORD
from hotline import settings as production
from tests.conftest import PASSWORD


@pytest.fixture
def argon2(settings):
    """The production hashers instead of the tests' quick MD5."""
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS


def test_new_passwords_are_hashed_with_argon2(argon2, city):
    user = User(username="zhangsan", role=Role.OPERATOR, unit=city["center"])
    user.set_password(PASSWORD)
    user.save()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(PASSWORD) and not user.check_password("Ceshi@2026px")


def test_an_old_pbkdf2_hash_still_works_and_becomes_argon2_at_login(argon2, client, city):
    old_hash = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user = User.objects.create(username="lisi", role=Role.OPERATOR, unit=city["center"], password=old_hash)
    assert user.password.startswith("pbkdf2_sha256$")
    response = client.post(reverse("accounts:login"), {"username": "lisi", "password": PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$")


@pytest.mark.parametrize("password", [DEMO_PASSWORD, PASSWORD, "ab12CD34ef", "热线Hotline2026", "zhang san 2026!"])
def test_good_passwords_pass(password, city):
    validate_password(password, User(username="operator", full_name="张三", unit=city["center"]))


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab1@xyz", "密码太短，至少需要 10 个字符。"),
        ("2026031512", "密码只包含数字。"),
        ("Password123", "这个密码太常见了。"),
        ("wangxiaoming1", "太相似"),
        ("lowercase-only", "密码须包含大写字母、小写字母、数字、符号中的至少 3 类。"),
        ("ALLUPPER2026", "至少 3 类"),
        ("abcdefgh2026", "至少 3 类"),
    ],
)
def test_weak_passwords_are_refused_in_chinese(password, message, city):
    user = User(username="wangxiaoming", unit=city["center"])
    with pytest.raises(ValidationError) as caught:
        validate_password(password, user)
    assert any(message in m for m in caught.value.messages), caught.value.messages


def _new_user_data(city, password: str) -> dict:
    return {
        "username": "zhaoliu",
        "full_name": "赵六",
        "role": Role.OPERATOR,
        "unit": city["center"].pk,
        "password1": password,
        "password2": password,
    }


def test_creating_a_user_applies_the_rules(city):
    weak = UserCreateForm(data=_new_user_data(city, "zhaoliu123"))
    assert not weak.is_valid()
    assert "至少 3 类" in str(weak.errors["password2"])
    assert UserCreateForm(data=_new_user_data(city, PASSWORD)).is_valid()


def test_admin_site_add_user_refuses_a_weak_password(client, make_user, city):
    client.force_login(make_user(Role.ADMIN))
    response = client.post(reverse("admin:accounts_user_add"), _new_user_data(city, "12345678"))
    assert response.status_code == 200 and not User.objects.filter(username="zhaoliu").exists()
    assert "密码太短" in response.content.decode()
    response = client.post(reverse("admin:accounts_user_add"), _new_user_data(city, PASSWORD))
    assert response.status_code == 302 and User.objects.filter(username="zhaoliu").exists()


def test_admin_setting_someone_elses_password_applies_the_rules(make_user):
    user = make_user(Role.OPERATOR)
    form = AdminPasswordChangeForm(user, {"password1": "abcdefghij", "password2": "abcdefghij"})
    assert not form.is_valid() and "至少 3 类" in str(form.errors)
    assert AdminPasswordChangeForm(user, {"password1": "Xin@mima2026", "password2": "Xin@mima2026"}).is_valid()


def test_users_change_their_own_password_under_the_rules(client, make_user):
    user = make_user(Role.HANDLER)
    client.force_login(user)
    url = reverse("accounts:password_change")
    assert "修改密码" in client.get(url).content.decode()
    data = {"old_password": PASSWORD, "new_password1": "short1A!", "new_password2": "short1A!"}
    response = client.post(url, data)
    assert response.status_code == 200 and "密码太短" in response.content.decode()
    data = {"old_password": PASSWORD, "new_password1": "Xin@mima2026", "new_password2": "Xin@mima2026"}
    response = client.post(url, data)
    assert response.status_code == 302 and response.url == "/"
    user.refresh_from_db()
    assert user.check_password("Xin@mima2026")
    assert client.get("/").status_code == 200  # still signed in after the change


def test_admin_changing_their_own_password_in_the_admin_site_applies_the_rules(client, make_user):
    client.force_login(make_user(Role.ADMIN))
    data = {"old_password": PASSWORD, "new_password1": "1234567890", "new_password2": "1234567890"}
    response = client.post(reverse("admin:password_change"), data)
    assert response.status_code == 200 and "密码只包含数字" in response.content.decode()
