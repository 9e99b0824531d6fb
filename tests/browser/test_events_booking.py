"""A parent books a class for their child, gets the QR ticket and calendar file, cancels;
the next on the waiting list is promoted and e-mailed; a draw publishes its seed.
Every resident-facing events page passes an axe scan in both languages."""

import datetime
import os

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from events import factories as event_factories
from events import services
from events.models import Booking
from home.factories import ResidentProfileFactory, translate

pytestmark = pytest.mark.browser


def log_in(page, user, base: str) -> None:
    """Give the browser a logged-in session cookie (the login form has its own tests)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base}])


@pytest.fixture
def classes(portal):
    index = event_factories.activity_index()
    translate(index, strings={"课程活动": "Classes and activities", "activities": "activities"})
    page = event_factories.activity(
        parent=index,
        title="少儿剪纸",
        slug="kids-paper-cutting",
        summary="七到十二岁。",
        age_band="7-12",
        organiser="王老师",
        venue="文化家园",
    )
    translate(
        page,
        strings={
            "少儿剪纸": "Paper-cutting for children",
            "kids-paper-cutting": "kids-paper-cutting",
            "七到十二岁。": "For ages 7 to 12.",
            "王老师": "Ms Wang",
            "文化家园": "Culture Home",
        },
    )
    session = event_factories.SessionFactory(activity=page, capacity=1, starts_at=event_factories.in_days(5, hour=15))
    return index, page, session


def resident(email, **profile):
    return ResidentProfileFactory(user__email=email, user__username=email.split("@")[0], birth_year=1985, **profile).user


def test_a_parent_books_for_their_child_and_the_next_in_line_is_promoted(portal, classes, phone, chromium, tmp_path):
    index, page, session = classes
    base = portal.url
    parent = resident("parent@example.com")
    log_in(phone, parent, base)

    # Add the child to the household (guardian consent for a child under 14).
    phone.goto(f"{base}/zh-hans/me/household/")
    phone.fill("input[name=name]", "小明")
    phone.fill("input[name=birth_year]", str(timezone.localdate().year - 9))
    phone.select_option("select[name=relation]", "child")
    phone.check("input[name=guardian_consent]")
    phone.locator("main button[type=submit]").last.click()
    phone.wait_for_url(f"{base}/zh-hans/me/household/")
    assert "小明" in phone.locator("main").inner_text()

    # Book the class for the child from the activity page.
    phone.goto(f"{base}{page.url}")
    form = phone.locator(f"form[action$='/sessions/{session.pk}/book/']")
    form.locator("select[name=participant]").select_option(
        label=f"小明（{timezone.localdate().year - 9}）"
    )  # full-width brackets in Chinese
    form.locator("button[type=submit]").click()
    phone.wait_for_url(f"{base}/zh-hans/me/bookings/")
    booking = Booking.objects.get(resident=parent)
    assert booking.participant_name == "小明" and booking.status == Booking.Status.CONFIRMED
    ticket = phone.locator(".ticket").first
    expect(ticket.locator("svg")).to_be_visible()  # the QR code
    assert booking.display_code in ticket.locator(".ticket-code").inner_text()
    phone.screenshot(path=tmp_path / "ticket.png")

    # The calendar file downloads with the reminder alarm.
    with phone.expect_download() as download_info:
        ticket.locator(f"a[href$='{booking.code}.ics']").click()
    ics = download_info.value.path().read_bytes()
    assert b"BEGIN:VEVENT" in ics and b"BEGIN:VALARM" in ics and "少儿剪纸".encode() in ics

    # A second parent finds the class full and joins the waiting list, in English.
    other = chromium.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    second_page = other.new_page()
    second_parent = resident("second@example.com", preferred_language="en")
    services.add_household_member(
        resident=second_parent, name="Lily", birth_year=timezone.localdate().year - 10, relation="child", guardian_consent=True
    )
    log_in(second_page, second_parent, base)
    english = page.get_translation(page.locale.__class__.objects.get(language_code="en"))
    second_page.goto(f"{base}{english.url}")
    second_form = second_page.locator(f"form[action$='/sessions/{session.pk}/book/']")
    # A class for ages 7 to 12: the parent is not offered, Lily is, and is chosen already.
    assert second_form.locator("select[name=participant] option").all_inner_texts() == [
        f"Lily ({timezone.localdate().year - 10})"
    ]
    second_form.locator("button[type=submit]").click()
    second_page.wait_for_url(f"{base}/en/me/bookings/")
    waiting = Booking.objects.get(resident=second_parent)
    assert waiting.status == Booking.Status.WAITLISTED
    assert "waiting list" in second_page.locator("main").inner_text()

    # The first parent cancels: the seat goes to the second, who is e-mailed in English.
    mail.outbox.clear()
    phone.goto(f"{base}/zh-hans/me/bookings/")
    form = phone.locator(f"form[action$='/bookings/{booking.code}/cancel/']")
    expect(form).to_be_hidden()  # the first tap only asks
    phone.locator(f"#booking-{booking.code} details.confirm summary").click()
    assert "确定取消这个预约吗？" in form.inner_text()
    # The way back is a visible button beside the confirming one: it closes the question, nothing changes.
    way_back = form.get_by_role("link", name="不，返回")
    expect(way_back).to_be_visible()
    assert way_back.bounding_box()["height"] >= 44
    way_back.click()
    phone.wait_for_url(f"{base}/zh-hans/me/bookings/")
    expect(form).to_be_hidden()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    phone.locator(f"#booking-{booking.code} details.confirm summary").click()
    form.locator("button").click()
    phone.wait_for_url(f"{base}/zh-hans/me/bookings/")
    waiting.refresh_from_db()
    assert waiting.status == Booking.Status.CONFIRMED
    promoted = [m for m in mail.outbox if m.to == ["second@example.com"]]
    assert len(promoted) == 1 and "A seat is yours" in promoted[0].subject
    second_page.goto(f"{base}/en/me/bookings/")
    assert waiting.display_code in second_page.locator(".ticket-code").inner_text()
    other.close()


def test_a_draw_publishes_its_seed(portal, phone):
    base = portal.url
    index = event_factories.activity_index()
    lottery = event_factories.activity(
        parent=index,
        title="陶艺体验",
        slug="pottery",
        allocation="draw",
        booking_closes_at=timezone.now() + datetime.timedelta(hours=1),
    )
    session = event_factories.SessionFactory(activity=lottery, capacity=2)
    applicants = [resident(f"potter{i}@example.com") for i in range(5)]
    for person in applicants:
        services.book_session(session=session, resident=person, actor=person)
    type(lottery).objects.filter(pk=lottery.pk).update(booking_closes_at=timezone.now() - datetime.timedelta(minutes=1))
    assert services.run_due_draws() == 1  # what the scheduler's task does when applications close
    draw = session.draw
    phone.goto(f"{base}{lottery.url}")
    phone.locator(f"a[href$='/sessions/{session.pk}/draw/']").click()
    assert draw.seed in phone.locator("code.seed").inner_text()
    rows = phone.locator("table tbody tr")
    assert rows.count() == 5
    assert [int(rows.nth(i).locator("td").nth(1).inner_text().rstrip(" *")) for i in range(5)] == draw.order


def test_events_pages_have_no_serious_violations(portal, classes, phone, scan):
    index, page, session = classes
    base = portal.url
    person = resident("scanner@example.com")
    services.add_household_member(
        resident=person, name="小红", birth_year=timezone.localdate().year - 8, relation="child", guardian_consent=True
    )
    child = person.household_members.get()
    services.book_session(session=session, resident=person, actor=person, member=child)
    lottery = event_factories.activity(
        parent=index,
        title="摇号课",
        slug="draw-class",
        allocation="draw",
        booking_closes_at=timezone.now() + datetime.timedelta(hours=1),
    )
    drawn = event_factories.SessionFactory(activity=lottery, capacity=1)
    services.book_session(session=drawn, resident=person, actor=person)
    services.run_draw(session=drawn, seed="seed-for-axe")
    day = timezone.localtime(session.starts_at).date().isoformat()
    found = {}
    anonymous = [
        "/zh-hans/activities/",
        "/en/activities/",
        f"/zh-hans/activities/?view=week&date={day}",
        f"/en/activities/?view=month&date={day}",
        page.url,
        f"/en/activities/sessions/{drawn.pk}/draw/",
    ]
    for path in anonymous:
        phone.goto(f"{base}{path}")
        found[path] = scan(phone)
    log_in(phone, person, base)
    for path in [page.url, "/zh-hans/me/bookings/", "/en/me/bookings/", "/zh-hans/me/household/", "/en/me/household/"]:
        phone.goto(f"{base}{path}")
        found[f"{path} (logged in)"] = scan(phone)
    assert {path: problems for path, problems in found.items() if problems} == {}


def test_my_bookings_shows_requests_in_the_queue_and_refusals_on_a_small_phone(portal, classes, phone, scan):
    """A booking answered while another request is deciding it shows as in the queue, and one refused says why: in
    both languages, on a 320 px phone, with large text too, nothing sideways and nothing axe calls serious."""
    from events.models import BookingRequest

    index, page, session = classes
    base = portal.url
    person = resident("queued@example.com")
    BookingRequest.objects.create(session=session, resident=person, language="zh-hans")
    other = event_factories.SessionFactory(activity=page, capacity=1, starts_at=event_factories.in_days(6, hour=15))
    BookingRequest.objects.create(
        session=other, resident=person, language="en", decided_at=timezone.now(), refusal="This session has been cancelled."
    )
    log_in(phone, person, base)
    phone.set_viewport_size({"width": 320, "height": 640})
    shots = os.environ.get("LINLI_SCREENSHOTS")
    problems = {}
    for language, waiting in (("zh-hans", "排队中"), ("en", "In the queue")):
        for large in (False, True):
            phone.context.add_cookies([{"name": "linli_text", "value": "large" if large else "normal", "url": base}])
            phone.goto(f"{base}/{language}/me/bookings/")
            requests = phone.locator("section[aria-labelledby=requests-heading]")
            expect(requests).to_contain_text(waiting)
            expect(requests).to_contain_text("This session has been cancelled.")
            expect(requests.get_by_role("link", name="查看结果" if language == "zh-hans" else "Show the answer")).to_be_visible()
            assert phone.evaluate("document.documentElement.scrollWidth") <= 320, (language, large)
            problems[(language, large)] = scan(phone)
            if shots:
                phone.screenshot(path=f"{shots}/my-bookings-queue-{language}{'-large' if large else ''}.png", full_page=True)
    assert {key: found for key, found in problems.items() if found} == {}
