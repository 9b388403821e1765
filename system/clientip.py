"""The client's address, also behind the reverse proxy of a multi-node deployment (docs/deploy.md).

Behind a proxy every request comes from the proxy's address: sign-in lockout per address, the portal's limits and
the audit log would then see one client. When ``REMOTE_ADDR`` is one of ``TRUSTED_PROXIES`` (addresses or networks,
from the environment), the client is the right-most address of ``X-Forwarded-For`` that is not a trusted proxy:
entries to its left were written by the client and can be forged, those to its right by our own proxies. Without
trusted proxies the header is ignored, so a client cannot pick the address it is counted under.
"""

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's IP address, '' when unknown."""
    remote = _valid(request.META.get("REMOTE_ADDR", ""))
    if not remote or not _trusted(remote):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed(hops):
        address = _valid(hop)
        if not address:
            break  # a malformed entry: nothing to its left can be trusted either
        if not _trusted(address):
            return address
    return remote


def _valid(value: str) -> str:
    try:
        return str(ip_address(value.strip()))
    except ValueError:
        return ""


def _trusted(address: str) -> bool:
    return any(ip_address(address) in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(entry, strict=False) for entry in entries)
