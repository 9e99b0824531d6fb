"""Log-in for phone clients beyond allauth's own endpoints (README: API → Logging in).

- The WeChat mini-program (/api/v1/auth/wechat/): the `wx.login` code is exchanged with WeChat's jscode2session
  for the mini-program's OpenID. A linked OpenID logs its account in and gets the same session token as
  allauth's headless log-in (X-Session-Token); an unlinked one gets a short-lived signed link token, which the
  resident, once logged in by phone code, sends to /api/v1/me/wechat/ to link it.
- allauth's headless code request with the portal's rules (`RequestLoginCodeView`, mounted in site/linli/urls.py).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from importlib import import_module
from typing import Annotated

from allauth.account.adapter import get_adapter
from allauth.headless import app_settings as headless_settings
from allauth.headless.account import views as headless_views
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field, StringConstraints

from api.core import ApiError, ErrorOut, json_with_etag, resident_auth
from outbox.wechat import api_base

from . import services
from .account_forms import RequestLoginCodeInput
from .models import MiniProgramLogin

logger = logging.getLogger(__name__)

router = Router(tags=["log-in"])

LINK_SALT = "home.api_auth.wechat-link"


class RequestLoginCodeView(headless_views.RequestLoginCodeView):
    """allauth's /_allauth/app/v1/auth/code/request with the page's rules (home/account_forms.LoginCodeRules)."""

    input_class = RequestLoginCodeInput


# ---------------------------------------------------------------------------
# WeChat's jscode2session through wechatpy


class WeChatUnavailable(Exception):
    """WeChat could not answer now (unreachable, too slow, busy, not configured, or our credentials refused)."""


class WeChatRefused(Exception):
    """WeChat refused the code (invalid, used or expired): the mini-program must call wx.login again."""


class WeChatBusy(Exception):
    """WeChat's limit on log-ins per resident (45011) is reached for now."""


def mini_program_client():
    """A wechatpy client of the mini-program, pointed at settings.LINLI_WECHAT_API_BASE_URL."""
    from wechatpy import WeChatClient

    class MiniProgram(WeChatClient):
        API_BASE_URL = api_base()

        def code_to_session(self, js_code: str) -> dict:
            # jscode2session takes the app's id and secret, not an access token. wechatpy adds one to every dict of
            # parameters (fetching it first); given pairs it adds none. Its own wxa.code_to_session would fetch one.
            params = [("appid", self.appid), ("secret", self.secret), ("js_code", js_code), ("grant_type", "authorization_code")]
            return self.get("sns/jscode2session", params=params)

    return MiniProgram(
        settings.LINLI_WECHAT_MINI_APP_ID,
        settings.LINLI_WECHAT_MINI_APP_SECRET,
        timeout=settings.LINLI_WECHAT_LOGIN_TIMEOUT,
        auto_retry=False,
    )


# https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
CODE_REFUSED = {40029, 40163, 40226}  # invalid code, code already used, a high-risk user
RATE_LIMITED = 45011


def openid_for(code: str) -> str:
    """The mini-program's OpenID of the resident whose wx.login gave `code`."""
    import requests
    from wechatpy.exceptions import WeChatClientException

    if not settings.LINLI_WECHAT_MINI_APP_ID or not settings.LINLI_WECHAT_MINI_APP_SECRET:
        raise WeChatUnavailable("WECHAT_MINI_APP_ID and WECHAT_MINI_APP_SECRET are not set")
    client = mini_program_client()
    try:
        answer = client.code_to_session(code)
    except WeChatClientException as error:
        if error.errcode in CODE_REFUSED:
            raise WeChatRefused(f"WeChat {error.errcode}") from error
        if error.errcode == RATE_LIMITED:
            raise WeChatBusy(f"WeChat {error.errcode}") from error
        # -1 busy, 40013/40125 our id or secret, an HTTP error status (errcode None): nothing the resident can fix.
        logger.warning("WeChat jscode2session refused: %s %s", error.errcode, error.errmsg)
        raise WeChatUnavailable(f"WeChat {error.errcode}") from error
    except (requests.RequestException, ValueError) as error:
        raise WeChatUnavailable(f"WeChat unreachable: {type(error).__name__}") from error
    finally:
        client._http.close()
    openid = answer.get("openid") if isinstance(answer, dict) else None  # not JSON: wechatpy hands back the response
    if not isinstance(openid, str) or not 0 < len(openid) <= MiniProgramLogin._meta.get_field("openid").max_length:
        logger.warning("WeChat jscode2session answered without an OpenID")
        raise WeChatUnavailable("WeChat answered without an OpenID")
    return openid


# ---------------------------------------------------------------------------
# Link tokens: the OpenID, signed, for a few minutes, used once


def link_token(openid: str) -> str:
    return signing.dumps({"openid": openid, "nonce": uuid.uuid4().hex}, salt=LINK_SALT, compress=True)


