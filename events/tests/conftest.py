"""Fixtures for the events tests: a community, its staff, residents and a class."""

import pytest
from django.utils import timezone, translation

from events import factories
from home.factories import ResidentProfileFactory, UserFactory, VerifiedUserFactory
from home.services import create_community


@pytest.fixture(autouse=True)
def _english():
    """Services speak the active language; these tests read their messages in English."""
    with translation.override("en"):
        yield


@pytest.fixture
def community(site_pages):
    return create_community(name="六和社区", code="liuhe", name_en="Liuhe")


@pytest.fixture
def other_community(site_pages):
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
