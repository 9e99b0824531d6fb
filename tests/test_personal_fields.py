"""Personal fields on every resident form say what they hold (type, inputmode, autocomplete), so that phones
open the right keyboard and autofill works (WCAG 1.3.5); grid lists are narrowed to the chosen community."""

import pytest
from bs4 import BeautifulSoup
from django.utils import translation

from deliberation.mailbox.models import MailboxSettings
from home import factories
from home.forms import ProfileForm

LANGUAGES = ["zh-hans", "en"]
# name of a field → what its <input> must say (the allauth, profile, household and letter forms).
EXPECTED = {
    "phone": {"type": "tel", "inputmode": "tel", "autocomplete": "tel"},
    "login": {"autocomplete": "username"},
    "email": {"autocomplete": {"email", "username"}},  # "username" where the field takes a number or an address
    "password": {"autocomplete": "current-password"},
    "password1": {"autocomplete": "new-password"},
    "password2": {"autocomplete": "new-password"},
    "display_name": {"autocomplete": "nickname"},
    "building_unit": {"autocomplete": "address-line2"},
    "birth_year": {"inputmode": "numeric"},
    "contact_name": {"autocomplete": "name"},
    "contact": {"autocomplete": "email"},
}


def inputs(html: str) -> dict[str, dict]:
    soup = BeautifulSoup(html, "html.parser")
    return {tag["name"]: tag.attrs for tag in soup.select("main input[name]") if tag.get("type") not in {"hidden", "submit"}}


def check(fields: dict[str, dict]) -> list[str]:
    wrong = []
    for name, attrs in fields.items():
        for attribute, value in EXPECTED.get(name, {}).items():
            if attrs.get(attribute) not in (value if isinstance(value, set) else {value}):
                wrong.append(f"{name}: {attribute}={attrs.get(attribute)!r}, want {value!r}")
    return wrong


@pytest.mark.parametrize("language", LANGUAGES)
def test_sign_up_and_log_in_forms_open_the_right_keyboard_and_autofill(client, site_pages, language):
    pages = ["accounts/signup/", "accounts/login/", "accounts/login/code/", "accounts/password/reset/"]
    seen = {}
    for page in pages:
        response = client.get(f"/{language}/{page}")
        assert response.status_code == 200, page
        fields = inputs(response.content.decode())
        assert check(fields) == [], page
        seen |= fields
    assert {"phone", "login", "email", "password", "password1"} <= set(seen)


@pytest.mark.parametrize("language", LANGUAGES)
def test_profile_household_and_letter_forms_mark_personal_fields(client, site_pages, language):
    MailboxSettings.objects.update_or_create(pk=MailboxSettings.load().pk, defaults={"allow_anonymous": True})
    anonymous = inputs(client.get(f"/{language}/mailbox/write/").content.decode())
    profile = factories.ResidentProfileFactory()
    client.force_login(profile.user)
    mine = inputs(client.get(f"/{language}/me/").content.decode())
    household = inputs(client.get(f"/{language}/me/household/").content.decode())

    assert {"display_name", "building_unit", "birth_year"} <= set(mine)
    assert {"contact_name", "contact"} <= set(anonymous)
    assert household["birth_year"]["inputmode"] == "numeric"
    assert check(mine) == [] and check(anonymous) == [] and check(household) == []


@pytest.fixture
def two_communities(site_pages):
    # Codes fix the order (communities are listed by code; "community-10" would sort before "community-9").
    liuhe = factories.CommunityFactory(name="六和社区", code="a-liuhe")
    jiangnan = factories.CommunityFactory(name="江南社区", code="b-jiangnan")
    grids = [factories.GridFactory(community=community, number=number) for community in (liuhe, jiangnan) for number in (1, 2)]
    return liuhe, jiangnan, grids


def shown(names: list[str], language: str) -> list[str]:
    """Places without an English name, as a page in `language` shows them: marked on English pages."""
    return [f"{name} (no English yet)" if language == "en" else name for name in names]


def grid_options(html: str) -> tuple[list[str], list[str]]:
    select = BeautifulSoup(html, "html.parser").select_one("select[name=grid]")
    return [group["label"] for group in select.select("optgroup")], [o.get_text() for o in select.select("option") if o["value"]]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_profile_offers_only_the_chosen_community_s_grids(client, two_communities, language):
    liuhe, jiangnan, grids = two_communities
    profile = factories.ResidentProfileFactory(community=liuhe)
    client.force_login(profile.user)

    groups, options = grid_options(client.get(f"/{language}/me/").content.decode())

    assert groups == [] and options == shown(["第1网格", "第2网格"], language)  # Liuhe's two, not Jiangnan's look-alikes


def test_without_a_community_the_grids_are_grouped_under_their_community(two_communities):
    liuhe, jiangnan, grids = two_communities
    profile = factories.ResidentProfileFactory(community=None, grid=None)

    with translation.override("zh-hans"):
        groups, options = grid_options(str(ProfileForm(instance=profile)["grid"]))

    assert groups == ["六和社区", "江南社区"] and len(options) == 4


def test_changing_the_community_asks_for_a_grid_of_the_new_one_from_a_narrowed_list(two_communities):
    liuhe, jiangnan, grids = two_communities
    profile = factories.ResidentProfileFactory(community=liuhe, grid=grids[0])
    data = {"community": jiangnan.pk, "grid": grids[0].pk, "preferred_language": "zh-hans"}

    form = ProfileForm(data, instance=profile)

    assert not form.is_valid() and "grid" in form.errors
    assert [value for value, _label in form.fields["grid"].choices][1:] == [grids[2].pk, grids[3].pk]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_letter_form_groups_grids_by_community_until_one_is_chosen(client, two_communities, language):
    MailboxSettings.objects.update_or_create(pk=MailboxSettings.load().pk, defaults={"allow_anonymous": True})
    liuhe, jiangnan, grids = two_communities

    groups, options = grid_options(client.get(f"/{language}/mailbox/write/").content.decode())

    assert groups == shown(["六和社区", "江南社区"], language) and len(options) == 4
