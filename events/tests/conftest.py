"""Fixtures for the events tests: a community, its staff, residents and a class."""

import pytest
from django.utils import timezone, translation

from conftest import on_the_site_with
from events import factories
from home.factories import ResidentProfileFactory, UserFactory, VerifiedUserFactory
from home.services import create_community

LIUHE = on_the_site_with("_liuhe")
LIUHE_AND_JIANGNAN = on_the_site_with("_liuhe_and_jiangnan")  # the tests with both communities


@pytest.fixture(autouse=True)
def _english():
    """Services speak the active language; these tests read their messages in English."""
    with translation.override("en"):
        yield


@pytest.fixture(scope="session")
def _liuhe(shared_site, django_db_blocker):
    """六和社区 (its pages, groups and workflow: some 300 queries), made once for the tests that share it (a layer
    inside the shared site's, conftest.py); each test's `community` then reads it."""
    if LIUHE.open(django_db_blocker):
        create_community(name="六和社区", code="liuhe", name_en="Liuhe")
    yield
    LIUHE.close()


@pytest.fixture(scope="session")
def _liuhe_and_jiangnan(shared_site, django_db_blocker):
    """六和社区 and 江南社区, likewise, for the tests that use both."""
    if LIUHE_AND_JIANGNAN.open(django_db_blocker):
        create_community(name="六和社区", code="liuhe", name_en="Liuhe")
        create_community(name="江南社区", code="jiangnan", name_en="Jiangnan")
    yield
    LIUHE_AND_JIANGNAN.close()


@pytest.fixture
def community(_liuhe, site_pages):
    return create_community(name="六和社区", code="liuhe", name_en="Liuhe")  # the shared one, when it is there


@pytest.fixture
def other_community(_liuhe_and_jiangnan, site_pages):
    return create_community(name="江南社区", code="jiangnan", name_en="Jiangnan")


@pytest.fixture
def make_resident(db, community):
    def make(*, birth_year=None, community_=None, verified=True, **profile):
        user = (VerifiedUserFactory if verified else UserFactory)()
        ResidentProfileFactory(
            user=user,
            birth_year=birth_year or timezone.localdate().year - 40,
            community=community_ if community_ is not None else community,
            **profile,
        )
        user.refresh_from_db()
        return user

    return make


@pytest.fixture
def resident(make_resident):
    return make_resident()


@pytest.fixture
def staff(db, community):
    user = VerifiedUserFactory(username="liuhe-staff")
    user.groups.add(community.editors)
    return user


@pytest.fixture
def other_staff(db, other_community):
    user = VerifiedUserFactory(username="jiangnan-staff")
    user.groups.add(other_community.editors)
    return user


@pytest.fixture
def session(site_pages):
    return factories.SessionFactory(activity=factories.activity(), capacity=2)
