"""The API's own account (/api/v1/me/profile/, /me/preferences/, /me/export/, /me/deletion/) over the profile page's
form and service, the notification page's form and service and the privacy export and erasure: success, no
token, bad input (never a 5xx), both languages."""

from __future__ import annotations

import json

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from api.testing import assert_problem, token_for
from events.factories import HouseholdMemberFactory
from events.models import HouseholdMember
from home import factories, services
from home.models import ResidentProfile
from outbox.models import ChannelPreference

BAD_VALUES = ["\x00", "²", 10**23, "9999-12-31", -1, 0, "", None]
User = get_user_model()


@pytest.fixture
def communities(site_pages):
    liuhe = services.create_community(name="六和社区", code="liuhe", name_en="Liuhe Community")
    jiangnan = services.create_community(name="江南社区", code="jiangnan", name_en="Jiangnan Community")
    return {
        "liuhe": liuhe,
        "liuhe_grid": factories.GridFactory(community=liuhe, number=1, name="六和第一网格"),
        "jiangnan": jiangnan,
        "jiangnan_grid": factories.GridFactory(community=jiangnan, number=1, name="江南第一网格"),
    }


@pytest.fixture
def profile(site_pages):
    return factories.ResidentProfileFactory(display_name="王阿姨", user__email="wang@example.com", birth_year=1960)


@pytest.fixture
def phone(client, profile):
    """A phone client of the resident: every request carries their session token (and no cookie)."""
    token = token_for(profile.user)

    def call(method: str, path: str, body=None, **headers):
        if body is not None:
            headers["content_type"] = "application/json"
            body = json.dumps(body) if not isinstance(body, str) else body
            return getattr(client, method)(path, body, HTTP_X_SESSION_TOKEN=token, **headers)
        return getattr(client, method)(path, HTTP_X_SESSION_TOKEN=token, **headers)

    call.token = token
    return call


def profile_row(profile) -> dict:
    return ResidentProfile.objects.values().get(pk=profile.pk)


# ---------------------------------------------------------------------------
# Profile


