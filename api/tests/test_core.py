"""The API's shared core: schema and docs, the error shape in both languages, authentication through allauth's
headless mode, rate limits, the body size limit and CORS."""

from __future__ import annotations

import pytest
from django.test import override_settings

from api.testing import assert_problem, token_for
from home.factories import ResidentProfileFactory, VerifiedUserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture
def resident(site_pages):
    user = VerifiedUserFactory(username="api-resident")
    ResidentProfileFactory(user=user)
    return user


def test_the_schema_is_public_openapi_3_1_and_lists_the_resources(client, site_pages):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert schema["info"]["version"] == "1"
    for path in (
        "/api/v1/notices/",
        "/api/v1/notices/{notice_id}/",
        "/api/v1/activities/",
        "/api/v1/activities/{activity_id}/",
        "/api/v1/me/bookings/",
        "/api/v1/me/bookings/{booking_id}/",
        "/api/v1/sessions/{session_id}/bookings/",
        "/api/v1/me/bookings/{booking_id}/cancel/",
        "/api/v1/me/bookings/{booking_id}/ticket/",
    ):
        assert path in schema["paths"], path


def test_the_interactive_docs_are_for_staff_only(client, resident, admin_user):
    assert client.get("/api/v1/docs").status_code == 302  # to the admin's log-in
    client.force_login(resident)
    assert client.get("/api/v1/docs").status_code == 302
    client.force_login(admin_user)
    assert client.get("/api/v1/docs").status_code == 200


@pytest.mark.parametrize(
    ("language", "message"),
    [("zh-hans", "请先登录。"), ("en", "Please log in first.")],
)
def test_401_without_a_token_in_the_request_language(client, site_pages, language, message):
    response = client.get("/api/v1/me/bookings/", HTTP_ACCEPT_LANGUAGE=language)
    data = assert_problem(response, 401, "not_authenticated")
    assert data["message"] == message


def test_a_token_that_names_no_session_is_401(client, site_pages):
    assert_problem(client.get("/api/v1/me/bookings/", HTTP_X_SESSION_TOKEN="no-such-session"), 401, "not_authenticated")


@pytest.mark.parametrize(
    ("language", "message"),
    [("zh-hans", "未找到。"), ("en", "Not found.")],
)
def test_an_unknown_address_under_the_api_is_json_404(client, site_pages, language, message):
    data = assert_problem(client.get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE=language), 404, "not_found")
    assert data["message"] == message


def test_a_wrong_method_is_json(client, site_pages):
    assert_problem(client.post("/api/v1/notices/"), 405, "method_not_allowed")


def test_control_characters_refused_by_the_input_guard_are_json_400(client, site_pages):
    assert_problem(client.get("/api/v1/notices/?cursor=%00"), 400, "bad_request")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_validation_errors_name_their_fields(client, site_pages, language):
    data = assert_problem(client.get("/api/v1/notices/?limit=²", HTTP_ACCEPT_LANGUAGE=language), 422, "invalid")
    assert "limit" in data["fields"]
    assert data["message"] == ("提交的部分数据无效。" if language == "zh-hans" else "Some of the data sent is not valid.")


def test_a_cursor_the_api_did_not_make_is_400(client, site_pages):
    for cursor in ("abc", "eyJwIjogLTF9", "eyJwIjogdHJ1ZX0", "eyJwIjoxMDAwMDAwMDAwMDAwMDAwMDAwMDAwMH0"):
        data = assert_problem(client.get(f"/api/v1/notices/?cursor={cursor}"), 400, "bad_cursor")
        assert data["fields"] == {"cursor": "invalid"}


def test_an_unexpected_fault_is_a_json_500(client, site_pages, monkeypatch):
    from home import api as notices_api

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(notices_api, "page_of", broken)
    data = assert_problem(client.get("/api/v1/notices/", HTTP_ACCEPT_LANGUAGE="en"), 500, "server_error")
    assert "boom" not in data["message"]


# ---------------------------------------------------------------------------
# Authentication: allauth's headless log-in for app clients, then X-Session-Token


