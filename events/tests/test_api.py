"""The API's activities and bookings (/api/v1/activities/, /sessions/{id}/bookings/, /me/bookings/): the pages'
queries and services, as JSON; every endpoint's success, the wrong person, bad input and replays."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from api.testing import assert_problem, token_for
from events import factories, services
from events.models import Booking
from home.factories import translate

BAD_VALUES = ["\x00", "²", str(10**23), "9999-12-31", "-1", "0", ""]


@pytest.fixture
def bilingual_class(site_pages):
    """A class with its list page, both in English too, and one session of two seats."""
    index = factories.activity_index()
    translate(index, strings={"课程活动": "Classes and activities", "activities": "activities"})
    page = factories.activity(
        parent=index, title="剪纸课", slug="paper-cutting", summary="跟非遗传承人学剪纸。", organiser="王老师"
    )
    english = translate(
        page,
        strings={
            "剪纸课": "Paper-cutting class",
            "paper-cutting": "paper-cutting",
            "跟非遗传承人学剪纸。": "Learn paper-cutting from a heritage master.",
            "王老师": "Ms Wang",
            "六和社区文化家园": "Liuhe Culture Home",
        },
    )
    session = factories.SessionFactory(activity=page, capacity=2)
    return page, english, session


@pytest.fixture
def phone(client, resident):
    """A phone client of the resident: every request carries their session token (and no cookie)."""
    token = token_for(resident)

    def call(method: str, path: str, body=None, **headers):
        if body is not None:
            headers["content_type"] = "application/json"
            body = json.dumps(body) if not isinstance(body, str) else body
        return (
            getattr(client, method)(path, body, HTTP_X_SESSION_TOKEN=token, **headers)
            if body is not None
            else getattr(client, method)(path, HTTP_X_SESSION_TOKEN=token, **headers)
        )

    return call


def book_url(session) -> str:
    return f"/api/v1/sessions/{session.pk}/bookings/"


# ---------------------------------------------------------------------------
# Activities


@pytest.mark.parametrize(("language", "title"), [("zh-hans", "剪纸课"), ("en", "Paper-cutting class")])
def test_the_activity_list_in_both_languages_with_next_session_and_seats(client, bilingual_class, language, title):
    page, english, session = bilingual_class
    response = client.get("/api/v1/activities/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    data = response.json()
    assert [item["title"] for item in data["items"]] == [title]
    assert data["items"][0]["free_seats"] == 2
    assert data["items"][0]["next_starts_at"] is not None
    assert data["next"] is None


def test_the_activity_list_is_shared_without_a_query_and_shows_a_new_activity_at_once(
    client, bilingual_class, django_assert_num_queries
):
    index = bilingual_class[0].get_parent()
    first = client.get("/api/v1/activities/")
    with django_assert_num_queries(0):
        assert client.get("/api/v1/activities/")["ETag"] == first["ETag"]
    # Publishing starts a new page-cache generation: the kept answer is dropped with the pages.
    factories.SessionFactory(activity=factories.activity(parent=index, title="新活动", slug="new-one"))
    assert "新活动" in [item["title"] for item in client.get("/api/v1/activities/").json()["items"]]


def test_the_activity_list_pages_with_a_cursor(client, bilingual_class):
    index = bilingual_class[0].get_parent()
    for number in range(4):
        factories.SessionFactory(activity=factories.activity(parent=index, title=f"活动{number}", slug=f"a{number}"))
    first = client.get("/api/v1/activities/?limit=2").json()
    second = client.get(f"/api/v1/activities/?limit=2&cursor={first['next']}").json()
    third = client.get(f"/api/v1/activities/?limit=2&cursor={second['next']}").json()
    titles = [item["title"] for page in (first, second, third) for item in page["items"]]
    assert len(titles) == 5 and len(set(titles)) == 5
    assert third["next"] is None


def test_the_activity_list_answers_304_to_its_etag_and_changes_with_the_seats(client, bilingual_class, make_resident, settings):
    settings.LINLI_SEATS_CACHE_SECONDS = 1
    page, english, session = bilingual_class
    first = client.get("/api/v1/activities/")
    etag = first["ETag"]
    again = client.get("/api/v1/activities/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    services.book_session(session=session, resident=(someone := make_resident()), actor=someone)
    # Seats left are shared at most LINLI_SEATS_CACHE_SECONDS old, as on the anonymous list page.
    assert client.get("/api/v1/activities/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    time.sleep(1.1)
    changed = client.get("/api/v1/activities/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.json()["items"][0]["free_seats"] == 1
    # The English list is another representation: another tag.
    assert client.get("/api/v1/activities/", HTTP_ACCEPT_LANGUAGE="en")["ETag"] != changed["ETag"]


@pytest.mark.parametrize(("language", "title"), [("zh-hans", "剪纸课"), ("en", "Paper-cutting class")])
def test_an_activity_with_its_sessions_and_seats(client, bilingual_class, language, title):
    page, english, session = bilingual_class
    for pk in (page.pk, english.pk):  # either language's id
        response = client.get(f"/api/v1/activities/{pk}/", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        data = response.json()
        assert data["title"] == title
        assert [(each["id"], each["seats_left"], each["capacity"]) for each in data["sessions"]] == [(session.pk, 2, 2)]
        assert data["sessions"][0]["booking_url"] == book_url(session)
    etag = response["ETag"]
    assert (
        client.get(f"/api/v1/activities/{english.pk}/", HTTP_ACCEPT_LANGUAGE=language, HTTP_IF_NONE_MATCH=etag).status_code == 304
    )


def test_a_draft_activity_is_not_found(client, site_pages):
    draft = factories.activity(publish=False, title="草稿")
    assert_problem(client.get(f"/api/v1/activities/{draft.pk}/"), 404, "not_found")


@pytest.mark.parametrize("bad", BAD_VALUES)
def test_bad_activity_ids_and_list_parameters_are_4xx(client, bilingual_class, bad):
    from urllib.parse import quote

    value = quote(bad)
    for url in (f"/api/v1/activities/{value}/", f"/api/v1/activities/?limit={value}", f"/api/v1/activities/?cursor={value}"):
        response = client.get(url)
        if bad == "" and "?" in url:
            assert response.status_code in (200, 422)  # an empty cursor is the first page; an empty limit is not a number
            continue
        assert 400 <= response.status_code < 500, url
        assert_problem(response, response.status_code, response.json()["code"])


# ---------------------------------------------------------------------------
# Booking


def test_booking_without_a_token_is_401(client, bilingual_class):
    assert_problem(client.post(book_url(bilingual_class[2]), {}, content_type="application/json"), 401, "not_authenticated")


def test_book_and_see_it_in_my_bookings(phone, bilingual_class, resident):
    session = bilingual_class[2]
    response = phone("post", book_url(session), {})
    assert response.status_code == 201, response.content
    booking = response.json()
    assert booking["status"] == "confirmed"
    assert booking["session_id"] == session.pk
    mine = phone("get", "/api/v1/me/bookings/").json()
    assert [each["id"] for each in mine["items"]] == [booking["id"]]
    assert phone("get", f"/api/v1/me/bookings/{booking['id']}/").json()["code"] == booking["code"]
    assert Booking.objects.get(pk=booking["id"]).resident == resident


def test_book_for_a_household_member(phone, bilingual_class, resident):
    member = factories.HouseholdMemberFactory(resident=resident, name="小明", birth_year=2000)
    response = phone("post", book_url(bilingual_class[2]), {"member": member.pk})
    assert response.status_code == 201
    assert response.json()["participant"] == "小明"


def test_another_households_member_is_a_field_error(phone, bilingual_class, make_resident):
    stranger = factories.HouseholdMemberFactory(resident=make_resident(), name="别人", birth_year=2000)
    data = assert_problem(phone("post", book_url(bilingual_class[2]), {"member": stranger.pk}), 422, "invalid")
    assert "member" in data["fields"]
    assert not Booking.objects.exists()


def test_a_replayed_idempotency_key_returns_the_same_booking_with_200(phone, bilingual_class):
    key = str(uuid.uuid4())
    first = phone("post", book_url(bilingual_class[2]), {}, HTTP_IDEMPOTENCY_KEY=key)
    again = phone("post", book_url(bilingual_class[2]), {}, HTTP_IDEMPOTENCY_KEY=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert Booking.objects.count() == 1


def test_another_residents_idempotency_key_books_nothing(client, phone, bilingual_class, make_resident):
    key = str(uuid.uuid4())
    assert phone("post", book_url(bilingual_class[2]), {}, HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    other = client.post(
        book_url(bilingual_class[2]),
        "{}",
        content_type="application/json",
        HTTP_X_SESSION_TOKEN=token_for(make_resident()),
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert_problem(other, 409, "booking_refused")
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(("language", "message"), [("zh-hans", "已有"), ("en", "already")])
def test_a_refused_booking_is_409_with_the_services_message(phone, bilingual_class, language, message):
    assert phone("post", book_url(bilingual_class[2]), {}).status_code == 201
    data = assert_problem(phone("post", book_url(bilingual_class[2]), {}, HTTP_ACCEPT_LANGUAGE=language), 409, "booking_refused")
    assert message in data["message"]


def test_a_full_session_puts_the_next_one_on_the_waiting_list(client, bilingual_class, make_resident):
    session = bilingual_class[2]
    statuses = []
    for _ in range(3):
        response = client.post(
            book_url(session), "{}", content_type="application/json", HTTP_X_SESSION_TOKEN=token_for(make_resident())
        )
        statuses.append((response.status_code, response.json()["status"], response.json()["waiting_position"]))
    assert statuses == [(201, "confirmed", None), (201, "confirmed", None), (201, "waitlisted", 1)]


def test_an_unverified_resident_is_refused(client, bilingual_class, make_resident):
    response = client.post(
        book_url(bilingual_class[2]),
        "{}",
        content_type="application/json",
        HTTP_X_SESSION_TOKEN=token_for(make_resident(verified=False)),
    )
    assert_problem(response, 409, "booking_refused")


def test_a_session_of_a_draft_activity_is_not_found(phone, site_pages):
    session = factories.SessionFactory(activity=factories.activity(publish=False))
    assert_problem(phone("post", book_url(session), {}), 404, "not_found")


@pytest.mark.parametrize("bad", BAD_VALUES)
def test_bad_input_in_every_booking_parameter_is_4xx(phone, bilingual_class, bad):
    from urllib.parse import quote

    session = bilingual_class[2]
    attempts = [
        phone("post", f"/api/v1/sessions/{quote(bad)}/bookings/", {}),
        phone("post", book_url(session), {"member": bad}),
        phone("post", book_url(session), {"member": int(bad) if bad.lstrip("-").isdigit() and bad.isascii() else bad}),
        phone("post", book_url(session), {"guardian_consent": bad}),
        phone("post", book_url(session), {}, HTTP_IDEMPOTENCY_KEY=bad),
        phone("post", book_url(session), bad or "[]"),
    ]
    for response in attempts:
        if response.status_code == 201:
            continue  # "0"/"" as an optional header or false-y value is the default; the rest must be refused
        assert 400 <= response.status_code < 500, response.content
        assert_problem(response, response.status_code, response.json()["code"])
    assert Booking.objects.count() <= 1


def test_the_largest_integers_and_a_nul_in_json_are_refused(phone, bilingual_class):
    session = bilingual_class[2]
    for body in (
        '{"member": 100000000000000000000000}',
        '{"member": "\\u0000"}',
        '{"guardian_consent": "\\u0000"}',
        '{"member": 1e400}',
    ):
        response = phone("post", book_url(session), body)
        assert_problem(response, 422, "invalid")
    assert not Booking.objects.exists()


# ---------------------------------------------------------------------------
# My bookings: cancel and the ticket


@pytest.fixture
def booked(phone, bilingual_class):
    return phone("post", book_url(bilingual_class[2]), {}).json()


def test_cancel_my_booking(phone, booked):
    response = phone("post", f"/api/v1/me/bookings/{booked['id']}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    again = phone("post", f"/api/v1/me/bookings/{booked['id']}/cancel/", HTTP_ACCEPT_LANGUAGE="en")
    assert assert_problem(again, 409, "booking_refused")["message"] == "This booking is already cancelled."


def test_the_ticket_is_the_code_and_its_qr_as_svg(phone, booked):
    response = phone("get", f"/api/v1/me/bookings/{booked['id']}/ticket/")
    assert response.status_code == 200
    ticket = response.json()
    assert ticket["code"] == booked["code"]
    assert ticket["qr_svg"].startswith("<svg") and 'class="qr"' in ticket["qr_svg"]
    assert phone("get", f"/api/v1/me/bookings/{booked['id']}/ticket/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_a_cancelled_booking_has_no_ticket(phone, booked):
    phone("post", f"/api/v1/me/bookings/{booked['id']}/cancel/")
    assert_problem(phone("get", f"/api/v1/me/bookings/{booked['id']}/ticket/"), 409, "no_ticket")


def test_another_residents_booking_is_404_everywhere(client, booked, make_resident):
    """404, not 403: a booking id is sequential, and a 403 would tell a stranger which ids are bookings."""
    stranger = token_for(make_resident())
    for method, path in (
        ("get", f"/api/v1/me/bookings/{booked['id']}/"),
        ("get", f"/api/v1/me/bookings/{booked['id']}/ticket/"),
        ("post", f"/api/v1/me/bookings/{booked['id']}/cancel/"),
    ):
        assert_problem(getattr(client, method)(path, HTTP_X_SESSION_TOKEN=stranger), 404, "not_found")
    assert Booking.objects.get(pk=booked["id"]).status == "confirmed"
    # The same answer as for an id that was never used.
    assert_problem(client.get("/api/v1/me/bookings/999999/", HTTP_X_SESSION_TOKEN=stranger), 404, "not_found")


@pytest.mark.parametrize("bad", BAD_VALUES)
def test_bad_booking_ids_are_4xx(phone, booked, bad):
    from urllib.parse import quote

    for method, path in (
        ("get", f"/api/v1/me/bookings/{quote(bad)}/"),
        ("get", f"/api/v1/me/bookings/{quote(bad)}/ticket/"),
        ("post", f"/api/v1/me/bookings/{quote(bad)}/cancel/"),
        ("get", f"/api/v1/me/bookings/?cursor={quote(bad)}&limit=5"),
        ("get", f"/api/v1/me/bookings/?limit={quote(bad)}"),
    ):
        response = phone(method, path)
        if bad == "" and "?" in path:
            continue
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert_problem(response, response.status_code, response.json()["code"])


@pytest.mark.parametrize("path", ["/api/v1/me/bookings/1/", "/api/v1/me/bookings/1/ticket/"])
def test_my_bookings_need_a_token(client, site_pages, path):
    assert_problem(client.get(path), 401, "not_authenticated")
    assert_problem(client.post("/api/v1/me/bookings/1/cancel/"), 401, "not_authenticated")


def test_my_bookings_are_private_and_answer_their_etag(phone, booked):
    response = phone("get", "/api/v1/me/bookings/")
    assert "private" in response["Cache-Control"]
    assert phone("get", "/api/v1/me/bookings/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_lists_query_counts_are_flat(client, bilingual_class, resident, language, django_assert_num_queries):
    index = bilingual_class[0].get_parent()
    token = token_for(resident)
    for number in range(4):
        activity = factories.activity(parent=index, title=f"活动{number}", slug=f"a{number}")
        session = factories.SessionFactory(activity=activity, starts_at=factories.in_days(4 + number))
        services.book_session(session=session, resident=resident, actor=resident)
    headers = {"HTTP_ACCEPT_LANGUAGE": language, "HTTP_X_SESSION_TOKEN": token}
    client.get("/api/v1/activities/", **headers)  # warm Wagtail's site and locale caches
    # Optional for a public list: the token is not looked up. Built afresh (a kept answer costs none: above): the
    # street's list page, the page of activities. In English the list has the one translated activity, as the
    # English list page.
    cache.clear()
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/activities/", **headers).json()["items"]) == (5 if language == "zh-hans" else 1)
    # The token's session (allauth: whether it exists, then its data) and user, the page of bookings, the
    # language's locale and the bookings' titles in it: flat however many bookings.
    with django_assert_num_queries(6):
        assert len(client.get("/api/v1/me/bookings/", **headers).json()["items"]) == 4


@pytest.mark.parametrize("encoding", ["form", "multipart"])
def test_a_form_instead_of_json_is_refused_and_books_nothing(client, bilingual_class, resident, encoding):
    page, english, session = bilingual_class
    token = token_for(resident)
    if encoding == "form":
        response = client.post(
            book_url(session), "member=1", content_type="application/x-www-form-urlencoded", HTTP_X_SESSION_TOKEN=token
        )
    else:
        response = client.post(book_url(session), {"member": "1"}, HTTP_X_SESSION_TOKEN=token)
    data = assert_problem(response, response.status_code, response.json()["code"])
    assert 400 <= response.status_code < 500, data
    assert not Booking.objects.filter(session=session).exists()


def test_my_bookings_are_kept_until_any_booking_changes(
    client, bilingual_class, resident, make_resident, django_assert_num_queries
):
    """The list is kept per resident and language; a change anywhere (someone ahead leaving the waiting list, a
    cancellation through a bulk update) shows at once."""
    page, english, session = bilingual_class
    ahead = [make_resident(), make_resident()]
    for someone in ahead:
        services.book_session(session=session, resident=someone, actor=someone)
    services.book_session(session=session, resident=resident, actor=resident)
    headers = {"HTTP_X_SESSION_TOKEN": token_for(resident)}
    first = client.get("/api/v1/me/bookings/", **headers).json()["items"]
    assert [(item["status"], item["waiting_position"]) for item in first] == [("waitlisted", 1)]
    # Kept: only the token's session and user are read.
    with django_assert_num_queries(3):
        assert client.get("/api/v1/me/bookings/", **headers).json()["items"] == first
    services.cancel_booking(booking=Booking.objects.get(resident=ahead[0]), actor=ahead[0])
    promoted = client.get("/api/v1/me/bookings/", **headers).json()["items"]
    assert [(item["status"], item["waiting_position"]) for item in promoted] == [("confirmed", None)]
    # A bulk update (a session's bookings marked as no-shows, the privacy erasure's renaming) is a change too.
    Booking.objects.filter(resident=resident).update(participant_name="—")
    assert client.get("/api/v1/me/bookings/", **headers).json()["items"][0]["participant"] == "—"


def test_a_large_form_instead_of_json_is_refused_and_books_nothing(client, bilingual_class, resident, settings):
    """Over DATA_UPLOAD_MAX_MEMORY_SIZE a form is parsed from the stream, which the JSON reader then cannot read."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    page, english, session = bilingual_class
    photo = SimpleUploadedFile("photo.jpg", b"\xff" * 4096, content_type="image/jpeg")  # files are not held in memory
    response = client.post(book_url(session), {"member": "1", "photo": photo}, HTTP_X_SESSION_TOKEN=token_for(resident))
    assert_problem(response, 400, "bad_request")
    assert not Booking.objects.filter(session=session).exists()
