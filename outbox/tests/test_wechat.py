"""The WeChat channel and linking a resident's WeChat, against a stand-in for api.weixin.qq.com on 127.0.0.1.

wechatpy's client and OAuth flow are pointed at the stand-in with WECHAT_API_BASE_URL; the stand-in answers
the token, subscribe-message and OAuth code endpoints as WeChat documents them.
"""

from __future__ import annotations

import io
import json
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from home.factories import ResidentProfileFactory, VerifiedUserFactory
from home.services import create_community
from outbox import services, wechat
from outbox.models import Message
from outbox.tests.loopback import LoopbackServer

TEMPLATES = {
    "events.reminder": {"id": "TPL-reminder", "data": {"thing1": "activity", "time2": "time", "thing3": "place"}},
}


class StandIn:
    """WeChat's API on loopback: records each request; answers each path with its next queued reply."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.replies: dict[str, list[dict]] = {}
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                query = {name: values[0] for name, values in parse_qs(parts.query).items()}
                stand_in.requests.append({"method": self.command, "path": parts.path, "query": query, "body": body})
                queued = stand_in.replies.get(parts.path) or []
                payload = queued.pop(0) if queued else {"errcode": -1, "errmsg": "system error"}
                status = payload.pop("_status", 200)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = answer

            def log_message(self, *args) -> None:
                pass  # nothing prints

        self.loopback = LoopbackServer(Handler)
        self.url = self.loopback.url + "/"

    def reply(self, path: str, *payloads: dict) -> None:
        self.replies.setdefault(path, []).extend(payloads)

    def sent(self) -> list[dict]:
        return [request for request in self.requests if request["path"] == "/cgi-bin/message/subscribe/bizsend"]

    def close(self) -> None:
        self.loopback.close()


TOKEN = "/cgi-bin/token"
SEND = "/cgi-bin/message/subscribe/bizsend"
OAUTH = "/sns/oauth2/access_token"


def token(value: str = "ACCESS-1") -> dict:
    return {"access_token": value, "expires_in": 7200}


def ok() -> dict:
    return {"errcode": 0, "errmsg": "ok"}


@pytest.fixture
def stand_in():
    server = StandIn()
    settings = {
        "LINLI_WECHAT_BACKEND": "wechatpy",
        "LINLI_WECHAT_APP_ID": "wx-test-app",
        "LINLI_WECHAT_APP_SECRET": "test-secret",
        "LINLI_WECHAT_TEMPLATES": TEMPLATES,
        "LINLI_WECHAT_API_BASE_URL": server.url,
        "LINLI_WECHAT_TIMEOUT": 5,
    }
    with override_settings(**settings):
        yield server
    server.close()


@pytest.fixture
def resident(site_pages):
    community = create_community(name="六和社区", code="liuhe", name_en="Liuhe")
    user = VerifiedUserFactory()
    ResidentProfileFactory(user=user, community=community, preferred_language="zh-hans", wechat_openid="o-resident-1")
    user.refresh_from_db()
    services.set_channel_preferences(user=user, choices={"reminders": ["wechat"]})
    return user


def remind(resident, number: int = 1) -> Message:
    def render():
        return services.Content(
            subject="Reminder",
            body="Body",
            params={
                "activity": "太极拳晨练班（适合初学者和长者的二十四式简化太极）",
                "time": "2026-12-06 09:00",
                "place": "活动室",
            },
        )

    (message,) = services.notify(kind="events.reminder", recipient=resident, render=render, idempotency_key=f"r:{number}")
    return message


def status(message: Message) -> Message:
    message.refresh_from_db()
    return message


def test_a_subscribe_message_goes_out_with_the_kinds_template_and_fields(stand_in, resident):
    stand_in.reply(TOKEN, token())
    stand_in.reply(SEND, ok(), ok())
    first, second = remind(resident, 1), remind(resident, 2)
    assert first.channel == "wechat" and first.address == "o-resident-1"
    assert services.deliver_due() == 2
    assert status(first).status == Message.Status.SENT and status(second).status == Message.Status.SENT
    (fetch,) = [request for request in stand_in.requests if request["path"] == TOKEN]
    assert fetch["query"] == {"grant_type": "client_credential", "appid": "wx-test-app", "secret": "test-secret"}
    sends = stand_in.sent()
    assert len(sends) == 2 and all(request["query"]["access_token"] == "ACCESS-1" for request in sends)
    payload = json.loads(sends[0]["body"])
    assert payload["touser"] == "o-resident-1" and payload["template_id"] == "TPL-reminder"
    assert payload["data"]["time2"] == {"value": "2026-12-06 09:00"}
    assert payload["data"]["thing3"] == {"value": "活动室"}
    assert len(payload["data"]["thing1"]["value"]) == 20  # WeChat's limit for a "thing" field


def test_the_token_is_kept_for_the_next_batch_and_fetched_anew_when_wechat_says_it_expired(stand_in, resident):
    stand_in.reply(TOKEN, token("ACCESS-1"), token("ACCESS-2"))
    stand_in.reply(SEND, ok())
    remind(resident, 1)
    services.deliver_due()
    # The next batch (another worker) uses the cached token; WeChat says it has expired (42001).
    stand_in.reply(SEND, {"errcode": 42001, "errmsg": "access_token expired"}, ok())
    later = remind(resident, 2)
    services.deliver_due()
    assert status(later).status == Message.Status.SENT
    assert [request["path"] for request in stand_in.requests] == [TOKEN, SEND, SEND, TOKEN, SEND]
    assert [request["query"]["access_token"] for request in stand_in.sent()] == ["ACCESS-1", "ACCESS-1", "ACCESS-2"]
    assert cache.get("linli:wechat:wx-test-app_access_token") == "ACCESS-2"


def test_a_resident_who_refused_the_subscription_fails_at_once(stand_in, resident):
    stand_in.reply(TOKEN, token())
    stand_in.reply(SEND, {"errcode": 43101, "errmsg": "user refuse to accept the msg"})
    message = remind(resident)
    services.deliver_due()
    message = status(message)
    assert message.status == Message.Status.FAILED and message.attempts == 1
    assert "43101" in message.last_error


@pytest.mark.parametrize(
    "answer",
    [
        {"errcode": -1, "errmsg": "system error"},  # busy
        {"errcode": 45009, "errmsg": "reach max api daily quota limit"},  # throttled
        {"_status": 502, "errcode": 0},  # the gateway in front of WeChat
    ],
    ids=["busy", "throttled", "http-502"],
)
def test_a_busy_or_throttled_wechat_makes_the_batch_wait_and_retry(stand_in, resident, answer):
    stand_in.reply(TOKEN, token())
    stand_in.reply(SEND, answer)
    first, second = remind(resident, 1), remind(resident, 2)
    assert services.deliver_due() == 0
    assert len(stand_in.sent()) == 1  # the second waits without asking WeChat
    for message in (status(first), status(second)):
        assert message.status == Message.Status.PENDING and message.attempts == 1
        assert message.next_attempt_at > timezone.now()
    Message.objects.update(next_attempt_at=timezone.now())
    stand_in.reply(SEND, ok(), ok())
    assert services.deliver_due() == 2


def test_an_unreachable_wechat_is_retried(stand_in, resident):
    message = remind(resident)
    stand_in.close()
    services.deliver_due()
    message = status(message)
    assert message.status == Message.Status.PENDING and "unreachable" in message.last_error


def test_a_kind_without_a_template_fails_at_once_saying_what_is_missing(stand_in, resident):
    stand_in.reply(TOKEN, token())
    with override_settings(LINLI_WECHAT_TEMPLATES={}):
        message = remind(resident)
        services.deliver_due()
    message = status(message)
    assert message.status == Message.Status.FAILED and "WECHAT_TEMPLATES" in message.last_error
    assert stand_in.sent() == []


def test_the_console_backend_prints_the_short_text():
    stream = io.StringIO()
    message = Message(kind="events.reminder", address="o-1", body="明天9:00太极拳", template_params={"activity": "太极拳"})
    wechat.ConsoleWeChat(stream).send(message)
    assert "WeChat to o-1" in stream.getvalue() and "明天9:00太极拳" in stream.getvalue()


# --- Linking a resident's WeChat (OAuth web flow) -------------------------------------------------------


def test_linking_redirects_to_wechat_and_the_callback_stores_the_openid(client, stand_in, site_pages):
    user = VerifiedUserFactory()
    ResidentProfileFactory(user=user, preferred_language="en")
    client.force_login(user)
    start = client.post("/en/me/notifications/wechat/link/")
    assert start.status_code == 302
    location = start["Location"]
    assert location.startswith("https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx-test-app")
    assert "scope=snsapi_base" in location and location.endswith("#wechat_redirect")
    state = parse_qs(urlsplit(location.removesuffix("#wechat_redirect")).query)["state"][0]
    redirect_uri = parse_qs(urlsplit(location.removesuffix("#wechat_redirect")).query)["redirect_uri"][0]
    assert redirect_uri.endswith("/en/me/notifications/wechat/callback/")
    stand_in.reply(
        OAUTH,
        {"access_token": "web-token", "expires_in": 7200, "refresh_token": "r", "openid": "o-linked-9", "scope": "snsapi_base"},
    )
    done = client.get("/en/me/notifications/wechat/callback/", {"code": "CODE-1", "state": state})
    assert done.status_code == 302 and done["Location"] == "/en/me/notifications/"
    (exchange,) = [request for request in stand_in.requests if request["path"] == OAUTH]
    assert exchange["query"] == {
        "appid": "wx-test-app",
        "secret": "test-secret",
        "code": "CODE-1",
        "grant_type": "authorization_code",
    }
    user.refresh_from_db()
    assert user.profile.wechat_openid == "o-linked-9"
    page = client.get("/en/me/notifications/").content.decode()
    assert 'value="wechat"' in page
    # The state is used once: the same callback again is refused and changes nothing.
    assert client.get("/en/me/notifications/wechat/callback/", {"code": "CODE-2", "state": state}).status_code == 400


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_forged_state_or_a_refused_code_changes_nothing(client, stand_in, site_pages, language):
    user = VerifiedUserFactory()
    ResidentProfileFactory(user=user, preferred_language=language)
    client.force_login(user)
    client.post(f"/{language}/me/notifications/wechat/link/")
    forged = client.get(f"/{language}/me/notifications/wechat/callback/", {"code": "C", "state": "not-the-state"})
    assert forged.status_code == 400
    assert ("This link has expired" if language == "en" else "此链接已失效") in forged.content.decode()
    start = client.post(f"/{language}/me/notifications/wechat/link/")
    state = parse_qs(urlsplit(start["Location"].removesuffix("#wechat_redirect")).query)["state"][0]
    stand_in.reply(OAUTH, {"errcode": 40029, "errmsg": "invalid code"})
    refused = client.get(f"/{language}/me/notifications/wechat/callback/", {"code": "BAD", "state": state})
    assert refused.status_code == 502
    user.refresh_from_db()
    assert user.profile.wechat_openid == ""


def test_linking_is_offered_only_when_the_site_has_a_wechat_account(client, site_pages):
    user = VerifiedUserFactory()
    ResidentProfileFactory(user=user, preferred_language="en")
    client.force_login(user)
    assert "Link my WeChat" not in client.get("/en/me/notifications/").content.decode()
    response = client.post("/en/me/notifications/wechat/link/")
    assert response.status_code == 302 and response["Location"] == "/en/me/notifications/"
    assert client.get("/en/me/notifications/wechat/link/").status_code == 405


def test_unlinking_stops_wechat_messages(client, resident):
    client.force_login(resident)
    assert client.post("/zh-hans/me/notifications/wechat/unlink/").status_code == 302
    resident.refresh_from_db()
    assert resident.profile.wechat_openid == ""
    assert services.channels_for(resident, "events.reminder") == ["email"]
