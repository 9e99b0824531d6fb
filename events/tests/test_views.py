"""Residents' pages: the list, an activity, booking, My bookings, tickets, household, draws — in both languages."""

import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

from events import factories, services
from events.models import ActivityIndexPage, Booking, BookingPolicy, CalendarFeed, HouseholdMember
from home.factories import add_page, translate
from home.models import PortalSettings


@pytest.fixture
def bilingual_class(site_pages):
    """A class with its list page, both translated to English, and one session of two seats."""
    index = factories.activity_index()
    translate(index, strings={"课程活动": "Classes and activities", "activities": "activities"})
    page = factories.activity(
        parent=index, title="剪纸课", slug="paper-cutting", summary="跟非遗传承人学剪纸。", organiser="王老师", venue="文化家园"
    )
    english = translate(
        page,
        strings={
            "剪纸课": "Paper-cutting class",
            "paper-cutting": "paper-cutting",
            "跟非遗传承人学剪纸。": "Learn paper-cutting from a heritage master.",
            "王老师": "Ms Wang",
            "文化家园": "Culture Home",
        },
    )
    session = factories.SessionFactory(activity=page, capacity=2)
    return page, english, session


def test_the_list_shows_activities_in_both_languages(client, bilingual_class):
    page, english, session = bilingual_class
    zh = client.get("/zh-hans/activities/")
    en = client.get("/en/activities/")
    assert zh.status_code == en.status_code == 200
    assert "剪纸课" in zh.content.decode() and "2 seats left" not in zh.content.decode()
    assert "Paper-cutting class" in en.content.decode()
    assert "2 seats left" in en.content.decode()


@pytest.mark.parametrize("view", ["week", "month"])
def test_the_calendar_shows_sessions(client, bilingual_class, view):
    page, english, session = bilingual_class
    day = timezone.localtime(session.starts_at).date().isoformat()
    response = client.get(f"/en/activities/?view={view}&date={day}")
    assert response.status_code == 200
    assert "Paper-cutting class" in response.content.decode()


def test_filters_narrow_the_list(client, bilingual_class):
    page, english, session = bilingual_class
    other = factories.activity(title="太极拳", slug="taiji", kind="activity", category="sports", age_band="60+")
    factories.SessionFactory(activity=other)
    assert "太极拳" not in client.get("/zh-hans/activities/?kind=class").content.decode()
    assert "剪纸课" not in client.get("/zh-hans/activities/?age=60%2B").content.decode()
    assert "太极拳" in client.get("/zh-hans/activities/?q=太极").content.decode()
    assert "剪纸课" not in client.get("/zh-hans/activities/?q=太极").content.decode()
    far = (timezone.localdate() + datetime.timedelta(days=60)).isoformat()
    assert "剪纸课" not in client.get(f"/zh-hans/activities/?from={far}").content.decode()
    assert client.get("/zh-hans/activities/?from=not-a-date&kind=bogus").status_code == 200


def test_a_seat_taken_on_the_english_page_is_gone_from_the_chinese_page(client, bilingual_class, make_resident):
    page, english, session = bilingual_class
    resident = make_resident()
    client.force_login(resident)
    assert "Paper-cutting class" in client.get(english.url).content.decode()
    response = client.post(f"/en/activities/sessions/{session.pk}/book/", {"participant": "me"})
    assert response.status_code == 302 and response["Location"] == "/en/me/bookings/"
    client.logout()
    chinese = client.get(page.url).content.decode()
    assert "1 seat left" in client.get(english.url).content.decode()
    assert "剪纸课" in chinese
    assert session.bookings.get().status == Booking.Status.CONFIRMED


