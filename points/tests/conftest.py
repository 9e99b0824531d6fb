import pytest


@pytest.fixture
def locales(db):
    from wagtail.models import Locale

    Locale.objects.get_or_create(language_code="zh-hans")
    Locale.objects.get_or_create(language_code="en")


@pytest.fixture
def english():
    """Service messages in English, so that tests can match them."""
    from django.utils import translation

    with translation.override("en"):
        yield
