"""home/i18n.py: the source language, a label in the active language, the language a person reads."""

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from home import i18n
from home.factories import CommunityFactory, GridFactory, ResidentProfileFactory, UserFactory
from home.models import Community


def test_the_source_language_is_the_sites_language():
    assert i18n.source_language() == settings.LANGUAGE_CODE == "zh-hans"


@pytest.mark.django_db
def test_a_label_is_the_english_one_on_english_pages_and_the_chinese_one_otherwise():
    liuhe = CommunityFactory(name="六和社区", name_en="Liuhe Community", description="老社区", description_en="")
    with translation.override("zh-hans"):
        assert i18n.label(liuhe) == str(liuhe) == "六和社区"
        assert i18n.label(liuhe, "description") == "老社区"
    with translation.override("en"):
        assert i18n.label(liuhe) == str(liuhe) == "Liuhe Community"
        assert i18n.label(liuhe, "description") == "老社区"  # no English yet: the Chinese, unmarked
        assert i18n.label(None) == ""


@pytest.mark.django_db
def test_labels_of_many_rows_cost_one_query(django_assert_num_queries):
    grids = [GridFactory(name=f"第{n}网格", name_en=f"Grid {n}" if n % 2 else "") for n in range(1, 5)]
    with translation.override("en"), django_assert_num_queries(1):
        names = i18n.labels(type(grids[0]), [grid.pk for grid in grids] + [None])
    assert names == {grids[0].pk: "Grid 1", grids[1].pk: "第2网格", grids[2].pk: "Grid 3", grids[3].pk: "第4网格"}
    with django_assert_num_queries(0):
        assert i18n.labels(Community, []) == {}


@pytest.mark.django_db
def test_the_language_a_person_reads_is_their_profiles_else_the_fallback_else_chinese():
    reader = ResidentProfileFactory(preferred_language="en").user
    assert i18n.language_of(reader) == "en"
    assert i18n.language_of(reader, "zh-hans") == "en"
    no_profile = UserFactory()
    assert i18n.language_of(no_profile) == "zh-hans"
    assert i18n.language_of(no_profile, "en") == "en"
    assert i18n.language_of(None) == i18n.language_of(AnonymousUser()) == "zh-hans"


def test_a_field_kept_in_both_languages_is_marked_where_english_is_missing():
    with translation.override("en"):
        assert i18n.in_reader_language("议题", "Topic") == "Topic"
        assert i18n.in_reader_language("议题", "") == "议题 (no English yet)"
    with translation.override("zh-hans"):
        assert i18n.in_reader_language("议题", "Topic") == "议题"
