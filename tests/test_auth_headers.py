"""Cookies and response headers: CSP and friends on every page and API answer, TLS-only settings with HTTPS=1."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from accounts.roles import Role
from tests.conftest import PASSWORD

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def assert_security_headers(response) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))


def test_headers_on_pages(client, make_user):
    assert_security_headers(client.get(reverse("accounts:login")))
    assert_security_headers(client.get("/portal/"))
    client.force_login(make_user(Role.DISPATCHER))
    assert_security_headers(client.get("/"))
    assert_security_headers(client.get("/orders/"))


def test_headers_on_the_api(client, make_user):
    assert_security_headers(client.get("/api/units"))  # a 401 too
    client.force_login(make_user(Role.DISPATCHER))
    response = client.get("/api/me")
    assert response.status_code == 200
    assert_security_headers(response)


def test_api_docs_load_swagger_from_our_own_static_files(client, make_user):
    client.force_login(make_user(Role.ADMIN))
    html = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn." not in html
    assert not re.search(r"<script>", html)


def test_session_cookie(client, make_user):
    make_user(Role.OPERATOR, username="op")
    response = client.post(reverse("accounts:login"), {"username": "op", "password": PASSWORD})
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 8 * 60 * 60
    assert not cookie["secure"]  # plain HTTP without HTTPS=1
    assert response.cookies[django_settings.CSRF_COOKIE_NAME]["samesite"] == "Lax"


def _settings_with(env: dict) -> dict:
    code = (
        "import json, hotline.settings as s; print(json.dumps({k: getattr(s, k) for k in "
        "['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS']}))"
    )
    base = {k: v for k, v in os.environ.items() if k != "HTTPS"}
    result = subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_https_1_turns_on_secure_cookies_redirect_and_hsts():
    assert _settings_with({}) == {
        "SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False, "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
    }  # fmt: skip
    assert _settings_with({"HTTPS": "1"}) == {
        "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True, "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
    }  # fmt: skip


def test_with_https_settings_plain_http_is_redirected_and_tls_gets_hsts(client, settings, db):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    plain = client.get(reverse("accounts:login"))
    assert plain.status_code == 301 and plain.url.startswith("https://")
    assert client.get("/healthz").status_code != 301  # the local health probe stays on plain HTTP
    tls = client.get(reverse("accounts:login"), secure=True)
    assert tls.status_code == 200 and tls.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert tls.cookies[settings.CSRF_COOKIE_NAME]["secure"]


def test_no_template_has_an_inline_script():
    """script-src 'self' blocks inline scripts: every script is a file under static/js/ or a vendor file."""
    offenders = []
    for path in Path(django_settings.BASE_DIR, "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{path}: {tag}")
        offenders += [f"{path}: {m}" for m in re.findall(r"\son[a-z]+\s*=\s*[\"']", text)]
        offenders += [f"{path}: javascript: URL" for _ in re.findall(r"javascript:", text)]
    assert not offenders, offenders


@pytest.mark.parametrize("path", ["/static/js/locate.js", "/static/js/charts.js", "/static/js/workbench.js"])
def test_moved_scripts_are_static_files(path):
    assert finders.find(path.removeprefix("/static/"))
