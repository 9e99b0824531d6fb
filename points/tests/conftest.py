import pytest


@pytest.fixture
def locales(db):
    from wagtail.models import Locale

    Locale.objects.get_or_create(language_code="zh-hans")
    Locale.objects.get_or_create(language_code="en")
