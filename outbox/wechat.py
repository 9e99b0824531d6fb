"""The WeChat channel: subscribe messages (订阅通知) of the portal's official account, chosen by
settings.LINLI_WECHAT_BACKEND (README: Messages to people).

- "console" (development): prints each message like the console SMS backend;
- "locmem" (tests): keeps each message in `sent`;
- "wechatpy": the official account's API through wechatpy's `WeChatClient` (`message/subscribe/bizsend`).

A message goes to the resident's OpenID (`ResidentProfile.wechat_openid`, linked through WeChat's OAuth web
flow: `outbox.views`) with the kind's template id and fields from settings.LINLI_WECHAT_TEMPLATES. The access
token is kept in Django's cache for every worker; wechatpy fetches a new one when WeChat says it expired.
What WeChat answers decides what the outbox does: the resident refused or never subscribed, a wrong OpenID or
template is a `PermanentFailure`; system busy, the account's quota (45009), bad credentials or an unreachable
API is `ChannelDown` (the batch waits); anything else is retried with backoff.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from .channels import ChannelDown, ConsoleChannel, PermanentFailure
from .models import Message

# The locmem backend's messages, oldest first (the tests empty it before each test).
sent: list[dict] = []

DEFAULT_API = "https://api.weixin.qq.com/"
# Longest value WeChat accepts per field type of a subscribe message template.
FIELD_LIMITS = {"thing": 20, "character_string": 32, "phrase": 5, "name": 10, "letter": 32, "symbol": 5, "number": 32}


class ProviderError(Exception):
    """WeChat refused this one message for now: retried later."""


@dataclass(frozen=True)
class Template:
    id: str
    # WeChat field name (thing1, time2 …) → the message's template parameter that fills it.
    fields: dict[str, str]


def template_for(kind: str) -> Template:
    entry = settings.LINLI_WECHAT_TEMPLATES.get(kind)
    if isinstance(entry, dict) and entry.get("id"):
        return Template(id=str(entry["id"]), fields={str(key): str(value) for key, value in (entry.get("data") or {}).items()})
    raise PermanentFailure(f"No WeChat template for {kind!r}: add its template id and fields to WECHAT_TEMPLATES")


def _fit(field: str, value: str) -> str:
    kind = field.rstrip("0123456789")
    limit = FIELD_LIMITS.get(kind)
    if limit is not None and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def template_data(message: Message, template: Template) -> dict[str, dict[str, str]]:
    """{"thing1": {"value": …}, …}: each field filled from the message's parameters, cut to WeChat's length."""
    return {field: {"value": _fit(field, message.template_params.get(name, ""))} for field, name in template.fields.items()}


def api_base() -> str:
    return (settings.LINLI_WECHAT_API_BASE_URL.strip() or DEFAULT_API).rstrip("/") + "/"


class CacheStorage:
    """wechatpy's session storage in Django's cache: one access token for every worker (WeChat limits fetches)."""

    prefix = "linli:wechat:"

    def get(self, key, default=None):
        return cache.get(self.prefix + key, default)

    def set(self, key, value, ttl=None):
        # Dropped a minute early, so a token is never used in its last seconds.
        cache.set(self.prefix + key, value, None if ttl is None else max(int(ttl) - 60, 1))

    def delete(self, key):
        cache.delete(self.prefix + key)


def client():
    """A wechatpy client for the official account, pointed at settings.LINLI_WECHAT_API_BASE_URL."""
    from wechatpy import WeChatClient

    base = api_base()

    class Client(WeChatClient):
        API_BASE_URL = f"{base}cgi-bin/"

        def fetch_access_token(self):
            # wechatpy's own method always asks api.weixin.qq.com; this asks the configured host.
            return self._fetch_access_token(
                url=f"{base}cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )

    return Client(
        settings.LINLI_WECHAT_APP_ID,
        settings.LINLI_WECHAT_APP_SECRET,
        session=CacheStorage(),
        timeout=settings.LINLI_WECHAT_TIMEOUT,
    )


def oauth(redirect_uri: str, state: str):
    """wechatpy's OAuth web flow (网页授权, scope snsapi_base: the OpenID only)."""
    from wechatpy.oauth import WeChatOAuth

    flow = WeChatOAuth(
        settings.LINLI_WECHAT_APP_ID, settings.LINLI_WECHAT_APP_SECRET, redirect_uri, scope="snsapi_base", state=state
    )
    flow.API_BASE_URL = api_base()
    return flow


class ConsoleWeChat(ConsoleChannel):
    label = "WeChat"


class LocmemWeChat:
    def send(self, message: Message) -> None:
        sent.append({"to": message.address, "kind": message.kind, "params": dict(message.template_params), "text": message.body})

    def close(self) -> None:
        pass


class WeChatPy:
    """The official account's subscribe messages through wechatpy, one client (and HTTP session) per batch."""

    # https://developers.weixin.qq.com/doc/offiaccount/Subscription_Messages/api.html and the global error codes
    permanent = {
        40003,  # invalid OpenID
        40037,  # invalid template id
        43101,  # the resident refused (or has no subscription left for this template)
        47003,  # template fields do not match
        43116,  # template banned
        40036,  # invalid template id size
    }
    account = {
        -1,  # system busy
        45009,  # the account's daily quota for this API is used up
        40001,  # access token invalid even after a fresh one (wrong secret)
        40013,  # invalid app id
        40125,  # invalid app secret
        40164,  # this server's IP is not on the account's allow-list
        48001,  # the account may not use this API
    }

    def __init__(self) -> None:
        if not settings.LINLI_WECHAT_APP_ID or not settings.LINLI_WECHAT_APP_SECRET:
            raise ImproperlyConfigured("WECHAT_BACKEND=wechatpy needs WECHAT_APP_ID and WECHAT_APP_SECRET")
        self.client = client()

    def classify(self, code, text: str) -> Exception:
        if code in self.permanent:
            return PermanentFailure(text)
        if code is None or code in self.account:  # None: an HTTP error status, no WeChat answer
            return ChannelDown(text)
        return ProviderError(text)

    def send(self, message: Message) -> None:
        import requests
        from wechatpy.exceptions import WeChatClientException

        template = template_for(message.kind)
        payload = {"touser": message.address, "template_id": template.id, "data": template_data(message, template)}
        try:
            self.client.post("message/subscribe/bizsend", data=payload)
        except WeChatClientException as error:
            raise self.classify(error.errcode, f"WeChat {error.errcode}: {error.errmsg}"[:300]) from error
        except requests.RequestException as error:
            raise ChannelDown(f"WeChat unreachable: {type(error).__name__}: {error}"[:300]) from error

    def close(self) -> None:
        self.client._http.close()


BACKENDS = {"console": ConsoleWeChat, "locmem": LocmemWeChat, "wechatpy": WeChatPy}


def wechat_channel():
    backend = BACKENDS.get(settings.LINLI_WECHAT_BACKEND)
    if backend is None:
        raise ImproperlyConfigured(f"WECHAT_BACKEND must be one of {', '.join(BACKENDS)}, not {settings.LINLI_WECHAT_BACKEND!r}")
    return backend()
