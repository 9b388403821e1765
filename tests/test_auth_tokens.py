"""API tokens carry scopes (read, write) and an expiry; a read-only token cannot change anything."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from accounts.roles import Role
from accounts.tokens import create_token

CALL_EVENT = {"call_id": "C-1", "event": "ringing", "caller": "13800138000", "agent": "operator-T-12345"}


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def operator(make_user):
    return make_user(Role.OPERATOR)


def test_a_new_token_may_read_and_write(operator):
    token, key = create_token(operator, "话务系统")
    assert token.scope_list == ["read", "write"]
    assert Client().get("/api/me", headers=bearer(key)).status_code == 200
    response = Client().post("/api/calls/events", CALL_EVENT, content_type="application/json", headers=bearer(key))
    assert response.status_code not in (401, 403), response.content


def test_a_read_only_token_reads_but_gets_403_on_every_write(operator):
    _, key = create_token(operator, "大屏", scopes=["read"])
    client = Client()
    assert client.get("/api/me", headers=bearer(key)).json()["role"] == "operator"
    assert client.get("/api/units", headers=bearer(key)).status_code == 200
    for method, path in [("post", "/api/orders"), ("post", "/api/calls/events"), ("post", "/api/orders/1/sign")]:
        response = getattr(client, method)(path, {}, content_type="application/json", headers=bearer(key))
        assert response.status_code == 403, (path, response.content)
        assert response.json() == {"code": "forbidden", "message": "该令牌没有写入权限（write），不能执行此操作"}
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)("/api/orders/1", headers=bearer(key)).status_code in (403, 405)


def test_a_write_only_token_cannot_read(operator):
    _, key = create_token(operator, "只推送", scopes=["write"])
    response = Client().get("/api/me", headers=bearer(key))
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_the_session_of_a_signed_in_user_is_not_limited_by_scopes(client, operator):
    create_token(operator, "大屏", scopes=["read"])
    client.force_login(operator)
    response = client.post("/api/calls/events", CALL_EVENT, content_type="application/json")
    assert response.status_code not in (401, 403)


def test_an_expired_token_gets_401(operator):
    token, key = create_token(operator, "临时", expires_at=timezone.now() + timedelta(minutes=5))
    assert Client().get("/api/me", headers=bearer(key)).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client().get("/api/me", headers=bearer(key))
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_unknown_scopes_are_refused(operator):
    with pytest.raises(ValueError, match="scopes"):
        create_token(operator, "x", scopes=["admin"])
    with pytest.raises(ValueError, match="scopes"):
        create_token(operator, "x", scopes=[])


def test_command_creates_a_read_only_token_with_an_expiry(operator):
    out = StringIO()
    call_command("api_token", "create", operator.username, "数据大屏", "--days", "7", "--scope", "read", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    token = ApiToken.objects.get()
    assert token.scopes == "read" and "权限 read" in out.getvalue()
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    assert Client().get("/api/me", headers=bearer(key)).status_code == 200
    write = Client().post("/api/calls/events", CALL_EVENT, content_type="application/json", headers=bearer(key))
    assert write.status_code == 403

    out = StringIO()
    call_command("api_token", "list", stdout=out)
    assert "数据大屏" in out.getvalue() and "\tread\t" in out.getvalue()


def test_command_defaults_to_both_scopes_and_takes_them_repeated(operator):
    call_command("api_token", "create", operator.username, "a", stdout=StringIO())
    both = ["--scope", "write", "--scope", "read"]
    call_command("api_token", "create", operator.username, "b", *both, stdout=StringIO())
    assert set(ApiToken.objects.values_list("scopes", flat=True)) == {"read write"}
    with pytest.raises(CommandError):
        call_command("api_token", "create", operator.username, "c", "--scope", "admin", stdout=StringIO())
