"""The API's household (/api/v1/me/household/) over the household page's form and services, and the waiting list
(joined by booking a full session, left by cancelling): success, the wrong person, bad input, both languages."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from django.utils import timezone

from api.testing import assert_problem, token_for
from events import factories, services
from events.models import Booking, HouseholdMember

BAD_VALUES = ["\x00", "²", str(10**23), "9999-12-31", "-1", "0", ""]
THIS_YEAR = timezone.localdate().year


@pytest.fixture
def phone(client, resident):
    """A phone client of the resident: every request carries their session token (and no cookie)."""
    token = token_for(resident)

    def call(method: str, path: str, body=None, **headers):
        if body is not None:
            headers["content_type"] = "application/json"
            body = json.dumps(body) if not isinstance(body, str) else body
            return getattr(client, method)(path, body, HTTP_X_SESSION_TOKEN=token, **headers)
        return getattr(client, method)(path, HTTP_X_SESSION_TOKEN=token, **headers)

    return call


@pytest.fixture
def grandma(resident):
    return factories.HouseholdMemberFactory(
        resident=resident, name="外婆", birth_year=1950, relation=HouseholdMember.Relation.PARENT, guardian_consent_at=None
    )


def member_url(member) -> str:
    return f"/api/v1/me/household/{member.pk if hasattr(member, 'pk') else member}/"


# ---------------------------------------------------------------------------
# The household


@pytest.mark.parametrize(("language", "relation"), [("zh-hans", "父母"), ("en", "Parent")])
def test_the_household_lists_only_the_residents_own_members(phone, grandma, make_resident, language, relation):
    factories.HouseholdMemberFactory(resident=make_resident(), name="别人家的孩子")
    response = phone("get", "/api/v1/me/household/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    data = response.json()
    assert [(each["id"], each["name"], each["relation_label"]) for each in data["items"]] == [(grandma.pk, "外婆", relation)]
    assert data["next"] is None
    assert "private" in response["Cache-Control"]
    etag = response["ETag"]
    assert phone("get", "/api/v1/me/household/", HTTP_ACCEPT_LANGUAGE=language, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_add_a_relative_and_a_child_with_the_guardians_consent(phone, resident):
    response = phone("post", "/api/v1/me/household/", {"name": " 外公 ", "birth_year": 1948, "relation": "parent"})
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "外公" and response.json()["guardian_consent_at"] is None
    child = phone(
        "post",
        "/api/v1/me/household/",
        {"name": "小明", "birth_year": THIS_YEAR - 6, "relation": "child", "guardian_consent": True},
    )
    assert child.status_code == 201
    assert child.json()["guardian_consent_at"] is not None
    assert sorted(resident.household_members.values_list("name", flat=True)) == ["外公", "小明"]


@pytest.mark.parametrize(("language", "message"), [("zh-hans", "监护人"), ("en", "guardian")])
def test_a_child_without_the_guardians_consent_is_refused_in_both_languages(phone, resident, language, message):
    body = {"name": "小明", "birth_year": THIS_YEAR - 6, "relation": "child"}
    data = assert_problem(phone("post", "/api/v1/me/household/", body, HTTP_ACCEPT_LANGUAGE=language), 409, "household_refused")
    assert message in data["message"]
    assert not HouseholdMember.objects.exists()


def test_a_household_lists_at_most_ten_people(phone, resident):
    for number in range(10):
        factories.HouseholdMemberFactory(resident=resident, name=f"成员{number}")
    body = {"name": "第十一位", "birth_year": 1960, "relation": "other"}
    assert_problem(phone("post", "/api/v1/me/household/", body), 409, "household_refused")
    assert resident.household_members.count() == 10


@pytest.mark.parametrize(("language", "message"), [("zh-hans", "1900"), ("en", "between 1900 and this year")])
def test_a_future_birth_year_is_the_forms_field_error_in_both_languages(phone, language, message):
    body = {"name": "小明", "birth_year": THIS_YEAR + 1, "relation": "child", "guardian_consent": True}
    data = assert_problem(phone("post", "/api/v1/me/household/", body, HTTP_ACCEPT_LANGUAGE=language), 422, "invalid")
    assert message in data["fields"]["birth_year"]


@pytest.mark.parametrize("bad", BAD_VALUES)
def test_bad_input_when_adding_is_4xx_and_adds_nobody(phone, bad):
    good = {"name": "外公", "birth_year": 1948, "relation": "parent"}
    number = int(bad) if bad.lstrip("-").isdigit() and bad.isascii() else bad
    for field in ("name", "birth_year", "relation", "guardian_consent"):
        for value in (bad, number):
            response = phone("post", "/api/v1/me/household/", {**good, field: value})
            if response.status_code == 201:
                # Only a value that is a fine name ("²", a digit string) or a consent that is "no" may pass.
                assert (field == "name" and value not in ("\x00", "")) or (field == "guardian_consent" and value in ("0", 0)), (
                    field,
                    value,
                )
                HouseholdMember.objects.all().delete()
                continue
            assert 400 <= response.status_code < 500, (field, value, response.content)
            assert_problem(response, response.status_code, response.json()["code"])
    for body in (bad or "[]", '{"name": "\\u0000", "birth_year": 1948, "relation": "parent"}', '{"birth_year": 1e400}'):
        response = phone("post", "/api/v1/me/household/", body)
        assert 400 <= response.status_code < 500
    assert not HouseholdMember.objects.exists()


def test_correct_a_members_name_and_relation(phone, grandma):
    response = phone("patch", member_url(grandma), {"name": "姥姥", "relation": "other"})
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["relation"], response.json()["birth_year"]) == ("姥姥", "other", 1950)
    grandma.refresh_from_db()
    assert (grandma.name, grandma.relation) == ("姥姥", "other")


def test_a_members_bookings_to_come_take_the_new_name_and_keep_the_birth_year(phone, resident, grandma, session):
    booking = services.book_session(session=session, resident=resident, actor=resident, member=grandma)[0]
    assert phone("patch", member_url(grandma), {"name": "姥姥"}).status_code == 200
    booking.refresh_from_db()
    assert booking.participant_name == "姥姥"
    data = assert_problem(
        phone("patch", member_url(grandma), {"birth_year": 1951}, HTTP_ACCEPT_LANGUAGE="en"), 409, "household_refused"
    )
    assert "cancel them" in data["message"]
    grandma.refresh_from_db()
    assert grandma.birth_year == 1950
    # Once the booking is cancelled, the birth year may be corrected.
    services.cancel_booking(booking=booking, actor=resident)
    assert phone("patch", member_url(grandma), {"birth_year": 1951}).json()["birth_year"] == 1951


def test_making_a_member_a_child_needs_the_guardians_consent(phone, grandma):
    assert_problem(phone("patch", member_url(grandma), {"birth_year": THIS_YEAR - 5}), 409, "household_refused")
    response = phone("patch", member_url(grandma), {"birth_year": THIS_YEAR - 5, "guardian_consent": True})
    assert response.status_code == 200 and response.json()["guardian_consent_at"] is not None


@pytest.mark.parametrize("bad", BAD_VALUES)
def test_bad_input_when_correcting_is_4xx_and_changes_nothing(phone, grandma, bad):
    number = int(bad) if bad.lstrip("-").isdigit() and bad.isascii() else bad
    for field in ("name", "birth_year", "relation", "guardian_consent"):
        for value in (bad, number, None):
            response = phone("patch", member_url(grandma), {field: value})
            if response.status_code == 200:
                assert (field == "name" and value not in ("\x00", "", None)) or field == "guardian_consent", (field, value)
                continue
            assert 400 <= response.status_code < 500, (field, value, response.content)
            assert_problem(response, response.status_code, response.json()["code"])
    grandma.refresh_from_db()
    assert (grandma.birth_year, grandma.relation) == (1950, "parent")
    for method in ("patch", "delete"):
        response = phone(method, f"/api/v1/me/household/{quote(bad)}/", {} if method == "patch" else None)
        assert 400 <= response.status_code < 500, (method, bad)
        assert_problem(response, response.status_code, response.json()["code"])


def test_remove_a_member(phone, grandma):
    response = phone("delete", member_url(grandma))
    assert response.status_code == 204
    assert not HouseholdMember.objects.filter(pk=grandma.pk).exists()
    assert_problem(phone("delete", member_url(grandma)), 404, "not_found")


@pytest.mark.parametrize(("language", "message"), [("zh-hans", "取消"), ("en", "Cancel this person's bookings first")])
def test_a_member_with_bookings_to_come_is_removed_only_after_cancelling(phone, resident, grandma, session, language, message):
    booking = services.book_session(session=session, resident=resident, actor=resident, member=grandma)[0]
    data = assert_problem(phone("delete", member_url(grandma), HTTP_ACCEPT_LANGUAGE=language), 409, "household_refused")
    assert message in data["message"]
    assert HouseholdMember.objects.filter(pk=grandma.pk).exists()
    services.cancel_booking(booking=booking, actor=resident)
    assert phone("delete", member_url(grandma)).status_code == 204


def test_another_residents_member_is_404_and_untouched(client, grandma, make_resident):
    stranger = token_for(make_resident())
    patch = client.patch(member_url(grandma), '{"name": "偷改"}', content_type="application/json", HTTP_X_SESSION_TOKEN=stranger)
    assert_problem(patch, 404, "not_found")
    assert_problem(client.delete(member_url(grandma), HTTP_X_SESSION_TOKEN=stranger), 404, "not_found")
    assert client.get("/api/v1/me/household/", HTTP_X_SESSION_TOKEN=stranger).json()["items"] == []
    grandma.refresh_from_db()
    assert grandma.name == "外婆"
    # The same answer as an id never used.
    assert_problem(client.delete(member_url(999999), HTTP_X_SESSION_TOKEN=stranger), 404, "not_found")


def test_the_service_refuses_another_households_member(grandma, make_resident):
    with pytest.raises(services.BookingError):
        services.update_household_member(
            member=grandma, resident=make_resident(), name="偷改", birth_year=1950, relation="parent"
        )


def test_the_household_needs_a_token(client, grandma):
    for method, path, body in (
        ("get", "/api/v1/me/household/", None),
        ("post", "/api/v1/me/household/", {"name": "外公", "birth_year": 1948, "relation": "parent"}),
        ("patch", member_url(grandma), {"name": "偷改"}),
        ("delete", member_url(grandma), None),
    ):
        response = (
            getattr(client, method)(path, json.dumps(body), content_type="application/json")
            if body
            else getattr(client, method)(path)
        )
        assert_problem(response, 401, "not_authenticated")
    grandma.refresh_from_db()
    assert grandma.name == "外婆"


# ---------------------------------------------------------------------------
# The waiting list: booking a full session joins it, cancelling the booking leaves it


def test_join_and_leave_the_waiting_list(client, site_pages, make_resident):
    session = factories.SessionFactory(activity=factories.activity(), capacity=1)
    url = f"/api/v1/sessions/{session.pk}/bookings/"
    tokens = [token_for(make_resident()) for _ in range(3)]
    answers = [client.post(url, "{}", content_type="application/json", HTTP_X_SESSION_TOKEN=token).json() for token in tokens]
    assert [(each["status"], each["waiting_position"]) for each in answers] == [
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    second, third = answers[1], answers[2]
    left = client.post(f"/api/v1/me/bookings/{second['id']}/cancel/", HTTP_X_SESSION_TOKEN=tokens[1])
    assert left.status_code == 200
    assert (left.json()["status"], left.json()["late_cancellation"], left.json()["waiting_position"]) == (
        "cancelled",
        False,
        None,
    )
    # The one behind moves up; the seat stays with the first.
    assert client.get(f"/api/v1/me/bookings/{third['id']}/", HTTP_X_SESSION_TOKEN=tokens[2]).json()["waiting_position"] == 1
    session.refresh_from_db()
    assert session.seats_taken == 1
    # When the seat is freed, the first in line gets it.
    client.post(f"/api/v1/me/bookings/{answers[0]['id']}/cancel/", HTTP_X_SESSION_TOKEN=tokens[0])
    assert Booking.objects.get(pk=third["id"]).status == Booking.Status.CONFIRMED


@pytest.mark.parametrize(("language", "message"), [("zh-hans", "已经取消"), ("en", "already cancelled")])
def test_leaving_the_waiting_list_twice_is_409_in_both_languages(client, site_pages, make_resident, language, message):
    session = factories.SessionFactory(activity=factories.activity(), capacity=0)
    token = token_for(make_resident())
    booking = client.post(
        f"/api/v1/sessions/{session.pk}/bookings/", "{}", content_type="application/json", HTTP_X_SESSION_TOKEN=token
    ).json()
    assert booking["status"] == "waitlisted"
    cancel = f"/api/v1/me/bookings/{booking['id']}/cancel/"
    assert client.post(cancel, HTTP_X_SESSION_TOKEN=token).status_code == 200
    data = assert_problem(client.post(cancel, HTTP_X_SESSION_TOKEN=token, HTTP_ACCEPT_LANGUAGE=language), 409, "booking_refused")
    assert message in data["message"]
