"""The client's address behind a reverse proxy (system/clientip.py): lockout, portal limits and audit count the
citizen, not the proxy, and only a trusted proxy's X-Forwarded-For is believed."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import LoginThrottle
from accounts.roles import Role
from audit.models import AuditEntry
from system.clientip import client_ip
from tests.conftest import PASSWORD

PROXY = "127.0.0.1"


def address(remote: str, forwarded: str | None = None) -> str:
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **meta))


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert address(PROXY, "1.2.3.4") == PROXY
    assert address("", "1.2.3.4") == ""


def test_behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client(settings):
    settings.TRUSTED_PROXIES = [PROXY, "10.0.0.0/8"]
    assert address(PROXY, "1.2.3.4") == "1.2.3.4"
    # the client wrote 9.9.9.9 itself; our proxy appended the address it saw
    assert address(PROXY, "9.9.9.9, 1.2.3.4") == "1.2.3.4"
    # two proxies of ours in a row
    assert address(PROXY, "1.2.3.4, 10.1.2.3") == "1.2.3.4"
    assert address(PROXY, " 2001:db8::1 ") == "2001:db8::1"
    # nothing usable: the proxy's own address
    assert address(PROXY, "") == PROXY
    assert address(PROXY, "1.2.3.4, not-an-address") == PROXY
    assert address(PROXY, "10.0.0.7") == PROXY
    # a request that did not come through a trusted proxy is not believed
    assert address("8.8.8.8", "1.2.3.4") == "8.8.8.8"


@pytest.mark.django_db
def test_lockout_and_audit_count_the_citizen_behind_the_proxy(client, settings, make_user):
    settings.TRUSTED_PROXIES = [PROXY]
    make_user(Role.OPERATOR, username="operator")
    url = reverse("accounts:login")
    for i in range(3):
        client.post(url, {"username": f"user{i}", "password": "x"}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4")
    client.post(url, {"username": "user9", "password": "x"}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="5.6.7.8")
    counted = dict(LoginThrottle.objects.filter(kind="ip").values_list("value", "failures"))
    assert counted == {"1.2.3.4": 3, "5.6.7.8": 1}
    client.post(url, {"username": "operator", "password": PASSWORD}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="5.6.7.8")
    entry = AuditEntry.objects.filter(username="operator").latest("at")
    assert entry.ip == "5.6.7.8"
