"""The client's network address, read once for the whole portal (rate limits, audit).

Behind the reverse proxy the README asks for, REMOTE_ADDR is the proxy's address and every
resident would share it. The proxy is trusted only as far as settings say
(ALLAUTH_TRUSTED_CLIENT_IP_HEADER or ALLAUTH_TRUSTED_PROXY_COUNT, both from the environment,
default: no proxy): a client cannot pick its own address by sending X-Forwarded-For.
allauth's rate limits use this helper too (home.adapters.AccountAdapter.get_client_ip).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str:
    """The address of the client as the trusted proxy saw it, else the peer's own address."""
    header = settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER
    proxies = settings.ALLAUTH_TRUSTED_PROXY_COUNT
    found = None
    if header:
        found = _valid(request.headers.get(header))
    elif proxies > 0:
        hops = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
        # The last `proxies` entries were appended by our own proxies; the one before them is the client.
        if len(hops) >= proxies:
            found = _valid(hops[-proxies])
    return found or _valid(request.META.get("REMOTE_ADDR")) or "0.0.0.0"