def test_anonymous_visitors_are_asked_to_log_in(client, bilingual_class):
    page, english, session = bilingual_class
    content = client.get(english.url).content.decode()
    assert "Log in to book" in content and "csrfmiddlewaretoken" not in content
    response = client.post(f"/en/activities/sessions/{session.pk}/book/", {"participant": "me"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Booking.objects.exists()


def test_booking_errors_are_shown_and_change_nothing(client, bilingual_class, make_resident):
    page, english, session = bilingual_class
    resident, stranger = make_resident(), make_resident()
    stranger_child = factories.HouseholdMemberFactory(resident=stranger)
    client.force_login(resident)
    forged = client.post("/en/activities/sessions/999999/book/", {"participant": "me"}, follow=True)
    assert "This session does not exist." in forged.content.decode()
    someone_elses = client.post(
        f"/en/activities/sessions/{session.pk}/book/", {"participant": str(stranger_child.pk)}, follow=True
    )
    assert "Choose yourself or a member of your household." in someone_elses.content.decode()
    session.starts_at = timezone.now() - datetime.timedelta(hours=1)
    session.save()
    past = client.post(f"/en/activities/sessions/{session.pk}/book/", {"participant": "me"}, follow=True)
    assert "This session has already started." in past.content.decode()
    assert not Booking.objects.exists()


def test_a_double_submitted_form_books_once(client, bilingual_class, make_resident, django_capture_on_commit_callbacks):
    page, english, session = bilingual_class
    client.force_login(make_resident())
    data = {"participant": "me", "request_token": "0b8f6a52-0f0d-4f50-9d63-3c1d2a1c7e11"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/zh-hans/activities/sessions/{session.pk}/book/", data)
        client.post(f"/zh-hans/activities/sessions/{session.pk}/book/", data)
    assert Booking.objects.count() == 1
    assert len(mail.outbox) == 1


def test_my_bookings_shows_the_ticket_and_nobody_elses(client, bilingual_class, make_resident):
    page, english, session = bilingual_class
    mine, theirs = make_resident(), make_resident()
    (booking,) = services.book_session(session=session, resident=mine, actor=mine)
    client.force_login(theirs)
    assert booking.display_code not in client.get("/zh-hans/me/bookings/").content.decode()
    assert client.get(f"/zh-hans/me/bookings/{booking.code}.ics").status_code == 404
    assert client.post(f"/zh-hans/me/bookings/{booking.code}/cancel/").status_code == 404
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    client.force_login(mine)
    for language in ("zh-hans", "en"):
        content = client.get(f"/{language}/me/bookings/").content.decode()
        assert booking.display_code in content and "<svg" in content
    # A full QR code (at least 21 modules; Micro QR has at most 17), scale 5, border 2.
    size = int(re.search(r'<svg viewBox="0 0 (\d+) \d+"', content).group(1))
    assert size // 5 - 4 >= 21
    ics = client.get(f"/en/me/bookings/{booking.code}.ics")
    assert ics["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VALARM" in ics.content and b"Paper-cutting class" in ics.content


def test_cancelling_from_my_bookings(client, bilingual_class, make_resident):
    page, english, session = bilingual_class
    resident = make_resident()
    (booking,) = services.book_session(session=session, resident=resident, actor=resident)
    client.force_login(resident)
    response = client.post(f"/en/me/bookings/{booking.code}/cancel/", follow=True)
    assert "Cancelled. Thank you for freeing the seat." in response.content.decode()
    again = client.post(f"/en/me/bookings/{booking.code}/cancel/", follow=True)
    assert "already cancelled" in again.content.decode()
    assert client.get(f"/en/me/bookings/{booking.code}/cancel/").status_code == 405


def test_the_private_calendar_feed(client, bilingual_class, make_resident):
    page, english, session = bilingual_class
    resident = make_resident(preferred_language="en")
    services.book_session(session=session, resident=resident, actor=resident)
    client.force_login(resident)
    client.get("/en/me/bookings/")
    feed = CalendarFeed.objects.get(resident=resident)
    client.logout()
    response = client.get(f"/calendar/{feed.token}.ics")
    assert response.status_code == 200 and b"Paper-cutting class" in response.content
    assert client.get("/calendar/not-the-token.ics").status_code == 404
    client.force_login(resident)
    client.post("/en/me/calendar/reset/")
    assert client.get(f"/calendar/{feed.token}.ics").status_code == 404


def test_household_members(client, make_resident):
    resident = make_resident()
    client.force_login(resident)
    child_year = timezone.localdate().year - 6
    refused = client.post("/zh-hans/me/household/", {"name": "小明", "birth_year": child_year, "relation": "child"})
    assert refused.status_code == 200 and not HouseholdMember.objects.exists()
    added = client.post(
        "/zh-hans/me/household/", {"name": "小明", "birth_year": child_year, "relation": "child", "guardian_consent": "on"}
    )
    assert added.status_code == 302
    member = HouseholdMember.objects.get()
    assert member.guardian_consent_at is not None
    assert "小明" in client.get("/en/me/household/").content.decode()
    client.force_login(make_resident())
    assert client.post(f"/zh-hans/me/household/{member.pk}/remove/").status_code == 404
    client.force_login(resident)
    client.post(f"/zh-hans/me/household/{member.pk}/remove/")
    assert not HouseholdMember.objects.exists()


def test_the_published_draw(client, site_pages, make_resident):
    lottery = factories.activity(
        title="陶艺", slug="pottery", allocation="draw", booking_closes_at=timezone.now() + datetime.timedelta(days=1)
    )
    session = factories.SessionFactory(activity=lottery, capacity=1)
    for _ in range(3):
        person = make_resident()
        services.book_session(session=session, resident=person, actor=person)
    draw = services.run_draw(session=session, seed="abc123")
    for language in ("zh-hans", "en"):
        content = client.get(f"/{language}/activities/sessions/{session.pk}/draw/").content.decode()
        assert "abc123" in content
        assert all(str(number) in content for number in draw.order)
    assert client.get("/en/activities/sessions/999999/draw/").status_code == 404


def test_pages_need_a_login(client):
    for url in ("/zh-hans/me/bookings/", "/en/me/household/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_seats_left_on_cached_pages_are_at_most_a_few_seconds_old(client, bilingual_class, make_resident, settings):
    import time

    page, english, session = bilingual_class
    settings.LINLI_SEATS_CACHE_SECONDS = 1
    BookingPolicy.load()  # both are made on first use otherwise, and
    PortalSettings.load()  # the creation of PortalSettings empties the page cache
    first = client.get(english.url)
    assert first["X-Page-Cache"] == "miss" and "2 seats left" in first.content.decode()
    resident = make_resident()
    services.book_session(session=session, resident=resident, actor=resident)
    assert client.get(english.url)["X-Page-Cache"] == "hit"  # within its second of life
    time.sleep(1.1)
    fresh = client.get(english.url)
    assert fresh["X-Page-Cache"] == "miss" and "1 seat left" in fresh.content.decode()


def test_another_communitys_session_is_refused_with_a_clear_message(
    client, site_pages, community, other_community, make_resident
):
    theirs = factories.activity(title="江南书法", slug="jiangnan-shufa", community=other_community)
    session = factories.SessionFactory(activity=theirs)
    client.force_login(make_resident())
    response = client.post(f"/en/activities/sessions/{session.pk}/book/", {"participant": "me"}, follow=True)
    assert "This activity is for residents of" in response.content.decode()
    assert not Booking.objects.exists()


def test_a_full_session_offers_the_waiting_list_and_says_the_place(client, bilingual_class, make_resident):
    page, english, session = bilingual_class
    for _ in range(2):
        person = make_resident()
        services.book_session(session=session, resident=person, actor=person)
    client.force_login(make_resident())
    assert "Join the waiting list" in client.get(english.url).content.decode()
    response = client.post(f"/en/activities/sessions/{session.pk}/book/", {"participant": "me"}, follow=True)
    assert "you are number 1 on the waiting list" in response.content.decode()


def test_a_course_with_a_draw_confirms_whole_groups(site_pages, make_resident):
    course = factories.activity(
        title="古琴课",
        slug="guqin",
        allocation="draw",
        booking_unit="series",
        booking_closes_at=timezone.now() + datetime.timedelta(days=1),
    )
    sessions = [factories.SessionFactory(activity=course, starts_at=factories.in_days(day), capacity=2) for day in (4, 11)]
    people = [make_resident() for _ in range(3)]
    for person in people:
        assert {b.status for b in services.book_session(session=sessions[0], resident=person, actor=person)} == {"applied"}
    draw = services.run_draw(session=sessions[0], seed="guqin")
    assert draw.seats == 2 and len(draw.order) == 3
    for each in sessions:
        each.refresh_from_db()
        assert each.seats_taken == 2 and each.drawn_at is not None
    statuses = {p.pk: set(Booking.objects.filter(resident=p).values_list("status", flat=True)) for p in people}
    assert sorted(map(tuple, statuses.values())) == [("confirmed",), ("confirmed",), ("waitlisted",)]


def test_the_street_list_shows_activities_kept_in_community_sections(client, site_pages, community):
    from wagtail.models import Page

    street = factories.activity_index()
    section = Page.objects.get(pk=community.root_page_id).specific
    own_list = add_page(section, ActivityIndexPage(title="六和活动", slug="liuhe-activities"))
    factories.SessionFactory(activity=factories.activity(parent=own_list, title="六和合唱团", slug="choir", community=community))
    factories.SessionFactory(activity=factories.activity(parent=street, title="全街道运动会", slug="games"))
    assert "六和合唱团" in client.get(street.url).content.decode()
    community_list = client.get(own_list.url).content.decode()
    assert "六和合唱团" in community_list and "全街道运动会" not in community_list


def test_the_menu_leads_to_classes_and_points_in_both_languages(client, bilingual_class, resident):
    for language, classes, points in (("zh-hans", "课程活动", "积分"), ("en", "Classes", "Points")):
        home = client.get(f"/{language}/").content.decode()
        assert f'<a href="/{language}/classes/">{classes}</a>' in home
        assert f'<a href="/{language}/points/honours/">{points}</a>' in home  # the public honours roll
        response = client.get(f"/{language}/classes/")
        assert response.status_code == 302 and response["Location"] == f"/{language}/activities/"
    client.force_login(resident)
    for language, points in (("zh-hans", "积分"), ("en", "Points")):
        page = client.get(f"/{language}/me/").content.decode()
        assert f'<a href="/{language}/me/points/">{points}</a>' in page
        assert f'href="/{language}/classes/"' in page  # My page offers the classes too


def test_no_bookings_offers_the_classes(client, bilingual_class, resident):
    client.force_login(resident)
    for language, words in (("zh-hans", "浏览课程活动"), ("en", "Browse classes and activities")):
        page = client.get(f"/{language}/me/bookings/").content.decode()
        assert f'<a class="button" href="/{language}/classes/">{words}</a>' in page


def test_classes_without_a_list_page_is_not_found(client, site_pages):
    assert client.get("/en/classes/").status_code == 404


def test_the_list_shows_the_next_sessions_own_seats(client, bilingual_class):
    page, english, session = bilingual_class
    Session = type(session)
    Session.objects.filter(pk=session.pk).update(seats_taken=session.capacity)  # the next session is full
    factories.SessionFactory(activity=page, capacity=5, starts_at=session.starts_at + datetime.timedelta(days=7))
    for language, full, wrong in (
        ("zh-hans", "<strong>已满</strong>", "剩 5 个名额"),
        ("en", "<strong>Full</strong>", "5 seats left"),
    ):
        html = client.get(f"/{language}/activities/").content.decode()
        assert full in html and wrong not in html


def test_a_booked_session_says_so_and_links_to_the_ticket(client, bilingual_class, make_resident):
    page, english, session = bilingual_class
    me = make_resident()
    (booking,) = services.book_session(session=session, resident=me, actor=me)
    client.force_login(me)
    for url, booked, ticket in ((page.url, "已预约", "查看票"), (english.url, "Booked", "See the ticket")):
        html = client.get(url).content.decode()
        assert f': {booked}</span> · <a href="' in html and f'#booking-{booking.code}">{ticket}</a>' in html
        assert f"/sessions/{session.pk}/book/" not in html  # nobody left to book: no "Book" button


def test_a_waiting_place_shows_its_number(client, bilingual_class, make_resident):
    page, english, session = bilingual_class
    for _ in range(2):
        someone = make_resident()
        services.book_session(session=session, resident=someone, actor=someone)
    first, second = make_resident(), make_resident()
    services.book_session(session=session, resident=first, actor=first)
    services.book_session(session=session, resident=second, actor=second)
    client.force_login(second)
    assert "候补第 2 位" in client.get(page.url).content.decode()
    assert "Number 2 on the waiting list" in client.get(english.url).content.decode()


def test_only_participants_in_the_age_band_are_offered(client, site_pages, make_resident):
    this_year = timezone.localdate().year
    parent = make_resident(birth_year=this_year - 40)
    child = services.add_household_member(
        resident=parent, name="小明", birth_year=this_year - 9, relation="child", guardian_consent=True
    )
    grandma = services.add_household_member(resident=parent, name="奶奶", birth_year=this_year - 70, relation="parent")
    kids = factories.SessionFactory(activity=factories.activity(title="少儿剪纸", slug="kids", age_band="7-12"))
    seniors = factories.SessionFactory(activity=factories.activity(title="太极", slug="seniors", age_band="60+"))
    client.force_login(parent)

    def offered(session) -> list[str]:
        html = client.get(session.activity.url).content.decode()
        form = html.split(f'action="/zh-hans/activities/sessions/{session.pk}/book/"')[1].split("</form>")[0]
        return re.findall(r'<option value="([^"]+)"', form)

    assert offered(kids) == [str(child.pk)]  # the only one who fits, so the default
    assert offered(seniors) == [str(grandma.pk)]
    # The child's consent was given when the child was added: the booking form does not ask again.
    assert "guardian_consent" not in client.get(kids.activity.url).content.decode()


def test_the_consent_box_comes_only_with_a_child_who_needs_it(client, site_pages, make_resident):
    this_year = timezone.localdate().year
    parent = make_resident(birth_year=this_year - 40)
    child = HouseholdMember.objects.create(resident=parent, name="小红", birth_year=this_year - 8, relation="child")
    kids = factories.SessionFactory(activity=factories.activity(title="少儿剪纸", slug="kids", age_band="7-12"))
    adults = factories.SessionFactory(activity=factories.activity(title="插花", slug="flowers", age_band="adults"))
    client.force_login(parent)
    html = client.get(kids.activity.url).content.decode()
    assert f'<option value="{child.pk}" data-consent>' in html and 'name="guardian_consent" value="1" required' in html
    assert "guardian_consent" not in client.get(adults.activity.url).content.decode()
    response = client.post(f"/zh-hans/activities/sessions/{kids.pk}/book/", {"participant": str(child.pk)})
    assert response.status_code == 302 and not Booking.objects.exists()  # refused without the consent
    client.post(f"/zh-hans/activities/sessions/{kids.pk}/book/", {"participant": str(child.pk), "guardian_consent": "1"})
    assert Booking.objects.get().participant_name == "小红"


@pytest.mark.parametrize(
    ("language", "refusal"),
    [
        ("zh-hans", "为不满十四周岁的儿童预约，请确认您是其监护人并表示同意。"),
        ("en", "For a child under 14, please confirm that you are their guardian and consent."),
    ],
)
def test_without_javascript_only_a_childs_booking_needs_the_tick(client, bilingual_class, make_resident, language, refusal):
    """An all-ages class offers the resident and their child: the box shows but is not required in the page, booking
    for oneself goes through without the tick, and the child's booking is refused without it (with the reason)."""
    page, english, session = bilingual_class
    parent = make_resident(birth_year=timezone.localdate().year - 40)
    child = HouseholdMember.objects.create(
        resident=parent, name="小红", birth_year=timezone.localdate().year - 10, relation="child"
    )
    client.force_login(parent)
    html = client.get(page.url if language == "zh-hans" else english.url).content.decode()
    assert 'name="guardian_consent" value="1">' in html and 'name="guardian_consent" value="1" required' not in html
    book_url = f"/{language}/activities/sessions/{session.pk}/book/"
    refused = client.post(book_url, {"participant": str(child.pk)}, follow=True)
    assert refusal in refused.content.decode() and not Booking.objects.exists()
    client.post(book_url, {"participant": "me"})
    assert Booking.objects.get().participant_name != "小红"
    client.post(book_url, {"participant": str(child.pk), "guardian_consent": "1"})
    assert Booking.objects.get(member=child).guardian_consent_at is not None
    # A children's class offering a child who still needs the tick and one whose consent is on file: not required
    # in the page (the second needs none); required where every child offered needs it.
    brother = services.add_household_member(
        resident=parent, name="小刚", birth_year=timezone.localdate().year - 9, relation="child", guardian_consent=True
    )
    kids = factories.SessionFactory(activity=factories.activity(title="少儿剪纸", slug="kids", age_band="7-12"))
    assert 'name="guardian_consent" value="1">' in client.get(kids.activity.url).content.decode()
    services.book_session(session=kids, resident=parent, actor=parent, member=brother)
    assert 'name="guardian_consent" value="1" required' in client.get(kids.activity.url).content.decode()


def test_cancelling_asks_first_and_says_when_it_counts_as_late(client, bilingual_class, make_resident):
    page, english, session = bilingual_class
    me = make_resident()
    (booking,) = services.book_session(session=session, resident=me, actor=me)
    client.force_login(me)
    html = client.get("/zh-hans/me/bookings/").content.decode()
    assert '<details class="confirm">' in html and "确定取消这个预约吗？" in html and "现在取消将记为逾期取消" not in html
    # Inside the cancellation window the question says it will count as late.
    type(session).objects.filter(pk=session.pk).update(starts_at=timezone.now() + datetime.timedelta(hours=1))
    type(session).objects.filter(pk=session.pk).update(ends_at=timezone.now() + datetime.timedelta(hours=2))
    assert "现在取消将记为逾期取消，确定吗？" in client.get("/zh-hans/me/bookings/").content.decode()
    assert "Cancelling now counts as a late cancellation. Are you sure?" in client.get("/en/me/bookings/").content.decode()


def test_a_waiting_place_is_left_not_cancelled_late(client, bilingual_class, make_resident):
    page, english, session = bilingual_class
    for _ in range(2):
        someone = make_resident()
        services.book_session(session=session, resident=someone, actor=someone)
    me = make_resident()
    (waiting,) = services.book_session(session=session, resident=me, actor=me)
    type(session).objects.filter(pk=session.pk).update(starts_at=timezone.now() + datetime.timedelta(hours=1))
    client.force_login(me)
    html = client.get("/zh-hans/me/bookings/").content.decode()
    assert "退出候补" in html and "候补第一位会自动获得名额" in html and "逾期" not in html
    english_html = client.get("/en/me/bookings/").content.decode()
    assert "Leave the waiting list? You lose your place in the queue." in english_html and "late cancellation" not in english_html
    response = client.post(f"/en/me/bookings/{waiting.code}/cancel/", follow=True)
    assert "You have left the waiting list." in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == Booking.Status.CANCELLED and not waiting.late_cancellation


@pytest.mark.parametrize(("language", "own_venue", "venue_en", "shown"), [
    ("zh-hans", "", "", "文化家园"),
    ("en", "", "", "Culture Home"),  # the English page's venue, as wagtail-localize translated it
    ("en", "社区礼堂", "Community hall", "Community hall"),
    ("en", "社区礼堂", "", "社区礼堂 (no English yet)"),  # visibly untranslated: staff left the English empty
    ("zh-hans", "社区礼堂", "Community hall", "社区礼堂"),
])  # fmt: skip
def test_a_session_s_venue_is_shown_in_the_reader_s_language(client, bilingual_class, language, own_venue, venue_en, shown):
    page, english, session = bilingual_class
    session.venue, session.venue_en = own_venue, venue_en
    session.save()
    activity = page if language == "zh-hans" else english

    body = client.get(activity.url).content.decode()

    assert f'<p class="meta">{shown}</p>' in body


@pytest.mark.parametrize(
    ("language", "page_words", "refusal"),
    [
        ("zh-hans", "短期内 1 次未到或逾期取消", "因 1 次未到或逾期取消，新的预约暂停至"),
        ("en", "1 no-show or late cancellation in a short time.", "after 1 no-show or late cancellation."),
    ],
)
def test_a_suspension_after_one_no_show_reads_in_the_singular(
    client, bilingual_class, make_resident, language, page_words, refusal
):
    page, english, session = bilingual_class
    policy = BookingPolicy.load()
    policy.no_show_limit, policy.period_days, policy.suspension_days = 1, 30, 14
    policy.save()
    me = make_resident()
    past = factories.SessionFactory(
        activity=page,
        starts_at=timezone.now() - datetime.timedelta(days=2, hours=2),
        ends_at=timezone.now() - datetime.timedelta(days=2),
    )
    Booking.objects.create(session=past, resident=me, participant_key=f"u{me.pk}", participant_name="x", status="no_show")
    client.force_login(me)
    assert page_words in client.get(f"/{language}/me/bookings/").content.decode()
    response = client.post(f"/{language}/activities/sessions/{session.pk}/book/", {"participant": "me"}, follow=True)
    assert refusal in response.content.decode()
