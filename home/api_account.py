"""The API's own account (/api/v1/me/profile/, /me/preferences/, /me/export/, /me/deletion/): the profile page's
form and services, the notification page's form and services (outbox), the privacy export and erasure. No rule
lives here."""

from __future__ import annotations

from typing import Any, Literal

from django.contrib.auth import logout
from django.forms import model_to_dict
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from api.core import ApiError, ErrorOut, form_errors, invalid, json_with_etag, resident_auth
from outbox import services as outbox
from outbox.forms import ChannelPreferenceForm
from outbox.kinds import TOPICS
from outbox.models import Message
from plumbing.parsing import MAX_PK

from . import services
from .forms import DeleteAccountForm, ProfileForm
from .i18n import label
from .scope import for_user

router = Router(tags=["account"])

TopicKey = Literal[tuple(topic.key for topic in TOPICS)]
ChannelValue = Literal[tuple(Message.Channel.values)]


# ---------------------------------------------------------------------------
# Profile: the profile page's form (ProfileForm) and service (update_profile)


class ProfileOut(Schema):
    display_name: str
    email: str
    email_verified: bool
    mobile: str
    mobile_verified: bool
    verified_resident: bool
    community: int | None
    community_name: str | None
    grid: int | None
    grid_name: str | None
    building_unit: str
    birth_year: int | None
    preferred_language: str
    large_text: bool


class ProfilePatch(Schema):
    """The fields the profile page edits; leave out what does not change. The mobile number changes only with an
    SMS code (allauth's phone pages), the e-mail address with a verification link."""

    model_config = ConfigDict(extra="forbid")  # a field that cannot be changed here is refused, not ignored
    display_name: str | None = None
    community: int | None = Field(default=None, ge=1, le=MAX_PK)
    grid: int | None = Field(default=None, ge=1, le=MAX_PK)
    building_unit: str | None = None
    birth_year: int | None = None
    preferred_language: str | None = Field(default=None, description="zh-hans or en")
    large_text: bool | None = None


def _profile(user, profile) -> dict:
    return {
        "display_name": profile.display_name,
        "email": user.email,
        "email_verified": services.has_verified_email(user),
        "mobile": profile.mobile,
        "mobile_verified": profile.mobile_verified,
        "verified_resident": services.is_verified_resident(user),
        "community": profile.community_id,
        "community_name": label(profile.community) if profile.community_id else None,
        "grid": profile.grid_id,
        "grid_name": label(profile.grid) if profile.grid_id else None,
        "building_unit": profile.building_unit,
        "birth_year": profile.birth_year,
        "preferred_language": profile.preferred_language,
        "large_text": profile.large_text,
    }


@router.get("/me/profile/", response={200: ProfileOut, 401: ErrorOut}, auth=resident_auth, summary="The resident's profile")
def get_profile(request: HttpRequest):
    profile = services.get_or_create_profile(user=request.auth)
    return json_with_etag(request, _profile(request.auth, profile))


@router.patch(
    "/me/profile/",
    response={200: ProfileOut, 401: ErrorOut, 422: ErrorOut},
    auth=resident_auth,
    summary="Change the profile (as the profile page: a grid of the chosen community)",
)
def change_profile(request: HttpRequest, payload: ProfilePatch):
    profile = services.get_or_create_profile(user=request.auth)
    data = {name: value for name, value in model_to_dict(profile, fields=ProfileForm.Meta.fields).items() if value is not None}
    data.update({name: "" if value is None else value for name, value in payload.dict(exclude_unset=True).items()})
    form = ProfileForm(data, instance=profile)
    if not form.is_valid():
        raise invalid(form_errors(form))
    changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
    profile.refresh_from_db()  # the form's validation wrote its values onto the instance
    try:
        services.update_profile(profile=profile, **changes)
    except services.ProfileError as error:
        raise ApiError(422, "invalid", str(error), {"__all__": str(error)}) from error
    return _profile(request.auth, profile)


