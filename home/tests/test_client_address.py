"""The client's address behind the trusted proxy, and login limits that one client cannot turn on everyone."""

import pytest
from django.test import RequestFactory, override_settings

from home import factories
from plumbing.network import client_address

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # the reverse proxy: every request reaches Django from it
RIGHT = "correct horse battery staple"  # VerifiedUserFactory's password


def address(**headers) -> str:
    return client_address(RequestFactory().get("/", REMOTE_ADDR=PROXY, **headers))


def test_without_a_configured_proxy_x_forwarded_for_is_ignored():
    assert address(HTTP_X_FORWARDED_FOR="203.0.113.9") == PROXY


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_one_trusted_proxy_gives_the_address_it_appended():
    # The client may send its own X-Forwarded-For; the proxy appends the address it saw.
    assert address(HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9") == "203.0.113.9"
    assert address(HTTP_X_FORWARDED_FOR="203.0.113.9") == "203.0.113.9"


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=2)
def test_malformed_or_short_forwarded_headers_fall_back_to_the_peer_address():
    assert address(HTTP_X_FORWARDED_FOR="203.0.113.9") == PROXY  # fewer hops than proxies
    assert address(HTTP_X_FORWARDED_FOR="not-an-address, 10.0.0.3") == PROXY
    assert address(HTTP_X_FORWARDED_FOR="\x00, 10.0.0.3") == PROXY
    assert address() == PROXY


@override_settings(ALLAUTH_TRUSTED_CLIENT_IP_HEADER="X-Real-IP")
def test_a_trusted_client_ip_header_is_read_instead():
    assert address(HTTP_X_REAL_IP="2001:db8::1", HTTP_X_FORWARDED_FOR="203.0.113.9") == "2001:db8::1"
    assert address(HTTP_X_REAL_IP="²") == PROXY


def _log_in(client, *, email, password, client_ip):
    return client.post(
        "/zh-hans/accounts/login/",
        {"login": email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=client_ip,
    )


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_fifty_failed_logins_on_other_accounts_through_the_proxy_do_not_lock_out_a_resident(client, site_pages):
    others = [factories.VerifiedUserFactory(email=f"other{i}@example.com") for i in range(10)]
    factories.VerifiedUserFactory(email="resident@example.com")

    statuses = [
        _log_in(client, email=others[i % 10].email, password=f"wrong-{i}", client_ip="203.0.113.9").status_code for i in range(50)
    ]
    assert statuses == [200] * 50  # five wrong passwords per account: none is locked yet

    resident = client.__class__()
    response = _log_in(resident, email="resident@example.com", password=RIGHT, client_ip="198.51.100.7")
    assert response.status_code == 302
    assert "_auth_user_id" in resident.session


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_the_sixth_wrong_password_for_one_account_is_refused_from_any_address(client, site_pages):
    factories.VerifiedUserFactory(email="target@example.com")

    statuses = [
        _log_in(client, email="target@example.com", password=f"wrong-{i}", client_ip=f"203.0.113.{i + 1}").status_code
        for i in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    elsewhere = _log_in(client.__class__(), email="target@example.com", password=RIGHT, client_ip="198.51.100.7")
    assert elsewhere.status_code == 429
