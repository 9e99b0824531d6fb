"""home/scope.py: the one answer to "may this person manage this community's things?"."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.utils import translation

from conftest import fresh_copies, on_the_site_with
from home import scope, services
from home.factories import ResidentProfileFactory, UserFactory
from home.models import ResidentProfile

pytestmark = pytest.mark.django_db


PLACES = on_the_site_with("_scope_places")


@pytest.fixture(scope="session")
def _scope_places(shared_site, django_db_blocker):
    """The two communities below, made once for this module's tests (a layer inside the shared site's)."""
    yield make_places() if PLACES.open(django_db_blocker) else None
    PLACES.close()


@pytest.fixture
def places(_scope_places, site_pages):
    return fresh_copies(_scope_places) if PLACES.running else make_places()


def make_places() -> tuple:
    liuhe = services.create_community(name="六和社区", code="liuhe", name_en="Liuhe Community")
    jiangnan = services.create_community(name="江南社区", code="jiangnan", name_en="Jiangnan Community")
    return liuhe, jiangnan


def staff_of(community, *, head=False, **fields):
    user = UserFactory(**fields)
    user.groups.add(community.heads if head else community.editors)
    return user


def test_staff_manage_their_community_and_no_other(places):
    liuhe, jiangnan = places
    for user in (staff_of(liuhe), staff_of(liuhe, head=True)):
        mine = scope.for_user(user)
        assert mine.any and not mine.everything
        assert mine.includes(liuhe)
        assert not mine.includes(jiangnan)
        assert set(mine.communities()) == {liuhe}
        mine.require(liuhe)
        with translation.override("zh-hans"), pytest.raises(scope.NotStaff, match="只有本社区的工作人员"):
            mine.require(jiangnan)
        with translation.override("en"), pytest.raises(scope.NotStaff, match="Only the staff of this community"):
            mine.require(jiangnan)
        with pytest.raises(scope.NotStaff, match="another community"):
            mine.require(jiangnan, message="This session belongs to another community.")


def test_things_of_no_community_are_the_street_offices_unless_street_wide(places):
    liuhe, _jiangnan = places
    staff = scope.for_user(staff_of(liuhe))
    assert not staff.includes(None)
    assert staff.includes(None, street_wide=True)
    with pytest.raises(scope.NotStaff):
        staff.require(None)
    street_office = scope.for_user(UserFactory(is_superuser=True))
    assert street_office.everything and street_office.includes(None) and street_office.includes(liuhe)
    resident = scope.for_user(UserFactory())
    assert not resident.any and not resident.includes(None, street_wide=True) and not resident.includes(liuhe)


def test_filter_keeps_the_rows_of_the_persons_communities(places):
    liuhe, jiangnan = places
    in_liuhe = ResidentProfileFactory(community=liuhe)
    in_jiangnan = ResidentProfileFactory(community=jiangnan)
    nowhere = ResidentProfileFactory(community=None)
    profiles = ResidentProfile.objects.all()

    staff = scope.for_user(staff_of(liuhe))
    assert set(staff.filter(profiles, "community")) == {in_liuhe}
    assert set(staff.filter(profiles, "community", street_wide=True)) == {in_liuhe, nowhere}
    assert set(scope.for_user(UserFactory(is_superuser=True)).filter(profiles, "community")) == set(profiles)
    assert list(scope.for_user(UserFactory()).filter(profiles, "community", street_wide=True)) == []
    assert in_jiangnan not in staff.filter(profiles, "community")


def test_anonymous_and_inactive_people_manage_nothing(places):
    liuhe, _jiangnan = places
    inactive = staff_of(liuhe, is_active=False)
    inactive_superuser = UserFactory(is_superuser=True, is_active=False)
    for user in (AnonymousUser(), inactive, inactive_superuser, None):
        nobody = scope.for_user(user)
        assert not nobody.any and not nobody.includes(liuhe)
        assert list(nobody.communities()) == []
    assert list(scope.staff_communities(inactive)) == []


def test_one_scope_per_request_and_one_query_for_it(places, django_assert_num_queries):
    liuhe, _jiangnan = places
    request = RequestFactory().get("/")
    request.user = staff_of(liuhe)
    with django_assert_num_queries(1):
        assert scope.for_request(request).includes(liuhe)
        assert scope.for_request(request).any
        assert scope.for_request(request) is scope.for_request(request)
    request.user = UserFactory()  # another person on the same request object: a new scope
    assert not scope.for_request(request).any


def test_staff_only_lets_staff_in_and_refuses_others(places):
    liuhe, _jiangnan = places

    @scope.staff_only()
    def view(request):
        return "in"

    request = RequestFactory().get("/")
    request.user = staff_of(liuhe)
    assert view(request) == "in"
    request = RequestFactory().get("/")
    request.user = UserFactory()
    with translation.override("en"), pytest.raises(scope.NotStaff, match="Only community staff"):
        view(request)
