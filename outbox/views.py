"""The resident's own page for how Linli tells them things, and linking their WeChat: thin views over `services`."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from home.scope import for_request
from home.services import verified_phone
from plumbing.links import absolute_url

from . import services, wechat
from .forms import ChannelPreferenceForm

WECHAT_STATE = "linli_wechat_state"


def wechat_configured() -> bool:
    return bool(settings.LINLI_WECHAT_APP_ID and settings.LINLI_WECHAT_APP_SECRET)


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = request.user
    usable = services.usable_channels(user)
    staff = for_request(request).any
    form_kwargs = {"usable": usable, "initial_choices": services.channel_choices(user), "staff": staff}
    status = 200
    if request.method == "POST":
        form = ChannelPreferenceForm(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                services.set_channel_preferences(user=user, choices=form.cleaned_data)
            except services.PreferenceError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Your choices have been saved."))
                return redirect("notifications:preferences")
        status = 400
    else:
        form = ChannelPreferenceForm(**form_kwargs)
    profile = getattr(user, "profile", None)
    context = {
        "form": form,
        "usable": usable,
        "email": user.email,
        "phone": verified_phone(user),
        "wechat_linked": bool(profile and profile.wechat_openid),
        "wechat_configured": wechat_configured(),
    }
    return render(request, "outbox/preferences.html", context, status=status)


@login_required
@require_POST
def wechat_link(request: HttpRequest) -> HttpResponse:
    """Send the resident to WeChat's authorisation page; WeChat sends them back to `wechat_callback`."""
    if not wechat_configured():
        messages.error(request, _("Linking WeChat is not available on this site yet."))
        return redirect("notifications:preferences")
    state = secrets.token_urlsafe(16)
    request.session[WECHAT_STATE] = state
    callback = absolute_url(reverse("notifications:wechat_callback"))
    return redirect(wechat.oauth(callback, state).authorize_url)


@login_required
@require_safe
def wechat_callback(request: HttpRequest) -> HttpResponse:
    """WeChat's answer: the code is exchanged for the resident's OpenID, which is stored on their profile."""
    import requests
    from wechatpy.exceptions import WeChatOAuthException

    expected = request.session.pop(WECHAT_STATE, None)
    code, state = request.GET.get("code", ""), request.GET.get("state", "")
    if not wechat_configured():
        messages.error(request, _("Linking WeChat is not available on this site yet."))
        return redirect("notifications:preferences")
    if not expected or not secrets.compare_digest(str(state), expected):
        return render(
            request, "outbox/wechat_failed.html", {"reason": _("This link has expired. Please start again.")}, status=400
        )
    if not code or len(code) > 200:
        # WeChat sends no code when the resident declined.
        return render(request, "outbox/wechat_failed.html", {"reason": _("WeChat was not linked.")}, status=400)
    flow = wechat.oauth(absolute_url(reverse("notifications:wechat_callback")), state)
    try:
        answer = flow.fetch_access_token(code)
        services.link_wechat(user=request.user, openid=str(answer.get("openid", "")))
    except (WeChatOAuthException, requests.RequestException, KeyError, ValueError):
        return render(
            request, "outbox/wechat_failed.html", {"reason": _("WeChat did not confirm the link. Please try again.")}, status=502
        )
    except services.PreferenceError as error:
        return render(request, "outbox/wechat_failed.html", {"reason": str(error)}, status=409)
    finally:
        flow._http.close()
    messages.success(request, _("Your WeChat is linked. Choose below what we send there."))
    return redirect("notifications:preferences")


@login_required
@require_POST
def wechat_unlink(request: HttpRequest) -> HttpResponse:
    services.unlink_wechat(user=request.user)
    messages.success(request, _("Your WeChat is no longer linked."))
    return redirect("notifications:preferences")
