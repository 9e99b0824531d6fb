"""The resident's own page: profile, data export and account deletion."""

import json

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import get_user_model

from home import factories, services
from home.models import ResidentProfile
from plumbing.middleware import TEXT_SIZE_COOKIE

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
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
def resident(client, site_pages):
    profile = factories.ResidentProfileFactory(display_name="王阿姨", user__email="wang@example.com")
    client.force_login(profile.user)
    return profile


def profile_data(**overrides) -> dict:
    data = {
        "display_name": "王阿姨",
        "community": "",
        "grid": "",
        "building_unit": "",
        "birth_year": "",
        "preferred_language": "zh-hans",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


# Profile


def test_profile_needs_a_login(client, site_pages):
    response = client.get("/zh-hans/me/")
    assert response.status_code == 302
    assert response["Location"].startswith("/zh-hans/accounts/login/?next=/zh-hans/me/")


@pytest.mark.parametrize(("language", "community_name"), [("zh-hans", "六和社区"), ("en", "Liuhe Community")])
def test_profile_page_shows_the_form_with_communities_in_the_active_language(
    client, resident, communities, language, community_name
):
    response = client.get(f"/{language}/me/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'lang="{language}"' in html
    assert "wang@example.com" in html
    assert 'value="王阿姨"' in html
    assert community_name in html
    # Only the source-language communities are offered, each once.
    assert [c.pk for c in response.context["form"].fields["community"].queryset] == [
        communities["jiangnan"].pk,
        communities["liuhe"].pk,
    ]


def test_saving_the_profile_changes_every_field_and_sets_the_cookies(client, resident, communities):
    response = client.post(
        "/zh-hans/me/",
        profile_data(
            display_name="王桂英",
            community=communities["liuhe"].pk,
            grid=communities["liuhe_grid"].pk,
            building_unit="3幢2单元",
            birth_year="1956",
            preferred_language="en",
            large_text="on",
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == "/en/me/"  # the page follows the newly chosen language
    assert response.cookies[TEXT_SIZE_COOKIE].value == "large"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    resident.refresh_from_db()
    assert (
        resident.display_name,
        resident.community,
        resident.grid,
        resident.building_unit,
        resident.birth_year,
        resident.preferred_language,
        resident.large_text,
    ) == ("王桂英", communities["liuhe"], communities["liuhe_grid"], "3幢2单元", 1956, "en", True)
    page = client.get("/en/me/").content.decode()
    assert "Your profile has been saved." in page  # in the newly chosen language
    assert "text-large" in page


def test_clearing_large_text_sets_the_normal_cookie(client, resident):
    resident.large_text = True
    resident.save()

    response = client.post("/zh-hans/me/", profile_data())

    assert response.cookies[TEXT_SIZE_COOKIE].value == "normal"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    resident.refresh_from_db()
    assert resident.large_text is False


@pytest.mark.parametrize("birth_year", ["1800", "abc"])
def test_a_bad_birth_year_shows_a_clear_error_and_changes_nothing(client, resident, birth_year):
    before = ResidentProfile.objects.values().get(pk=resident.pk)

    response = client.post("/zh-hans/me/", profile_data(display_name="改了名字", birth_year=birth_year, preferred_language="en"))

    assert response.status_code == 200
    assert response.context["form"].errors["birth_year"]
    assert 'class="error" role="alert"' in response.content.decode()
    assert TEXT_SIZE_COOKIE not in response.cookies
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert ResidentProfile.objects.values().get(pk=resident.pk) == before


def test_the_mobile_number_is_added_with_a_code_not_typed_into_the_profile(client, resident):
    page = client.get("/en/me/").content.decode()

    assert "Add mobile number" in page and "/accounts/phone/change/" in page
    assert "mobile" not in client.get("/en/me/").context["form"].fields


def test_a_grid_of_another_community_is_refused_and_nothing_changes(client, resident, communities):
    before = ResidentProfile.objects.values().get(pk=resident.pk)

    response = client.post(
        "/zh-hans/me/",
        profile_data(display_name="改了名字", community=communities["liuhe"].pk, grid=communities["jiangnan_grid"].pk),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["grid"]
    assert ResidentProfile.objects.values().get(pk=resident.pk) == before


def test_update_profile_service_refuses_a_grid_of_another_community_and_unknown_fields(resident, communities):
    with pytest.raises(services.ProfileError):
        services.update_profile(profile=resident, community=communities["liuhe"], grid=communities["jiangnan_grid"])
    with pytest.raises(services.ProfileError):
        services.update_profile(profile=resident, privacy_notice_version="forged")
    resident.refresh_from_db()
    assert resident.community is None
    assert resident.privacy_notice_version == "2026-11"


def test_a_birth_year_out_of_range_is_refused(client, resident):
    response = client.post("/zh-hans/me/", profile_data(birth_year="1850"))

    assert response.context["form"].errors["birth_year"]
    resident.refresh_from_db()
    assert resident.birth_year is None


# Data export


def test_data_export_holds_everything_about_the_resident_and_nothing_about_others(client, resident, communities):
    resident.mobile, resident.mobile_verified = "13912345678", True
    resident.save()
    services.update_profile(
        profile=resident,
        community=communities["jiangnan"],
        grid=communities["jiangnan_grid"],
        building_unit="5幢",
        birth_year=1980,
        large_text=True,
    )
    EmailAddress.objects.create(user=resident.user, email="second@example.com", verified=False, primary=False)
    resident.user.groups.add(communities["jiangnan"].editors)
    neighbour = factories.ResidentProfileFactory(display_name="邻居李四", mobile="13700000000", user__email="li@example.com")

    response = client.get("/zh-hans/me/data.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["account"]["email"] == "wang@example.com"
    assert data["email_addresses"] == [
        {"email": "wang@example.com", "verified": True, "primary": True},
        {"email": "second@example.com", "verified": False, "primary": False},
    ]
    assert data["groups"] == ["江南社区 · staff"]
    assert data["two_factor"] == []
    assert data["profile"] | {"privacy_consented_at": None} == {
        "display_name": "王阿姨",
        "mobile": "13912345678",
        "mobile_verified": True,
        "community": "江南社区",
        "grid": "江南第一网格",
        "building_unit": "5幢",
        "birth_year": 1980,
        "preferred_language": "zh-hans",
        "large_text": True,
        "privacy_notice_version": "2026-11",
        "privacy_consented_at": None,
    }
    assert data["profile"]["privacy_consented_at"].startswith(str(resident.privacy_consented_at.year))
    text = response.content.decode()
    for foreign in (neighbour.display_name, neighbour.mobile, neighbour.user.email, neighbour.user.username):
        assert foreign not in text


def test_data_export_lists_two_factor_methods_without_their_secrets(client, resident):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(resident.user, secret := generate_totp_secret())

    data = json.loads(client.get("/zh-hans/me/data.json").content)

    assert [method["type"] for method in data["two_factor"]] == ["totp"]
    assert secret not in json.dumps(data)
    assert Authenticator.objects.get(user=resident.user).data["secret"] not in json.dumps(data)


def test_data_export_needs_a_login_and_refuses_post(client, resident):
    assert client.post("/zh-hans/me/data.json").status_code == 405
    client.logout()
    assert client.get("/zh-hans/me/data.json").status_code == 302


# Account deletion


def test_delete_page_asks_for_confirmation(client, resident):
    response = client.get("/en/me/delete/")
    assert response.status_code == 200
    assert 'name="confirm"' in response.content.decode()


@pytest.mark.parametrize("data", [{}, {"confirm": ""}, {"confirm": "delete"}, {"confirm": "yes"}, {"confirm": "删 除"}])
def test_wrong_confirmation_shows_an_error_and_deletes_nothing(client, resident, data):
    response = client.post("/zh-hans/me/delete/", data)

    assert response.status_code == 200
    assert response.context["form"].errors["confirm"]
    user = User.objects.get(pk=resident.user.pk)
    assert user.is_active and user.email == "wang@example.com"
    assert ResidentProfile.objects.filter(pk=resident.pk).exists()
    assert EmailAddress.objects.filter(user=user).exists()
    assert "_auth_user_id" in client.session


@pytest.mark.parametrize("confirm", ["DELETE", "删除"])
def test_deleting_the_account_erases_personal_data_and_keeps_an_anonymous_row(client, resident, confirm):
    user = resident.user
    resident.mobile = "13812345678"
    resident.save()

    response = client.post("/zh-hans/me/delete/", {"confirm": confirm})

    assert response.status_code == 302
    assert response["Location"] == "/zh-hans/"
    assert "_auth_user_id" not in client.session
    erased = User.objects.get(pk=user.pk)  # the row stays for the records others need
    assert (erased.username, erased.email, erased.is_active, erased.has_usable_password()) == (
        f"erased-{user.pk}",
        "",
        False,
        False,
    )
    assert not ResidentProfile.objects.filter(user=erased).exists()
    assert not EmailAddress.objects.filter(user=erased).exists()
    assert not EmailAddress.objects.filter(email="wang@example.com").exists()

    response = client.post("/zh-hans/accounts/login/", {"login": "wang@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_deleting_the_account_ends_its_other_sessions_and_frees_the_address(client, resident):
    phone = type(client)()
    phone.force_login(resident.user)
    assert phone.get("/zh-hans/me/").status_code == 200

    client.post("/zh-hans/me/delete/", {"confirm": "DELETE"})

    response = phone.get("/zh-hans/me/")
    assert response.status_code == 302
    assert response["Location"].startswith("/zh-hans/accounts/login/")
    # The address may register anew, as a new resident.
    newcomer = type(client)()
    newcomer.post(
        "/zh-hans/accounts/signup/",
        {
            "email": "wang@example.com",
            "password1": "lantern-osmanthus-47",
            "password2": "lantern-osmanthus-47",
            "privacy_consent": "on",
        },
    )
    assert User.objects.filter(email="wang@example.com").exclude(pk=resident.user.pk).exists()


def test_only_the_resident_or_a_superuser_may_erase_an_account(resident):
    other = factories.VerifiedUserFactory()
    with pytest.raises(services.PermissionDenied):
        services.erase_account(user=resident.user, actor=other)
    assert User.objects.get(pk=resident.user.pk).is_active


@pytest.mark.parametrize("typed", ["+86 138 1234 5678", "138-1234-5678", "0086 13812345678"])
def test_mobile_numbers_are_accepted_as_people_type_them(client, site_pages, typed):
    resident = factories.ResidentProfileFactory()
    client.force_login(resident.user)

    response = client.post("/zh-hans/accounts/phone/change/", {"phone": typed})

    assert response.status_code == 302 and response["Location"] == "/zh-hans/accounts/phone/verify/"
    assert client.session["account_phone_verification"]["phone"] == "13812345678"


def test_not_found_page_is_the_portal_s_own_in_both_languages(client, site_pages):
    zh = client.get("/zh-hans/no-such-page/")
    en = client.get("/en/no-such-page/")

    assert zh.status_code == en.status_code == 404
    assert "找不到页面" in zh.content.decode()
    assert "Page not found" in en.content.decode()


def test_allauth_rate_limit_page_is_the_portal_s_own(rf, site_pages):
    from types import SimpleNamespace

    from allauth.core.ratelimit import respond_429
    from django.contrib.auth.models import AnonymousUser
    from django.utils import translation

    request = rf.get("/zh-hans/accounts/signup/")
    request.user = AnonymousUser()
    request.allauth = SimpleNamespace()  # as allauth's AccountMiddleware sets it on every request (headless reads it)
    with translation.override("zh-hans"):
        response = respond_429(request)

    assert response.status_code == 429
    assert "尝试次数过多" in response.content.decode()