# ---------------------------------------------------------------------------
# Notification preferences: the "How we tell you" page's form and service (outbox)


class ChannelOut(Schema):
    value: str
    label: str


class PreferenceTopicOut(Schema):
    key: str
    label: str
    help: str
    channels: list[str]


class PreferencesOut(Schema):
    usable: list[ChannelOut]
    topics: list[PreferenceTopicOut]
    wechat_linked: bool


class PreferencesIn(Schema):
    """Every topic of `topics` (as GET lists them) with at least one usable channel, as the page's form."""

    model_config = ConfigDict(extra="forbid")
    topics: dict[TopicKey, list[ChannelValue]]


def _preference_form(user, data: dict | None = None) -> ChannelPreferenceForm:
    return ChannelPreferenceForm(
        data,
        usable=outbox.usable_channels(user),
        initial_choices=outbox.channel_choices(user),
        staff=for_user(user).any,
    )


def _preferences(user) -> dict:
    form = _preference_form(user)
    chosen = outbox.channel_choices(user)
    profile = getattr(user, "profile", None)
    return {
        "usable": [{"value": value, "label": str(Message.Channel(value).label)} for value in outbox.usable_channels(user)],
        "topics": [
            {"key": topic.key, "label": str(topic.label), "help": str(topic.help), "channels": chosen[topic.key]}
            for topic in form.topics
        ],
        "wechat_linked": bool(profile and profile.wechat_openid),
    }


@router.get(
    "/me/preferences/",
    response={200: PreferencesOut, 401: ErrorOut},
    auth=resident_auth,
    summary="How the resident hears about each topic: the channels chosen (or the defaults) and those usable",
)
def get_preferences(request: HttpRequest):
    return json_with_etag(request, _preferences(request.auth))


@router.put(
    "/me/preferences/",
    response={200: PreferencesOut, 401: ErrorOut, 422: ErrorOut},
    auth=resident_auth,
    summary="Choose the channels of every topic (each at least one the resident can be reached on)",
)
def set_preferences(request: HttpRequest, payload: PreferencesIn):
    user = request.auth
    form = _preference_form(user, {key: list(channels) for key, channels in payload.topics.items()})
    if not form.is_valid():
        raise invalid(form_errors(form))
    try:
        outbox.set_channel_preferences(user=user, choices=form.cleaned_data)
    except outbox.PreferenceError as error:
        raise ApiError(422, "invalid", str(error), {"__all__": str(error)}) from error
    return _preferences(user)


# ---------------------------------------------------------------------------
# Privacy: the data export and the erasure of the account, as on "My page"


@router.get(
    "/me/export/",
    response={200: dict[str, Any], 401: ErrorOut},
    auth=resident_auth,
    summary="Everything Linli holds about the resident (the data export of My page), made now",
)
def export(request: HttpRequest):
    return services.export_personal_data(user=request.auth)


class DeletionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    confirm: str = Field(description="DELETE or 删除, as typed on the page")


class DeletionOut(Schema):
    deleted: bool
    message: str


@router.post(
    "/me/deletion/",
    response={200: DeletionOut, 401: ErrorOut, 422: ErrorOut},
    auth=resident_auth,
    summary="Delete the account: personal data erased, records others need kept without identity; logged out",
)
def delete_account(request: HttpRequest, payload: DeletionIn):
    form = DeleteAccountForm({"confirm": payload.confirm})
    if not form.is_valid():
        raise invalid(form_errors(form))
    user = request.auth
    services.erase_account(user=user, actor=user)
    token = request.headers.get("X-Session-Token")
    if token:
        from allauth.headless.internal.sessionkit import lookup_session

        session = lookup_session(token)
        if session is not None:
            session.delete()
    else:
        logout(request)
    return {"deleted": True, "message": _("Your account and personal data have been deleted.")}