def test_log_in_by_e_mail_and_password_use_the_token_and_log_out(resident):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)  # a phone sends no CSRF token: the app client needs none
    response = client.post(
        "/_allauth/app/v1/auth/login",
        {"email": resident.email, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    token = response.json()["meta"]["session_token"]
    phone = Client(enforce_csrf_checks=True)  # a phone keeps no cookies: only the token
    assert phone.get("/api/v1/me/bookings/", HTTP_X_SESSION_TOKEN=token).status_code == 200
    booking = phone.post("/api/v1/sessions/999/bookings/", "{}", content_type="application/json", HTTP_X_SESSION_TOKEN=token)
    assert_problem(booking, 404, "not_found")  # through authentication without CSRF; no such session
    session = phone.get("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=token)
    assert session.json()["data"]["user"]["email"] == resident.email
    assert phone.delete("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=token).status_code == 401
    assert_problem(phone.get("/api/v1/me/bookings/", HTTP_X_SESSION_TOKEN=token), 401, "not_authenticated")


def test_a_wrong_password_is_refused_by_allauth(client, resident):
    response = client.post(
        "/_allauth/app/v1/auth/login", {"email": resident.email, "password": "wrong"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "session_token" not in response.json().get("meta", {})


def test_the_browser_log_in_keeps_working(client, resident):
    response = client.post("/en/accounts/login/", {"login": resident.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/api/v1/me/bookings/").status_code == 200  # the session cookie is accepted too


def test_an_inactive_residents_token_is_refused(client, resident):
    token = token_for(resident)
    resident.is_active = False
    resident.save()
    assert_problem(client.get("/api/v1/me/bookings/", HTTP_X_SESSION_TOKEN=token), 401, "not_authenticated")


# ---------------------------------------------------------------------------
# Limits


@override_settings(LINLI_API_RATE_PER_ADDRESS=3, LINLI_API_RATE_WINDOW_SECONDS=60)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_too_many_requests_from_one_address_get_429_with_retry_after(client, site_pages, language):
    for _ in range(3):
        assert client.get("/api/v1/notices/").status_code == 200
    response = client.get("/api/v1/notices/", HTTP_ACCEPT_LANGUAGE=language)
    assert_problem(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another address has its own count.
    assert client.get("/api/v1/notices/", REMOTE_ADDR="10.0.0.9").status_code == 200


@override_settings(LINLI_API_RATE_PER_TOKEN=2, LINLI_API_RATE_PER_ADDRESS=0)
def test_too_many_requests_with_one_token_get_429(client, resident):
    token = token_for(resident)
    for _ in range(2):
        assert client.get("/api/v1/me/bookings/", HTTP_X_SESSION_TOKEN=token).status_code == 200
    response = client.get("/api/v1/me/bookings/", HTTP_X_SESSION_TOKEN=token, REMOTE_ADDR="10.0.0.8")
    assert_problem(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1


@override_settings(LINLI_API_MAX_BODY_BYTES=1024)
def test_a_body_over_the_limit_is_413(client, resident):
    response = client.post(
        "/api/v1/sessions/1/bookings/",
        '{"member": null, "pad": "' + "x" * 2000 + '"}',
        content_type="application/json",
        HTTP_X_SESSION_TOKEN=token_for(resident),
    )
    assert_problem(response, 413, "too_large")


@override_settings(LINLI_API_CORS_ORIGINS=["https://m.example.cn"])
def test_cors_only_for_configured_origins(client, site_pages):
    allowed = client.get("/api/v1/notices/", HTTP_ORIGIN="https://m.example.cn")
    assert allowed["Access-Control-Allow-Origin"] == "https://m.example.cn"
    other = client.get("/api/v1/notices/", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other
    preflight = client.options(
        "/api/v1/me/bookings/",
        HTTP_ORIGIN="https://m.example.cn",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="X-Session-Token",
    )
    assert preflight.status_code == 204
    assert "X-Session-Token" in preflight["Access-Control-Allow-Headers"]
    # Every method and header the API's operations take (profile PATCH, household DELETE, a secret ballot's receipt).
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= {
        method.strip() for method in preflight["Access-Control-Allow-Methods"].split(",")
    }
    assert {"Idempotency-Key", "If-None-Match", "X-Ballot-Receipt"} <= {
        header.strip() for header in preflight["Access-Control-Allow-Headers"].split(",")
    }


def test_no_cors_by_default(client, site_pages):
    assert "Access-Control-Allow-Origin" not in client.get("/api/v1/notices/", HTTP_ORIGIN="https://m.example.cn")


@pytest.mark.parametrize(
    ("language", "message"), [("zh-hans", "只有工作人员可以放宽年龄段。"), ("en", "Only staff may override the age band.")]
)
def test_a_services_permission_error_is_403_with_its_message(client, resident, monkeypatch, language, message):
    from django.core.exceptions import PermissionDenied
    from django.utils.translation import gettext

    from events import services
    from events.factories import SessionFactory

    def refuse(**kwargs):
        raise PermissionDenied(gettext("Only staff may override the age band."))

    monkeypatch.setattr(services, "book_session", refuse)
    session = SessionFactory()
    response = client.post(
        f"/api/v1/sessions/{session.pk}/bookings/",
        "{}",
        content_type="application/json",
        HTTP_X_SESSION_TOKEN=token_for(resident),
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert assert_problem(response, 403, "forbidden")["message"] == message


def test_anonymous_api_answers_are_never_stored_in_the_page_cache(client, site_pages):
    from plumbing.middleware import CACHE_STATUS_HEADER

    for _ in range(2):
        response = client.get("/api/v1/notices/")
        assert response.status_code == 200
        assert CACHE_STATUS_HEADER not in response or response[CACHE_STATUS_HEADER] != "hit"


def test_a_browser_session_needs_its_csrf_token_to_write(resident):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(resident)
    assert browser.get("/api/v1/me/bookings/").status_code == 200
    response = browser.post("/api/v1/me/bookings/1/cancel/", HTTP_ACCEPT_LANGUAGE="en")
    assert assert_problem(response, 403, "forbidden")["message"] == "You may not do this."
