"""Log-in for phone clients through allauth's headless endpoints (/_allauth/app/v1/…): sign-up with a mobile number
and its SMS code, log-in by SMS code, by e-mail and password, staff's second step with TOTP, log-out; and refusals
(wrong codes, too many tries, malformed numbers, the limits on texts) as 4xx in allauth's error shape, never 5xx.

A phone client keeps no cookies and sends no CSRF token: each step is a fresh client with the session token only.
Codes are read from what the worker texted (outbox.sms.sent), after the request's transaction commits.
"""

from __future__ import annotations

import json
import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.test import Client

from api.testing import assert_problem
from home import factories
from home.models import ResidentProfile
from outbox import sms

pytestmark = pytest.mark.django_db

AUTH = "/_allauth/app/v1/auth"
PASSWORD = "lantern-osmanthus-47"
NUMBER = "13812345678"


@pytest.fixture
def phone_client(django_capture_on_commit_callbacks):
    """call(path, data=None, token=None, method="post"): one request as a phone makes it; texts go out after it."""

    def call(path: str, data: dict | None = None, *, token: str | None = None, method: str = "post", language: str = "zh-hans"):
        headers = {"HTTP_ACCEPT_LANGUAGE": language}
        if token:
            headers["HTTP_X_SESSION_TOKEN"] = token
        client = Client(enforce_csrf_checks=True)
        with django_capture_on_commit_callbacks(execute=True):
            if method == "post":
                return client.post(AUTH + path, json.dumps(data or {}), content_type="application/json", **headers)
            return getattr(client, method)(AUTH + path, **headers)

    return call


def texted_codes(number: str) -> list[str]:
    return [
        message["params"]["code"] for message in sms.sent if message["to"] == number and message["kind"] == "account.phone_code"
    ]


def session_token(response) -> str:
    token = response.json()["meta"]["session_token"]
    assert isinstance(token, str) and token
    return token


def pending(response) -> set[str]:
    return {flow["id"] for flow in response.json()["data"]["flows"] if flow.get("is_pending")}


def errors(response, status: int = 400) -> dict[str, str]:
    """allauth's error shape: {"status", "errors": [{"message", "code", "param"?}]} → {param or code: code}."""
    assert response.status_code == status, response.content[:500]
    data = response.json()
    assert data["status"] == status
    return {error.get("param", error["code"]): error["code"] for error in data["errors"]}


def api_works(token: str) -> bool:
    return Client().get("/api/v1/me/bookings/", HTTP_X_SESSION_TOKEN=token).status_code == 200


def resident_with_number(number: str = NUMBER) -> ResidentProfile:
    profile = factories.ResidentProfileFactory()
    profile.mobile, profile.mobile_verified = number, True
    profile.save()
    profile.user.set_password(PASSWORD)
    profile.user.save()
    return profile


# --- Sign-up ------------------------------------------------------------------------------------


def test_sign_up_with_a_mobile_number_its_sms_code_and_an_e_mail(site_pages, phone_client):
    response = phone_client(
        "/signup", {"phone": "138 1234 5678", "email": "new@example.com", "password": PASSWORD, "privacy_consent": True}
    )
    assert response.status_code == 401 and pending(response) == {"verify_phone"}
    token = session_token(response)
    assert not api_works(token)  # not before the number is proven
    (code,) = texted_codes(NUMBER)
    wrong = "000000" if code != "000000" else "111111"
    assert errors(phone_client("/phone/verify", {"code": wrong}, token=token)) == {"code": "incorrect_code"}
    response = phone_client("/phone/verify", {"code": code}, token=token)
    assert response.status_code == 200, response.content
    assert response.json()["data"]["user"]["email"] == "new@example.com"
    token = response.json()["meta"].get("session_token", token)
    assert api_works(token)
    profile = ResidentProfile.objects.get(user__email="new@example.com")
    assert (profile.mobile, profile.mobile_verified) == (NUMBER, True)
    assert profile.privacy_consented_at is not None


def test_sign_up_refuses_a_taken_number_and_a_missing_consent_in_words(site_pages, phone_client):
    resident_with_number()
    taken = phone_client("/signup", {"phone": NUMBER, "password": PASSWORD, "privacy_consent": True}, language="en")
    assert "phone" in errors(taken)
    assert "already belongs to an account" in taken.json()["errors"][0]["message"]
    no_consent = phone_client("/signup", {"phone": "13912345678", "password": PASSWORD})
    assert "privacy_consent" in errors(no_consent)
    assert sms.sent == []


# --- Log-in by SMS code -------------------------------------------------------------------------


def test_log_in_by_mobile_number_and_sms_code_then_log_out(site_pages, phone_client):
    profile = resident_with_number()
    response = phone_client("/code/request", {"phone": "+86 138-1234-5678"})
    assert response.status_code == 401 and pending(response) == {"login_by_code"}
    token = session_token(response)
    (code,) = texted_codes(NUMBER)
    response = phone_client("/code/confirm", {"code": code}, token=token)
    assert response.status_code == 200, response.content
    token = session_token(response)
    assert api_works(token)
    session = phone_client("/session", token=token, method="get")
    assert session.status_code == 200 and session.json()["data"]["user"]["id"] == profile.user.pk
    assert phone_client("/session", token=token, method="delete").status_code == 401
    assert not api_works(token)
    assert phone_client("/session", token=token, method="get").status_code == 410  # allauth: the token is gone


