"""The admin edits a community, grid, earning rule or reward as one snippet with its labels side by side
(Chinese first); wagtail-localize translates pages only, not these."""

import re

import pytest
from django.urls import reverse

from home.factories import CommunityFactory, GridFactory, UserFactory
from points.factories import EarningRuleFactory, RewardFactory

pytestmark = pytest.mark.usefixtures("site_pages")


@pytest.fixture
def street_office(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


@pytest.mark.parametrize(
    ("make", "labels"),
    [
        (lambda: CommunityFactory(name_en="Liuhe Community"), ["name", "description"]),
        (lambda: GridFactory(name_en="Grid 1"), ["name"]),
        (lambda: EarningRuleFactory(name_en="Attending"), ["name", "description"]),
        (lambda: RewardFactory(name_en="Tote bag"), ["name", "description", "pickup_place", "pickup_hours"]),
    ],
)
def test_one_snippet_with_both_labels_side_by_side_and_no_translation_ui(street_office, make, labels):
    thing = make()
    meta = thing._meta
    edit = reverse(f"wagtailsnippets_{meta.app_label}_{meta.model_name}:edit", args=[thing.pk])
    html = street_office.get(edit).content.decode()
    for name in labels:
        chinese, english = html.find(f'name="{name}"'), html.find(f'name="{name}_en"')
        assert 0 < chinese < english  # the Chinese label first, the English one beside it
    assert "wagtail_localize" not in html and not re.search(r'name="locale"', html)
    listing = street_office.get(reverse(f"wagtailsnippets_{meta.app_label}_{meta.model_name}:list"))
    assert listing.status_code == 200
    submit = f"/zh-hans/admin/localize/submit/snippet/{meta.app_label}/{meta.model_name}/{thing.pk}/"
    assert street_office.get(submit).status_code == 404  # wagtail-localize: not a translatable model