def read_link_token(token: str) -> tuple[str, str]:
    """(OpenID, nonce) of a link token this server made and that has not expired; ApiError otherwise."""
    max_age = settings.LINLI_WECHAT_LINK_TOKEN_SECONDS
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise ApiError(
            400, "link_token_expired", _("This link has expired. Open the mini-program again."), {"link_token": "expired"}
        ) from None
    except signing.BadSignature:
        raise ApiError(400, "link_token_invalid", _("This link is not valid."), {"link_token": "invalid"}) from None
    if not isinstance(data, dict) or not isinstance(data.get("openid"), str) or not isinstance(data.get("nonce"), str):
        raise ApiError(400, "link_token_invalid", _("This link is not valid."), {"link_token": "invalid"})
    return data["openid"], data["nonce"]


# ---------------------------------------------------------------------------
# The endpoints


class WeChatCodeIn(Schema):
    code: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]


class LoggedIn(Schema):
    session_token: str = Field(description="Send it as X-Session-Token, as allauth's headless log-in's token.")
    user_id: int


class LinkNeeded(Schema):
    link_token: str = Field(
        description="This WeChat logs no account in yet: log in (by phone code) and POST it to /api/v1/me/wechat/."
    )
    expires_in: int = Field(description="Seconds the link token stays valid.")


class LinkIn(Schema):
    link_token: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class LinkOut(Schema):
    linked: bool
    linked_at: datetime.datetime | None


def _new_session() -> SessionBase:
    # A session of its own, never a browser's cookie session, as allauth's headless app client has.
    return import_module(settings.SESSION_ENGINE).SessionStore()


def _has_second_factor(user) -> bool:
    return Authenticator.objects.filter(user=user).exclude(type=Authenticator.Type.RECOVERY_CODES).exists()


@router.post(
    "/auth/wechat/",
    response={200: LoggedIn, 202: LinkNeeded, 400: ErrorOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut, 503: ErrorOut},
    summary="Log in from the WeChat mini-program with the wx.login code",
    description="A WeChat linked to an account: 200 with a session token. Not linked yet: 202 with a link token "
    "(log in by phone code, then POST it to /api/v1/me/wechat/). The code is WeChat's: used once, 5 minutes.",
)
def wechat_login(request: HttpRequest, payload: WeChatCodeIn):
    try:
        openid = openid_for(payload.code)
    except WeChatRefused:
        raise ApiError(
            400, "wechat_code_invalid", _("WeChat did not accept this log-in. Please try again."), {"code": "invalid"}
        ) from None
    except WeChatBusy:
        raise ApiError(429, "wechat_rate_limited", _("Too many log-ins from this WeChat. Please wait a minute.")) from None
    except WeChatUnavailable:
        raise ApiError(503, "wechat_unavailable", _("WeChat log-in is not available now. Please try again later.")) from None
    link = MiniProgramLogin.objects.select_related("user").filter(openid=openid, user__is_active=True).first()
    if link is None:
        return Status(202, {"link_token": link_token(openid), "expires_in": settings.LINLI_WECHAT_LINK_TOKEN_SECONDS})
    user = link.user
    if _has_second_factor(user):
        # Staff with TOTP log in with their password and their authenticator, never by WeChat alone.
        raise ApiError(403, "second_factor_required", _("This account logs in with its password and authenticator code."))
    # As allauth's headless app client: the log-in goes into a session of its own, whose key is the token; the
    # request's own session (a cookie, if any) is left as it was and no cookie is set.
    cookie_session, cookie_user = request.session, request.user
    request.session = _new_session()
    try:
        get_adapter(request).login(request, user)
        token = headless_settings.TOKEN_STRATEGY.create_session_token(request)
        request.session.save()  # what allauth's authentication context does on the way out
    finally:
        request.session, request.user = cookie_session, cookie_user
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False  # login() rotated the CSRF token of no browser
    return Status(200, {"session_token": token, "user_id": user.pk})


def _link_state(user) -> dict:
    link = MiniProgramLogin.objects.filter(user=user).first()
    return {"linked": link is not None, "linked_at": link.linked_at if link else None}


@router.get(
    "/me/wechat/", response={200: LinkOut, 401: ErrorOut}, auth=resident_auth, summary="Whether WeChat logs this account in"
)
def wechat_link_state(request: HttpRequest):
    return json_with_etag(request, _link_state(request.auth))


@router.post(
    "/me/wechat/",
    response={200: LinkOut, 400: ErrorOut, 401: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    auth=resident_auth,
    summary="Link the mini-program's WeChat to this account",
    description="With the link token of POST /api/v1/auth/wechat/. A token links once; sending it again from the "
    "account it linked answers 200 as the first time.",
)
def wechat_link(request: HttpRequest, payload: LinkIn):
    user = request.auth
    openid, nonce = read_link_token(payload.link_token)
    if MiniProgramLogin.objects.filter(user=user, openid=openid).exists():
        return _link_state(user)  # a retry: already done
    if not cache.add(f"wechat-link-token:{nonce}", user.pk, timeout=settings.LINLI_WECHAT_LINK_TOKEN_SECONDS + 60):
        raise ApiError(409, "link_token_used", _("This link was used already. Open the mini-program again."))
    services.link_mini_program(user=user, openid=openid)
    return _link_state(user)


@router.delete(
    "/me/wechat/", response={200: LinkOut, 401: ErrorOut}, auth=resident_auth, summary="WeChat no longer logs this account in"
)
def wechat_unlink(request: HttpRequest):
    services.unlink_mini_program(user=request.auth)
    return _link_state(request.auth)