def test_wrong_codes_are_400_and_after_five_tries_the_code_is_spent(site_pages, phone_client):
    resident_with_number()
    token = session_token(phone_client("/code/request", {"phone": NUMBER}))
    (code,) = texted_codes(NUMBER)
    wrong = "000000" if code != "000000" else "111111"
    for _attempt in range(5):
        assert errors(phone_client("/code/confirm", {"code": wrong}, token=token)) == {"code": "incorrect_code"}
    late = phone_client("/code/confirm", {"code": code}, token=token)
    assert late.status_code == 409  # the flow is over: ask for a new code
    assert "session_token" not in late.json().get("meta", {}) and not api_works(token)


@pytest.mark.parametrize("bad", ["\x00", "138\x0012345678", "²", 10**23, "12345", "+1 202 555 0100", -1, {"n": 1}])
def test_malformed_numbers_are_400_and_nothing_is_texted(site_pages, phone_client, bad):
    resident_with_number()
    assert "phone" in errors(phone_client("/code/request", {"phone": bad}))
    assert "phone" in errors(phone_client("/signup", {"phone": bad, "password": PASSWORD, "privacy_consent": True}))
    assert sms.sent == []


@pytest.mark.parametrize("body", [{}, {"phone": ""}, {"phone": "", "email": ""}, {"phone": None}])
def test_a_code_request_without_number_or_address_is_400_not_500(site_pages, phone_client, body):
    response = phone_client("/code/request", body, language="en")
    errors(response)
    assert response.json()["errors"][0]["message"] == "Enter your mobile number."


def test_a_body_that_is_not_a_json_object_is_400(site_pages):
    for body in ("[1]", "not json", "\x00"):
        response = Client().post(f"{AUTH}/code/request", body, content_type="application/json")
        assert response.status_code == 400 and response["Content-Type"].startswith("application/json")
    for path in ("/code/request", "/login", "/signup"):  # a form, as a browser would post it (multipart)
        response = Client().post(AUTH + path, {"phone": "²", "email": "a@example.com"})
        assert response.status_code == 400 and response["Content-Type"].startswith("application/json"), path


def test_a_second_code_within_the_minute_is_refused_in_words_before_anything_is_sent(site_pages, phone_client):
    resident_with_number()
    token = session_token(phone_client("/code/request", {"phone": NUMBER}))
    again = phone_client("/code/request", {"phone": NUMBER}, language="en")
    assert errors(again) == {"phone": "sms_limit"}
    assert "less than a minute ago" in again.json()["errors"][0]["message"]
    # allauth's resend counts against the same limits: 429 in its shape, not a redirect to a page.
    resend = phone_client("/code/resend", token=token, language="en")
    assert errors(resend, 429) == {"too_many_codes": "too_many_codes"}
    assert len(texted_codes(NUMBER)) == 1


def test_an_unknown_number_looks_the_same_and_gets_a_text_saying_so(site_pages, phone_client):
    response = phone_client("/code/request", {"phone": "13900001111"})
    assert response.status_code == 401 and pending(response) == {"login_by_code"}
    assert [message["kind"] for message in sms.sent] == ["account.phone_unknown"]


# --- Password -----------------------------------------------------------------------------------


def test_log_in_with_e_mail_and_password_or_number_and_password(site_pages, phone_client):
    profile = resident_with_number()
    by_email = phone_client("/login", {"email": profile.user.email, "password": PASSWORD})
    assert by_email.status_code == 200 and api_works(session_token(by_email))
    by_number = phone_client("/login", {"phone": "+8613812345678", "password": PASSWORD})
    assert by_number.status_code == 200 and by_number.json()["data"]["user"]["id"] == profile.user.pk
    assert "phone" in errors(phone_client("/login", {"phone": "²", "password": PASSWORD}))


def test_the_sixth_wrong_password_is_429_in_allauth_s_shape(site_pages, phone_client):
    profile = resident_with_number()
    for _attempt in range(5):
        assert errors(phone_client("/login", {"email": profile.user.email, "password": "wrong"})) == {
            "password": "email_password_mismatch"
        }
    locked = phone_client("/login", {"email": profile.user.email, "password": PASSWORD}, language="en")
    assert errors(locked, 429) == {"too_many_login_attempts": "too_many_login_attempts"}


# --- Staff: the second step ---------------------------------------------------------------------


def test_staff_with_totp_finish_the_log_in_with_a_code_from_their_authenticator(site_pages, phone_client):
    staff = factories.VerifiedUserFactory(is_staff=True)
    staff.set_password(PASSWORD)
    staff.save()
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    response = phone_client("/login", {"email": staff.email, "password": PASSWORD})
    assert response.status_code == 401 and pending(response) == {"mfa_authenticate"}
    token = session_token(response)
    assert not api_works(token)
    assert errors(phone_client("/2fa/authenticate", {"code": "12345x"}, token=token)) == {"code": "incorrect_code"}
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = phone_client("/2fa/authenticate", {"code": code}, token=token)
    assert response.status_code == 200, response.content
    assert {method["method"] for method in response.json()["data"]["methods"]} == {"password", "mfa"}
    assert api_works(session_token(response))


def test_a_token_from_an_unfinished_log_in_is_401_on_the_api(site_pages, phone_client):
    resident_with_number()
    token = session_token(phone_client("/code/request", {"phone": NUMBER}))
    assert_problem(Client().get("/api/v1/me/bookings/", HTTP_X_SESSION_TOKEN=token), 401, "not_authenticated")
