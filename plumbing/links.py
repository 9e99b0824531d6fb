"""Absolute links to the portal, for what leaves it: mail, text messages, calendar files and QR codes.

Built from one setting, PORTAL_BASE_URL (the address residents reach the portal at), never from the
request that happened to cause the message: a worker has no request, and the host a request came in on
(a proxy's, a loopback port) is not necessarily the one residents can open.
"""

from django.conf import settings


def absolute_url(path: str) -> str:
    """`path` (e.g. "/zh-hans/me/") under the portal's public address; a full URL is returned unchanged."""
    if path.startswith(("http://", "https://")):
        return path
    return settings.PORTAL_BASE_URL.rstrip("/") + "/" + path.lstrip("/")
