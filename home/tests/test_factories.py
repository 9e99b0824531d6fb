import pytest

from home import factories
from home.models import NoticePage

pytestmark = pytest.mark.django_db


def test_notice_factory_publishes_under_the_chinese_notice_list(site_pages):
    page = factories.notice(title="通知一")
    assert page.live
    assert page.get_parent().specific.__class__.__name__ == "NoticeIndexPage"
    assert NoticePage.objects.live().filter(locale__language_code="zh-hans").count() == 1


def test_resident_profile_factory_gives_a_verified_resident():
    from home.services import has_verified_email

    profile = factories.ResidentProfileFactory()
    assert has_verified_email(profile.user)
