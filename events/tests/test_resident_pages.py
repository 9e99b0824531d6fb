"""Logged-in residents share the activity list and activity pages (the resident page cache, plumbing/personal.py):
each sees only their own bookings and booking forms, a booking shows at once, and the queries stay few and flat."""

import re

import pytest
from django.test import Client

from events import factories, services
from events.models import bookings_generation
from home.factories import notice
from home.models import PortalSettings

pytestmark = pytest.mark.django_db

# Warm requests of a logged-in resident (the page's shared text cached): the session, the user and their profile
# (text size, the header); on an activity page their bookings at its sessions and their household are kept per
# bookings generation (events/listing.py: Visitor; 5 before), on My page its e-mail address's verification is read.
WARM_QUERIES = {"home": 3, "list": 3, "activity": 3, "me": 4}
MAX_QUERIES = 12


def logged_in(user, **options) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


def form_field(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', html)[1]


@pytest.fixture
def paper_cutting(site_pages):
    PortalSettings.objects.create(hotline="0571-12345")  # made on first use otherwise, which starts a new generation
    index = factories.activity_index()
    page = factories.activity(parent=index, title="剪纸课", slug="paper-cutting", venue="文化家园")
    return index, page, factories.SessionFactory(activity=page, capacity=3)


def test_residents_share_the_page_and_see_only_their_own_bookings(paper_cutting, make_resident):
    _index, page, session = paper_cutting
    first, second = make_resident(), make_resident()
    (booking,) = services.book_session(session=session, resident=first, actor=first)

    mine = logged_in(first).get(page.url)
    assert mine["X-Page-Cache"] == "resident-miss"
    assert f"#booking-{booking.code}" in mine.content.decode()

    theirs = logged_in(second, enforce_csrf_checks=True)
    shared = theirs.get(page.url)
    html = shared.content.decode()
    assert shared["X-Page-Cache"] == "resident-hit" and shared["Cache-Control"] == "private, no-store"
    assert f"#booking-{booking.code}" not in html and "剪纸课" in html
    # Their own booking form, with a CSRF token that works for them, and their booking shows at once.
    response = theirs.post(
        f"/zh-hans/activities/sessions/{session.pk}/book/",
        {
            "participant": "me",
            "csrfmiddlewaretoken": form_field(html, "csrfmiddlewaretoken"),
            "request_token": form_field(html, "request_token"),
        },
    )
    assert response.status_code == 302
    (own,) = session.bookings.filter(resident=second)
    again = theirs.get(page.url)
    assert again["X-Page-Cache"] == "resident-hit"
    assert f"#booking-{own.code}" in again.content.decode() and f"#booking-{booking.code}" not in again.content.decode()
    assert f"#booking-{own.code}" not in logged_in(first).get(page.url).content.decode()


def test_an_anonymous_visitor_gets_no_marker_and_no_booking_form(paper_cutting):
    _index, page, _session = paper_cutting
    html = Client().get(page.url).content.decode()
    assert "<!--" not in html and "csrfmiddlewaretoken" not in html and "文化家园" in html


def test_a_published_page_shows_on_the_cached_logged_in_pages_at_once(paper_cutting, make_resident):
    index, _page, _session = paper_cutting
    client = logged_in(make_resident())
    for path in ("/zh-hans/", index.url):
        client.get(path)
        assert client.get(path)["X-Page-Cache"] == "resident-hit"
    factories.SessionFactory(activity=factories.activity(parent=index, title="太极拳", slug="taiji"))
    notice(title="停水通知")
    home = client.get("/zh-hans/")
    assert home["X-Page-Cache"] == "resident-miss" and "停水通知" in home.content.decode()
    assert "太极拳" in client.get(index.url).content.decode()


@pytest.mark.parametrize("count", [2, 12])
def test_logged_in_query_counts_are_few_and_flat(site_pages, make_resident, django_assert_num_queries, count):
    """The same warm counts for 2 and 12 activities with 3 sessions each and as many notices, all booked."""
    PortalSettings.objects.create(hotline="0571-12345")  # the footer's settings exist, as on a real site
    index = factories.activity_index()
    resident = make_resident()
    activities = []
    for number in range(count):
        activity = factories.activity(parent=index, title=f"活动 {number}", slug=f"activity-{number}")
        for hour in (8, 11, 14):
            session = factories.SessionFactory(activity=activity, starts_at=factories.in_days(2 + number, hour=hour), capacity=5)
            services.book_session(session=session, resident=resident, actor=resident)
        notice(title=f"通知 {number}")
        activities.append(activity)
    factories.HouseholdMemberFactory(resident=resident, name="小明", birth_year=2000)
    client = logged_in(resident)
    paths = {"home": "/zh-hans/", "list": index.url, "activity": activities[-1].url, "me": "/zh-hans/me/"}
    shown = {}
    for name, path in paths.items():
        assert client.get(path).status_code == 200  # fills the caches
        with django_assert_num_queries(WARM_QUERIES[name]):
            response = client.get(path)
        assert response.status_code == 200
        shown[name] = response.content.decode()
    assert shown["activity"].count("#booking-") == 3 and "小明" in shown["activity"]
    assert shown["home"].count('class="notice-item') == min(count, 8) and shown["list"].count('class="activity-item"') == count
    assert all(number <= MAX_QUERIES for number in WARM_QUERIES.values())


def test_residents_alike_share_one_rendering_of_the_sessions_with_their_own_tokens(paper_cutting, make_resident, monkeypatch):
    """The sessions part is rendered once for residents whose places, household and age show alike; each still gets
    a CSRF token and a request token of their own (the form works for them), and a household shows its own choice."""
    from events import listing
    from events.models import HouseholdMember

    _index, page, session = paper_cutting
    rendered = []
    render = listing.render_to_string
    monkeypatch.setattr(listing, "render_to_string", lambda *args, **kwargs: rendered.append(args[0]) or render(*args, **kwargs))
    first, second, parent = make_resident(), make_resident(), make_resident()
    HouseholdMember.objects.create(resident=parent, name="小明", birth_year=parent.profile.birth_year)

    pages = {}
    for resident in (first, second):
        client = logged_in(resident, enforce_csrf_checks=True)
        pages[resident] = (client, client.get(page.url).content.decode())
    assert rendered.count("events/includes/sessions.html") == 1
    (first_client, first_html), (second_client, second_html) = pages[first], pages[second]
    assert listing.CSRF_STAND_IN not in second_html and listing.REQUEST_TOKEN_STAND_IN not in second_html
    assert form_field(first_html, "request_token") != form_field(second_html, "request_token")
    response = second_client.post(
        f"/zh-hans/activities/sessions/{session.pk}/book/",
        {
            "participant": "me",
            "csrfmiddlewaretoken": form_field(second_html, "csrfmiddlewaretoken"),
            "request_token": form_field(second_html, "request_token"),
        },
    )
    assert response.status_code == 302 and session.bookings.filter(resident=second).exists()

    household = logged_in(parent).get(page.url).content.decode()
    assert rendered.count("events/includes/sessions.html") == 2 and "小明" in household and "小明" not in first_html
    assert "已预约" in second_client.get(page.url).content.decode()  # their place, at once: a third rendering
    assert rendered.count("events/includes/sessions.html") == 3
    assert "已预约" not in first_client.get(page.url).content.decode()


def test_my_page_is_shared_and_each_resident_sees_only_their_own_profile(site_pages, make_resident):
    PortalSettings.objects.get_or_create()  # made on first use otherwise, which starts a new generation
    first = make_resident(display_name="王秀英", mobile="13800000001")
    second = make_resident(display_name="李建国", mobile="13900000002")
    mine = logged_in(first).get("/zh-hans/me/")
    assert mine["X-Page-Cache"] == "resident-miss" and "13800000001" in mine.content.decode()

    theirs = logged_in(second, enforce_csrf_checks=True)
    shared = theirs.get("/zh-hans/me/")
    html = shared.content.decode()
    assert shared["X-Page-Cache"] == "resident-hit" and shared["Cache-Control"] == "private, no-store"
    assert "13900000002" in html and "李建国" in html and second.email in html
    assert "13800000001" not in html and "王秀英" not in html and first.email not in html
    # Their own form and token: saving works, and the new name shows at once.
    response = theirs.post(
        "/zh-hans/me/",
        {
            "csrfmiddlewaretoken": form_field(html, "csrfmiddlewaretoken"),
            "display_name": "李建华",
            "preferred_language": "zh-hans",
            "birth_year": second.profile.birth_year,
            "community": second.profile.community_id,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "李建华" in theirs.get("/zh-hans/me/").content.decode()


def test_a_residents_places_and_household_are_kept_until_they_change(paper_cutting, make_resident, django_assert_num_queries):
    """The visitor (places, household, birth year) is kept per bookings generation: a second visit reads none of
    them, and a new household member, a birth year or a booking shows on the next visit."""
    _index, page, session = paper_cutting
    resident = make_resident()
    client = logged_in(resident)
    client.get(page.url)
    with django_assert_num_queries(WARM_QUERIES["activity"]):
        client.get(page.url)

    services.add_household_member(resident=resident, name="小红", birth_year=1990, relation="other")
    assert "小红" in client.get(page.url).content.decode()
    before = bookings_generation()
    profile = resident.profile
    profile.birth_year = 1950  # which sessions offer "Myself" follows the age band
    profile.save()
    assert bookings_generation() != before
    services.book_session(session=session, resident=resident, actor=resident)
    assert "已预约" in client.get(page.url).content.decode()


def test_my_pages_parts_are_made_once_until_what_they_show_changes(site_pages, make_resident, monkeypatch):
    from home import parts

    PortalSettings.objects.get_or_create()
    made = []
    render = parts.render_to_string
    monkeypatch.setattr(parts, "render_to_string", lambda *args, **kwargs: made.append(args[0]) or render(*args, **kwargs))
    resident = make_resident(display_name="王秀英", mobile="13800000001")
    client = logged_in(resident, enforce_csrf_checks=True)
    first, second = client.get("/zh-hans/me/").content.decode(), client.get("/zh-hans/me/").content.decode()
    assert made.count("home/includes/my_page_top.html") == made.count("home/includes/my_page_account.html") == 1
    assert parts.CSRF_STAND_IN not in second and form_field(second, "csrfmiddlewaretoken")

    response = client.post(
        "/zh-hans/me/",
        {
            "csrfmiddlewaretoken": form_field(second, "csrfmiddlewaretoken"),
            "display_name": "王秀兰",
            "preferred_language": "zh-hans",
            "birth_year": resident.profile.birth_year,
            "community": resident.profile.community_id,
        },
    )
    assert response.status_code == 302
    assert "王秀兰" in client.get("/zh-hans/me/").content.decode() and "王秀兰" not in first
    assert made.count("home/includes/my_page_top.html") == 2