@pytest.mark.parametrize(("language", "community_name"), [("zh-hans", "六和社区"), ("en", "Liuhe Community")])
def test_the_profile_in_both_languages(phone, profile, communities, language, community_name):
    services.update_profile(profile=profile, community=communities["liuhe"], grid=communities["liuhe_grid"])
    response = phone("get", "/api/v1/me/profile/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    data = response.json()
    assert (data["display_name"], data["email"], data["email_verified"], data["verified_resident"]) == (
        "王阿姨",
        "wang@example.com",
        True,
        True,
    )
    assert (data["community"], data["community_name"], data["grid"]) == (
        communities["liuhe"].pk,
        community_name,
        communities["liuhe_grid"].pk,
    )
    assert "private" in response["Cache-Control"]
    etag = response["ETag"]
    assert phone("get", "/api/v1/me/profile/", HTTP_ACCEPT_LANGUAGE=language, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_change_every_field_the_profile_page_edits(phone, profile, communities):
    body = {
        "display_name": "王老师",
        "community": communities["liuhe"].pk,
        "grid": communities["liuhe_grid"].pk,
        "building_unit": "3栋2单元",
        "birth_year": 1958,
        "preferred_language": "en",
        "large_text": True,
    }
    response = phone("patch", "/api/v1/me/profile/", body)
    assert response.status_code == 200, response.content
    assert {name: response.json()[name] for name in body} == body
    profile.refresh_from_db()
    assert (profile.display_name, profile.community, profile.grid, profile.building_unit) == (
        "王老师",
        communities["liuhe"],
        communities["liuhe_grid"],
        "3栋2单元",
    )
    assert (profile.birth_year, profile.preferred_language, profile.large_text) == (1958, "en", True)


def test_a_patch_changes_only_what_it_names_and_null_clears(phone, profile, communities):
    services.update_profile(profile=profile, community=communities["liuhe"], grid=communities["liuhe_grid"], large_text=True)
    assert phone("patch", "/api/v1/me/profile/", {"building_unit": "5栋"}).status_code == 200
    profile.refresh_from_db()
    assert (profile.display_name, profile.community, profile.grid, profile.birth_year, profile.large_text) == (
        "王阿姨",
        communities["liuhe"],
        communities["liuhe_grid"],
        1960,
        True,
    )
    response = phone("patch", "/api/v1/me/profile/", {"grid": None, "birth_year": None})
    assert (response.json()["grid"], response.json()["birth_year"], response.json()["community"]) == (
        None,
        None,
        communities["liuhe"].pk,
    )


@pytest.mark.parametrize(("language", "message"), [("zh-hans", "网格"), ("en", "grid")])
def test_a_grid_of_another_community_is_the_forms_error_in_both_languages(phone, profile, communities, language, message):
    before = profile_row(profile)
    body = {"community": communities["liuhe"].pk, "grid": communities["jiangnan_grid"].pk}
    data = assert_problem(phone("patch", "/api/v1/me/profile/", body, HTTP_ACCEPT_LANGUAGE=language), 422, "invalid")
    assert message in data["fields"]["grid"]
    assert profile_row(profile) == before


def test_the_mobile_number_and_consent_are_not_changed_here(phone, profile):
    before = profile_row(profile)
    for body in (
        {"mobile": "13812345678"},
        {"privacy_notice_version": "forged"},
        {"display_name": "新名", "email": "x@example.com"},
    ):
        data = assert_problem(phone("patch", "/api/v1/me/profile/", body), 422, "invalid")
        assert set(data["fields"]) <= set(body)
    assert profile_row(profile) == before


@pytest.mark.parametrize("bad", BAD_VALUES)
def test_bad_profile_input_is_4xx_and_changes_nothing(phone, profile, communities, bad):
    before = profile_row(profile)
    for field in ("display_name", "community", "grid", "building_unit", "birth_year", "preferred_language", "large_text"):
        response = phone("patch", "/api/v1/me/profile/", {field: bad})
        if response.status_code == 200:
            text = field in ("display_name", "building_unit") and (bad is None or (isinstance(bad, str) and "\x00" not in bad))
            cleared = bad is None and field in ("community", "grid", "birth_year", "large_text")
            assert text or cleared or (field == "large_text" and bad == 0), (field, bad)  # a text, a clear, or "no"
            ResidentProfile.objects.filter(pk=profile.pk).update(**{key: value for key, value in before.items() if key != "id"})
            continue
        assert 400 <= response.status_code < 500, (field, bad, response.content)
        assert_problem(response, response.status_code, response.json()["code"])
    assert profile_row(profile) == before
    for body in ("[]", "null", '{"birth_year": 1e400}', '{"display_name": "\\u0000"}', str(bad)):
        response = phone("patch", "/api/v1/me/profile/", body)
        assert 400 <= response.status_code < 500, body
    assert profile_row(profile) == before


def test_a_birth_year_out_of_the_forms_range_is_a_field_error(phone, profile):
    for year in (1800, 10**23, timezone.localdate().year + 200):
        data = assert_problem(
            phone("patch", "/api/v1/me/profile/", {"birth_year": year}, HTTP_ACCEPT_LANGUAGE="en"), 422, "invalid"
        )
        assert "birth_year" in data["fields"]
    profile.refresh_from_db()
    assert profile.birth_year == 1960


# ---------------------------------------------------------------------------
# Notification preferences


@pytest.mark.parametrize(("language", "label"), [("zh-hans", "预约确认"), ("en", "Booking confirmations")])
def test_the_preferences_show_each_topic_with_its_channels_in_both_languages(phone, language, label):
    response = phone("get", "/api/v1/me/preferences/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    data = response.json()
    topics = {topic["key"]: topic for topic in data["topics"]}
    assert topics["bookings"]["label"] == label
    assert topics["bookings"]["channels"] == ["email"]  # the default: e-mail, the one channel there is
    assert "staff" not in topics  # only staff hear about overdue work
    assert [channel["value"] for channel in data["usable"]] == ["email"]
    assert data["wechat_linked"] is False


def test_choose_channels_per_topic(phone, profile):
    ResidentProfile.objects.filter(pk=profile.pk).update(mobile="13812345678", mobile_verified=True)
    topics = {topic["key"]: ["email"] for topic in phone("get", "/api/v1/me/preferences/").json()["topics"]}
    topics["reminders"] = ["sms"]
    topics["bookings"] = ["sms", "email"]
    response = phone("put", "/api/v1/me/preferences/", {"topics": topics})
    assert response.status_code == 200, response.content
    chosen = {topic["key"]: topic["channels"] for topic in response.json()["topics"]}
    assert (chosen["reminders"], chosen["bookings"], chosen["points"]) == (["sms"], ["email", "sms"], ["email"])
    assert ChannelPreference.objects.get(user=profile.user, kind="reminders").channels == ["sms"]


@pytest.mark.parametrize(("language", "message"), [("zh-hans", "至少"), ("en", "at least one")])
def test_every_topic_needs_a_channel_the_resident_has(phone, profile, language, message):
    topics = {topic["key"]: ["email"] for topic in phone("get", "/api/v1/me/preferences/").json()["topics"]}
    data = assert_problem(
        phone("put", "/api/v1/me/preferences/", {"topics": {**topics, "points": []}}, HTTP_ACCEPT_LANGUAGE=language),
        422,
        "invalid",
    )
    assert message in data["fields"]["points"]
    missing = {key: value for key, value in topics.items() if key != "letters"}
    assert "letters" in assert_problem(phone("put", "/api/v1/me/preferences/", {"topics": missing}), 422, "invalid")["fields"]
    no_phone = assert_problem(
        phone("put", "/api/v1/me/preferences/", {"topics": {**topics, "reminders": ["sms"]}}), 422, "invalid"
    )
    assert "reminders" in no_phone["fields"]
    assert not ChannelPreference.objects.exists()


@pytest.mark.parametrize("bad", BAD_VALUES)
def test_bad_preferences_are_4xx_and_save_nothing(phone, bad):
    topics = {topic["key"]: ["email"] for topic in phone("get", "/api/v1/me/preferences/").json()["topics"]}
    for body in (
        {"topics": {**topics, "points": [bad]}},
        {"topics": {**topics, "points": bad}},
        {"topics": {**topics, str(bad): ["email"]}},
        {"topics": bad},
        bad,
    ):
        response = phone("put", "/api/v1/me/preferences/", json.dumps(body))
        assert 400 <= response.status_code < 500, (body, response.content)
        assert_problem(response, response.status_code, response.json()["code"])
    assert not ChannelPreference.objects.exists()


# ---------------------------------------------------------------------------
# Data export and deletion


def test_the_data_export_holds_the_residents_data_and_nobody_elses(phone, profile):
    HouseholdMemberFactory(resident=profile.user, name="小明")
    HouseholdMemberFactory(resident=factories.ResidentProfileFactory().user, name="别人家的孩子")
    response = phone("get", "/api/v1/me/export/")
    assert response.status_code == 200
    data = response.json()
    assert data["account"]["email"] == "wang@example.com"
    assert data["profile"]["display_name"] == "王阿姨"
    assert [member["name"] for member in data["household_members"]] == ["小明"]
    assert "别人家的孩子" not in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(("language", "message"), [("zh-hans", "删除"), ("en", "DELETE")])
@pytest.mark.parametrize("confirm", ["", "delete", "yes", "删 除", "\x00", "²", "9999-12-31"])
def test_a_wrong_confirmation_deletes_nothing(phone, profile, confirm, language, message):
    data = assert_problem(
        phone("post", "/api/v1/me/deletion/", {"confirm": confirm}, HTTP_ACCEPT_LANGUAGE=language), 422, "invalid"
    )
    if confirm not in ("", "\x00"):  # those are the form's "required" and "no NUL" errors
        assert message in data["fields"]["confirm"]
    assert data["fields"]["confirm"]
    assert User.objects.get(pk=profile.user.pk).is_active
    assert ResidentProfile.objects.filter(pk=profile.pk).exists()


@pytest.mark.parametrize("body", [{}, {"confirm": None}, {"confirm": 10**23}, [], "DELETE"])
def test_a_deletion_without_a_confirmation_text_is_4xx(phone, profile, body):
    response = phone("post", "/api/v1/me/deletion/", json.dumps(body))
    assert_problem(response, 422, "invalid")
    assert User.objects.get(pk=profile.user.pk).is_active


@pytest.mark.parametrize(("confirm", "language", "message"), [("删除", "zh-hans", "已删除"), ("DELETE", "en", "deleted")])
def test_deleting_the_account_erases_it_as_the_page_does_and_ends_the_token(phone, profile, confirm, language, message):
    user = profile.user
    HouseholdMemberFactory(resident=user, name="小明")
    response = phone("post", "/api/v1/me/deletion/", {"confirm": confirm}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.content
    assert response.json()["deleted"] is True and message in response.json()["message"]
    erased = User.objects.get(pk=user.pk)  # the row stays for the records others need
    assert (erased.username, erased.email, erased.is_active, erased.has_usable_password()) == (
        f"erased-{user.pk}",
        "",
        False,
        False,
    )
    assert not ResidentProfile.objects.filter(user=erased).exists()
    assert not EmailAddress.objects.filter(user=erased).exists()
    assert not HouseholdMember.objects.filter(resident=erased).exists()
    # The token is over: nothing more is answered to it.
    assert_problem(phone("get", "/api/v1/me/profile/"), 401, "not_authenticated")
    assert_problem(phone("post", "/api/v1/me/deletion/", {"confirm": confirm}), 401, "not_authenticated")


def test_a_browser_session_deleting_the_account_is_logged_out(client, profile):
    """A page of the portal calling the API with its session cookie (the test client skips the CSRF check)."""
    client.force_login(profile.user)
    response = client.post("/api/v1/me/deletion/", {"confirm": "DELETE"}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert "_auth_user_id" not in client.session
    assert not User.objects.get(pk=profile.user.pk).is_active


# ---------------------------------------------------------------------------
# The wrong person


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/me/profile/", None),
        ("patch", "/api/v1/me/profile/", {"display_name": "偷改"}),
        ("get", "/api/v1/me/preferences/", None),
        ("put", "/api/v1/me/preferences/", {"topics": {"bookings": ["email"]}}),
        ("get", "/api/v1/me/export/", None),
        ("post", "/api/v1/me/deletion/", {"confirm": "DELETE"}),
    ],
)
def test_every_account_endpoint_needs_a_token(client, profile, method, path, body):
    response = (
        getattr(client, method)(path, json.dumps(body), content_type="application/json")
        if body
        else getattr(client, method)(path)
    )
    assert_problem(response, 401, "not_authenticated")
    # An expired or made-up token is no better.
    made_up = getattr(client, method)(path, HTTP_X_SESSION_TOKEN="x" * 32)
    assert_problem(made_up, 401, "not_authenticated")
    profile.refresh_from_db()
    assert profile.display_name == "王阿姨" and profile.user.is_active
