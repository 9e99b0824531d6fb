"""Helpers for the API's tests in every app: a session token as a phone client holds it, and the error shape."""

from __future__ import annotations

from django.test import Client


def token_for(user) -> str:
    """A session token for the user, as allauth's headless log-in returns it (the token is the session's key)."""
    browser = Client()
    browser.force_login(user)
    return browser.session.session_key


def assert_problem(response, status: int, code: str) -> dict:
    """The one error shape: JSON with code, a message and fields, never HTML."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    assert set(data) == {"code", "message", "fields"}
    assert data["code"] == code
    assert isinstance(data["message"], str) and data["message"]
    assert isinstance(data["fields"], dict)
    return data
