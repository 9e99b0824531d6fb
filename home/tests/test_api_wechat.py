"""WeChat mini-program log-in (/api/v1/auth/wechat/) and linking it to an account (/api/v1/me/wechat/), against a
stand-in for WeChat's jscode2session on 127.0.0.1 (WECHAT_API_BASE_URL points wechatpy at it).

The stand-in answers each wx.login code as it was told: an OpenID, one of WeChat's error codes, a page that is not
JSON, an HTTP error, or nothing at all (a hanging endpoint, cut off by WECHAT_LOGIN_TIMEOUT).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connection
from django.test import Client, override_settings

from api.testing import assert_problem, token_for
from home import api_auth, factories, services
from home.models import MiniProgramLogin
from outbox import sms
from outbox.tests.loopback import LoopbackServer

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/wechat/"
ME = "/api/v1/me/wechat/"
NUMBER = "13812345678"
SESSION = "/sns/jscode2session"


class StandIn:
    """jscode2session on loopback: `answers[code]` is what WeChat says to that code (a dict, or "hang", "html", 502)."""

    def __init__(self) -> None:
        self.answers: dict[str, object] = {}
        self.requests: list[dict] = []
        self.release = threading.Event()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {name: values[0] for name, values in parse_qs(parts.query).items()}
                stand_in.requests.append({"path": parts.path, "query": query})
                answer = stand_in.answers.get(query.get("js_code", ""), {"errcode": 40029, "errmsg": "invalid code"})
                if answer == "hang":
                    stand_in.release.wait(10)
                    return
                status, content_type, body = 200, "application/json", b""
                if answer == "html":
                    content_type, body = "text/html", b"<html>502 Bad Gateway</html>"
                elif isinstance(answer, int):
                    status, body = answer, b'{"errcode": -1}'
                else:
                    body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass  # nothing prints

        self.loopback = LoopbackServer(Handler)
        self.url = self.loopback.url + "/"

    def close(self) -> None:
        self.release.set()
        self.loopback.close()


@pytest.fixture
def wechat():
    server = StandIn()
    with override_settings(
        LINLI_WECHAT_API_BASE_URL=server.url,
        LINLI_WECHAT_MINI_APP_ID="wx-mini-app",
        LINLI_WECHAT_MINI_APP_SECRET="mini-secret",
        LINLI_WECHAT_LOGIN_TIMEOUT=5,
    ):
        yield server
    server.close()


@pytest.fixture
def resident(site_pages):
    profile = factories.ResidentProfileFactory()
    profile.mobile, profile.mobile_verified = NUMBER, True
    profile.save()
    return profile.user


def log_in_with(code: str, **extra):
    return Client().post(LOGIN, json.dumps({"code": code}), content_type="application/json", **extra)


def link(token: str, link_token, **extra):
    return Client().post(
        ME, json.dumps({"link_token": link_token}), content_type="application/json", HTTP_X_SESSION_TOKEN=token, **extra
    )


def api_user(token: str) -> int | None:
    response = Client().get("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=token)
    return response.json()["data"]["user"]["id"] if response.status_code == 200 else None


def link_token_for(wechat: StandIn, openid: str, code: str = "code-unlinked") -> str:
    wechat.answers[code] = {"openid": openid, "session_key": "sk"}
    response = log_in_with(code)
    assert response.status_code == 202, response.content
    return response.json()["link_token"]


# --- Logging in -----------------------------------------------------------------------------------


def test_a_linked_wechat_logs_its_account_in_with_allauth_s_session_token(wechat, resident):
    MiniProgramLogin.objects.create(user=resident, openid="o-mini-1")
    wechat.answers["code-1"] = {"openid": "o-mini-1", "session_key": "sk", "unionid": "u-1"}
    response = log_in_with("code-1")
    assert response.status_code == 200, response.content
    token = response.json()["session_token"]
    assert response.json()["user_id"] == resident.pk
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies  # a token, not a cookie
    assert api_user(token) == resident.pk  # the same token allauth's headless log-in gives
    assert Client().get("/api/v1/me/bookings/", HTTP_X_SESSION_TOKEN=token).status_code == 200
    # jscode2session with the mini-program's id and secret, and no access token (none was fetched).
    (asked,) = wechat.requests
    assert asked["path"] == SESSION
    assert asked["query"] == {
        "appid": "wx-mini-app",
        "secret": "mini-secret",
        "js_code": "code-1",
        "grant_type": "authorization_code",
    }
    # Logging out through allauth ends it.
    Client().delete("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=token)
    assert api_user(token) is None


def test_the_official_account_s_openid_logs_nobody_in(wechat, resident):
    resident.profile.wechat_openid = "o-official-1"
    resident.profile.save()
    wechat.answers["code-1"] = {"openid": "o-official-1", "session_key": "sk"}
    assert log_in_with("code-1").status_code == 202  # a mini-program OpenID is another OpenID


def test_an_unlinked_wechat_gets_a_link_token_and_links_after_a_phone_code_log_in(
    wechat, resident, django_capture_on_commit_callbacks
):
    link_token = link_token_for(wechat, "o-mini-new")
    # The resident logs in by phone code (allauth headless), then sends the link token.
    phone = Client()
    with django_capture_on_commit_callbacks(execute=True):
        requested = phone.post("/_allauth/app/v1/auth/code/request", {"phone": NUMBER}, content_type="application/json")
    (text,) = sms.sent
    confirmed = Client().post(
        "/_allauth/app/v1/auth/code/confirm",
        {"code": text["params"]["code"]},
        content_type="application/json",
        HTTP_X_SESSION_TOKEN=requested.json()["meta"]["session_token"],
    )
    token = confirmed.json()["meta"]["session_token"]
    assert Client().get(ME, HTTP_X_SESSION_TOKEN=token).json() == {"linked": False, "linked_at": None}
    response = link(token, link_token)
    assert response.status_code == 200, response.content
    assert response.json()["linked"] is True
    assert MiniProgramLogin.objects.get(user=resident).openid == "o-mini-new"
    # From now on WeChat alone logs the resident in.
    wechat.answers["code-2"] = {"openid": "o-mini-new", "session_key": "sk"}
    again = log_in_with("code-2")
    assert again.status_code == 200 and api_user(again.json()["session_token"]) == resident.pk
    # Unlinked, it no longer does.
    unlinked = Client().delete(ME, HTTP_X_SESSION_TOKEN=token)
    assert unlinked.status_code == 200 and unlinked.json() == {"linked": False, "linked_at": None}
    wechat.answers["code-3"] = {"openid": "o-mini-new", "session_key": "sk"}
    assert log_in_with("code-3").status_code == 202


def test_a_replayed_link_token_links_once(wechat, resident, site_pages):
    link_token = link_token_for(wechat, "o-mini-2")
    token = token_for(resident)
    assert link(token, link_token).status_code == 200
    assert link(token, link_token).status_code == 200  # a retry of the same account: the same answer, one link
    assert MiniProgramLogin.objects.filter(openid="o-mini-2").count() == 1
    someone_else = factories.ResidentProfileFactory().user
    assert_problem(link(token_for(someone_else), link_token), 409, "link_token_used")
    Client().delete(ME, HTTP_X_SESSION_TOKEN=token)
    assert_problem(link(token, link_token), 409, "link_token_used")  # spent: unlinking does not revive it
    assert not MiniProgramLogin.objects.exists()


def test_an_expired_or_forged_link_token_is_400(wechat, resident, site_pages):
    class SignedLongAgo(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - 601)

    token = token_for(resident)
    expired = SignedLongAgo(salt=api_auth.LINK_SALT).sign_object({"openid": "o-mini-3", "nonce": "n"}, compress=True)
    data = assert_problem(link(token, expired, HTTP_ACCEPT_LANGUAGE="en"), 400, "link_token_expired")
    assert data["fields"] == {"link_token": "expired"}
    forged = signing.dumps({"openid": "o-mini-3", "nonce": "n"}, salt="another purpose")
    assert_problem(link(token, forged), 400, "link_token_invalid")
    good = link_token_for(wechat, "o-mini-3")
    assert_problem(link(token, good[:-2] + ("AA" if not good.endswith("AA") else "BB")), 400, "link_token_invalid")
    assert not MiniProgramLogin.objects.exists()


def test_another_account_s_openid_cannot_be_linked_one_account_per_openid(wechat, resident, site_pages):
    owner = factories.ResidentProfileFactory().user
    link_token = link_token_for(wechat, "o-mini-4")
    stolen = link_token_for(wechat, "o-mini-4", code="code-again")  # a second token for the same WeChat
    assert link(token_for(owner), link_token).status_code == 200
    data = assert_problem(link(token_for(resident), stolen, HTTP_ACCEPT_LANGUAGE="en"), 409, "wechat_taken")
    assert "another account" in data["message"]
    assert MiniProgramLogin.objects.get(openid="o-mini-4").user == owner
    # The resident's DELETE unlinks only their own.
    Client().delete(ME, HTTP_X_SESSION_TOKEN=token_for(resident))
    assert MiniProgramLogin.objects.filter(user=owner).exists()


def test_a_deactivated_account_lets_go_of_its_wechat(wechat, resident, site_pages):
    gone = factories.ResidentProfileFactory().user
    MiniProgramLogin.objects.create(user=gone, openid="o-mini-5")
    gone.is_active = False
    gone.save()
    link_token = link_token_for(wechat, "o-mini-5")
    assert link(token_for(resident), link_token).status_code == 200
    assert MiniProgramLogin.objects.get(openid="o-mini-5").user == resident


def test_a_new_wechat_replaces_the_account_s_old_one(wechat, resident, site_pages):
    MiniProgramLogin.objects.create(user=resident, openid="o-mini-old")
    assert link(token_for(resident), link_token_for(wechat, "o-mini-6")).status_code == 200
    assert list(MiniProgramLogin.objects.values_list("openid", flat=True)) == ["o-mini-6"]


def test_staff_with_totp_do_not_log_in_by_wechat_alone(wechat, site_pages):
    staff = factories.VerifiedUserFactory(is_staff=True)
    TOTP.activate(staff, generate_totp_secret())
    MiniProgramLogin.objects.create(user=staff, openid="o-mini-staff")
    wechat.answers["code-s"] = {"openid": "o-mini-staff", "session_key": "sk"}
    assert_problem(log_in_with("code-s"), 403, "second_factor_required")


def test_erasing_the_account_removes_its_wechat(wechat, resident):
    MiniProgramLogin.objects.create(user=resident, openid="o-mini-7")
    assert services.export_personal_data(user=resident)["wechat_mini_program"][0]["openid"] == "o-mini-7"
    services.erase_account(user=resident, actor=resident)
    assert not MiniProgramLogin.objects.exists()


# --- WeChat's refusals and faults -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "status", "code"),
    [
        ({"errcode": 40029, "errmsg": "invalid code"}, 400, "wechat_code_invalid"),
        ({"errcode": 40163, "errmsg": "code been used"}, 400, "wechat_code_invalid"),
        ({"errcode": 45011, "errmsg": "api minute-quota reach limit"}, 429, "wechat_rate_limited"),
        ({"errcode": -1, "errmsg": "system error"}, 503, "wechat_unavailable"),
        ({"errcode": 40125, "errmsg": "invalid appsecret"}, 503, "wechat_unavailable"),
        ({"session_key": "sk"}, 503, "wechat_unavailable"),  # no OpenID
        ({"openid": "x" * 65}, 503, "wechat_unavailable"),
        ("html", 503, "wechat_unavailable"),
        (502, 503, "wechat_unavailable"),
    ],
)
def test_wechat_s_refusals_and_faults_are_4xx_or_503_never_500(wechat, site_pages, answer, status, code):
    wechat.answers["c"] = answer
    assert_problem(log_in_with("c", HTTP_ACCEPT_LANGUAGE="en"), status, code)
    assert not MiniProgramLogin.objects.exists()


def test_a_hanging_wechat_is_cut_off_by_the_timeout(wechat, site_pages):
    wechat.answers["slow"] = "hang"
    with override_settings(LINLI_WECHAT_LOGIN_TIMEOUT=0.3):
        started = time.monotonic()
        assert_problem(log_in_with("slow"), 503, "wechat_unavailable")
    assert time.monotonic() - started < 3


def test_without_the_mini_program_s_settings_the_log_in_is_503(site_pages):
    with override_settings(LINLI_WECHAT_MINI_APP_ID="", LINLI_WECHAT_MINI_APP_SECRET=""):
        assert_problem(log_in_with("c"), 503, "wechat_unavailable")


def test_an_unreachable_wechat_is_503(site_pages):
    with override_settings(
        LINLI_WECHAT_API_BASE_URL="http://127.0.0.1:9/", LINLI_WECHAT_MINI_APP_ID="wx", LINLI_WECHAT_MINI_APP_SECRET="s"
    ):
        assert_problem(log_in_with("c"), 503, "wechat_unavailable")


# --- Bad input and the wrong person ---------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "\x00", "abc\x00", "²", "代码", 10**23, -1, None, "x" * 129, "a b"])
def test_bad_codes_are_422_and_never_reach_wechat(wechat, site_pages, bad):
    response = Client().post(LOGIN, json.dumps({"code": bad}), content_type="application/json")
    assert_problem(response, 422, "invalid")
    assert wechat.requests == []


@pytest.mark.parametrize("bad", ["", "\x00", "²", 10**23, "9999-12-31", -1, "x" * 501])
def test_bad_link_tokens_are_4xx(wechat, resident, site_pages, bad):
    response = link(token_for(resident), bad)
    assert response.status_code in (400, 422), response.content
    assert_problem(response, response.status_code, "invalid" if response.status_code == 422 else "link_token_invalid")


def test_linking_and_unlinking_need_a_logged_in_resident(wechat, site_pages):
    link_token = link_token_for(wechat, "o-mini-8")
    assert_problem(Client().post(ME, {"link_token": link_token}, content_type="application/json"), 401, "not_authenticated")
    assert_problem(Client().get(ME), 401, "not_authenticated")
    assert_problem(Client().delete(ME), 401, "not_authenticated")
    assert_problem(link("no-such-session", link_token), 401, "not_authenticated")
    assert not MiniProgramLogin.objects.exists()


def test_the_schema_declares_the_log_in_and_its_answers(client, site_pages):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths[LOGIN]["post"]["responses"]) >= {"200", "202", "400", "429", "503"}
    assert set(paths[ME]) == {"get", "post", "delete"}


# --- Two accounts race for one WeChat -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_accounts_linking_one_openid_at_once_one_wins(postgres_only):
    """The unique OpenID decides between two transactions that both saw it free: one link, one 409, no 500."""
    from home.services import ensure_site

    ensure_site()
    User = get_user_model()
    tokens = [
        token_for(User.objects.create(username=f"racer{number}", email=f"racer{number}@example.com")) for number in range(6)
    ]
    link_tokens = [api_auth.link_token("o-mini-race") for _ in tokens]
    barrier = threading.Barrier(len(tokens))
    responses, lock = [], threading.Lock()

    def work(token: str, link_token: str) -> None:
        try:
            barrier.wait(timeout=30)
            response = link(token, link_token)
            with lock:
                responses.append(response)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=pair) for pair in zip(tokens, link_tokens, strict=True)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(response.status_code for response in responses) == [200] + [409] * 5
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "wechat_taken")
    assert MiniProgramLogin.objects.filter(openid="o-mini-race").count() == 1
