"""Staff pages in the Wagtail admin: sessions, roster, exports, actions, series, check-in, dashboard.

Each view is tried as the community's staff, as staff of another community (refused, nothing
changes) and as a plain resident (no admin at all).
"""

import csv
import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from wagtail.users.models import UserProfile

from events import factories, services
from events.models import Booking, Session
from home.factories import ResidentProfileFactory, VerifiedUserFactory
from home.scope import NotStaff, for_user

pytestmark = pytest.mark.django_db

User = get_user_model()


def in_english(user):
    """Staff read the admin in English in these tests (the default is Chinese)."""
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    return User.objects.get(pk=user.pk)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(in_english(staff))
    return client


@pytest.fixture
def other_client(client, other_staff):
    client.force_login(in_english(other_staff))
    return client


@pytest.fixture
def resident_client(client, resident):
    client.force_login(resident)
    return client


@pytest.fixture
def activity(community):
    return factories.activity(title="六和剪纸课", slug="liuhe-paper-cutting", community=community)


@pytest.fixture
def liuhe_session(activity):
    """A session of an activity only Liuhe's residents may book, starting within the hour."""
    starts = timezone.now() + datetime.timedelta(minutes=30)
    return factories.SessionFactory(activity=activity, capacity=2, starts_at=starts, ends_at=starts + datetime.timedelta(hours=2))


def book(session, resident):
    return services.book_session(session=session, resident=resident, actor=resident)[0]


@pytest.fixture
def full_session(liuhe_session, make_resident):
    """Two confirmed, one waiting, one cancelled."""
    people = [make_resident(display_name=name) for name in ("张三", "李四", "王五", "赵六")]
    bookings = [book(liuhe_session, person) for person in people]
    services.cancel_booking(booking=bookings[3], actor=people[3])
    liuhe_session.refresh_from_db()
    return liuhe_session


def url(name, *args):
    return reverse(f"events_admin:{name}", args=args)


def refused(response) -> bool:
    """Wagtail answers a PermissionDenied in the admin with a redirect to the dashboard and a message."""
    return response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def follow_messages(client, response) -> str:
    assert response.status_code == 302
    return " ".join(messages_of(client.get(response["Location"])))


# ---------------------------------------------------------------------------
# Who gets in


@pytest.mark.parametrize("name", ["sessions", "activities"])
def test_a_plain_resident_has_no_staff_pages(resident_client, name):
    response = resident_client.get(url(name))
    assert response.status_code in (302, 403)


def test_the_menu_shows_for_staff(staff_client):
    response = staff_client.get(reverse("wagtailadmin_home"))
    assert "Classes and activities" in response.content.decode()


def test_a_resident_cannot_reach_any_session_page(resident_client, full_session):
    for name in ("roster", "export_csv", "export_xlsx", "book_resident", "cancel_session", "email", "check_in"):
        response = resident_client.get(url(name, full_session.pk))
        assert response.status_code in (302, 403), name
    response = resident_client.post(url("capacity", full_session.pk), {"capacity": 9})
    assert response.status_code in (302, 403)
    full_session.refresh_from_db()
    assert full_session.capacity == 2


# ---------------------------------------------------------------------------
# Sessions list


def test_the_sessions_list_shows_own_and_street_wide_sessions_upcoming_first(staff_client, full_session, other_community):
    street_wide = factories.SessionFactory(
        activity=factories.activity(title="全街道健步走", slug="walk"), starts_at=factories.in_days(5)
    )
    elsewhere = factories.SessionFactory(
        activity=factories.activity(title="江南书法课", slug="calligraphy", community=other_community)
    )
    past = factories.SessionFactory(
        activity=full_session.activity,
        starts_at=timezone.now() - datetime.timedelta(days=2),
        ends_at=timezone.now() - datetime.timedelta(days=2) + datetime.timedelta(hours=1),
    )
    response = staff_client.get(url("sessions"))
    assert response.status_code == 200
    sessions = list(response.context["page_obj"].object_list)
    assert sessions == [full_session, street_wide]
    assert elsewhere not in sessions and past not in sessions
    assert sessions[0].waiting == 1
    assert "2 / 2" in response.content.decode()

    assert list(staff_client.get(url("sessions"), {"past": "on"}).context["page_obj"].object_list) == [past]
    filtered = staff_client.get(url("sessions"), {"activity": str(street_wide.activity.translation_key)})
    assert list(filtered.context["page_obj"].object_list) == [street_wide]
    day = timezone.localtime(street_wide.starts_at).date()
    by_date = staff_client.get(url("sessions"), {"date_from": day, "date_to": day})
    assert list(by_date.context["page_obj"].object_list) == [street_wide]


def test_other_communities_staff_do_not_see_the_session(other_client, full_session):
    response = other_client.get(url("sessions"))
    assert full_session not in list(response.context["page_obj"].object_list)


def test_the_sessions_list_query_count_does_not_grow_with_sessions(staff_client, activity, django_assert_max_num_queries):
    for day in range(3):
        factories.SessionFactory(activity=activity, starts_at=factories.in_days(day + 1))
    staff_client.get(url("sessions"))  # warm the caches (site, locales)
    with django_assert_max_num_queries(40) as few:
        staff_client.get(url("sessions"))
    for day in range(20):
        factories.SessionFactory(activity=activity, starts_at=factories.in_days(day + 5))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = staff_client.get(url("sessions"))
    assert len(response.context["page_obj"].object_list) == 23


# ---------------------------------------------------------------------------
# Roster and exports


def test_the_roster_groups_bookings_by_status(staff_client, full_session):
    response = staff_client.get(url("roster", full_session.pk))
    assert response.status_code == 200
    groups = {group.status: [b.participant_name for b in group.bookings] for group in response.context["groups"]}
    assert groups["confirmed"] == ["张三", "李四"]
    assert groups["waitlisted"] == ["王五"]
    assert groups["cancelled"] == ["赵六"]
    assert groups["attended"] == groups["no_show"] == []
    assert "Waiting list, in order (1)" in response.content.decode()


def test_the_roster_renders_in_chinese(client, staff, full_session):
    client.force_login(staff)
    response = client.get(url("roster", full_session.pk))
    assert response.status_code == 200
    assert "张三" in response.content.decode()


def test_other_staff_get_not_found_on_every_session_page(other_client, full_session):
    for name in ("roster", "export_csv", "export_xlsx", "book_resident", "cancel_session", "email", "check_in"):
        assert refused(other_client.get(url(name, full_session.pk))), name


def test_the_csv_export_holds_the_roster(staff_client, full_session):
    response = staff_client.get(url("export_csv", full_session.pk))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="roster-')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Status", "Place in the waiting list", "Participant"]
    names = {row[2]: row for row in rows[1:]}
    assert set(names) == {"张三", "李四", "王五", "赵六"}
    assert names["王五"][0] == "On the waiting list" and names["王五"][1] == "1"
    codes = set(Booking.objects.filter(session=full_session).values_list("code", flat=True))
    assert {row[6].replace("-", "") for row in rows[1:]} == codes


def test_the_xlsx_export_holds_the_roster(staff_client, full_session):
    response = staff_client.get(url("export_xlsx", full_session.pk))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][2] == "Participant"
    assert sorted(row[2] for row in rows[1:]) == sorted(["张三", "李四", "王五", "赵六"])


FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(1)", "\tx", "\rx"]


def test_exports_defuse_spreadsheet_formulas(staff_client, liuhe_session, staff, make_resident):
    for name in FORMULAS:
        book(liuhe_session, make_resident(display_name=name))
    services.book_walk_in(session=liuhe_session, actor=staff, name="刘奶奶", phone="+8613812345678")
    rows = list(csv.reader(io.StringIO(staff_client.get(url("export_csv", liuhe_session.pk)).content.decode("utf-8-sig"))))
    names = {row[2] for row in rows[1:]}
    assert names == {"'" + name for name in FORMULAS} | {"刘奶奶"}
    assert "'+8613812345678" in {row[4] for row in rows[1:]}  # a + starts a formula too; the number stays readable
    sheet = load_workbook(io.BytesIO(staff_client.get(url("export_xlsx", liuhe_session.pk)).content)).active
    cells = {cell.value.replace("\n", "\r"): cell for cell in next(sheet.iter_cols(min_col=3, max_col=3, min_row=2))}
    assert set(cells) == {"'" + name for name in FORMULAS} | {"刘奶奶"}
    assert all(cell.data_type == "s" for cell in cells.values())


# ---------------------------------------------------------------------------
# Actions


def test_staff_book_a_walk_in(staff_client, liuhe_session):
    response = staff_client.post(url("walk_in", liuhe_session.pk), {"name": "刘奶奶", "phone": "138 1234 5678"})
    booking = Booking.objects.get(session=liuhe_session)
    assert (booking.participant_name, booking.phone, booking.status) == ("刘奶奶", "13812345678", "confirmed")
    assert booking.display_code in follow_messages(staff_client, response)


def test_a_bad_walk_in_is_refused_and_books_nothing(staff_client, liuhe_session):
    response = staff_client.post(url("walk_in", liuhe_session.pk), {"name": "刘奶奶", "phone": "abc"})
    assert "valid phone number" in follow_messages(staff_client, response)
    assert not Booking.objects.exists()


def test_other_staff_cannot_book_a_walk_in(other_client, liuhe_session):
    response = other_client.post(url("walk_in", liuhe_session.pk), {"name": "刘奶奶", "phone": "13812345678"})
    assert refused(response)
    assert not Booking.objects.exists()


def test_more_seats_go_to_the_waiting_list(staff_client, full_session, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url("capacity", full_session.pk), {"capacity": 3})
    assert "3 seats" in follow_messages(staff_client, response)
    full_session.refresh_from_db()
    assert (full_session.capacity, full_session.seats_taken) == (3, 3)
    assert not Booking.objects.filter(session=full_session, status="waitlisted").exists()


def test_seats_below_those_taken_are_refused(staff_client, full_session):
    response = staff_client.post(url("capacity", full_session.pk), {"capacity": 1})
    assert "already taken" in follow_messages(staff_client, response)
    full_session.refresh_from_db()
    assert full_session.capacity == 2


def test_other_staff_cannot_change_seats(other_client, full_session):
    assert refused(other_client.post(url("capacity", full_session.pk), {"capacity": 9}))
    full_session.refresh_from_db()
    assert full_session.capacity == 2


def test_staff_move_someone_from_the_waiting_list(staff_client, full_session, django_capture_on_commit_callbacks):
    waiting = Booking.objects.get(session=full_session, status="waitlisted")
    refused = staff_client.post(url("promote", full_session.pk, waiting.pk))
    assert "no free seat" in follow_messages(staff_client, refused)
    Session.objects.filter(pk=full_session.pk).update(capacity=3)  # as if seats were added during a draw
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url("promote", full_session.pk, waiting.pk))
    assert "now has a seat" in follow_messages(staff_client, response)
    waiting.refresh_from_db()
    assert waiting.status == "confirmed"
    assert mail.outbox[-1].to == [waiting.resident.email]


def test_other_staff_cannot_move_anyone(other_client, full_session):
    waiting = Booking.objects.get(session=full_session, status="waitlisted")
    Session.objects.filter(pk=full_session.pk).update(capacity=3)
    assert refused(other_client.post(url("promote", full_session.pk, waiting.pk)))
    waiting.refresh_from_db()
    assert waiting.status == "waitlisted"


def test_a_booking_of_another_session_is_not_found(staff_client, full_session, activity):
    elsewhere = factories.SessionFactory(activity=activity)
    waiting = Booking.objects.get(session=full_session, status="waitlisted")
    assert staff_client.post(url("promote", elsewhere.pk, waiting.pk)).status_code in (302, 404)
    waiting.refresh_from_db()
    assert waiting.status == "waitlisted"


def test_staff_cancel_a_booking_and_the_queue_moves(staff_client, full_session):
    confirmed = Booking.objects.filter(session=full_session, status="confirmed").first()
    response = staff_client.post(url("cancel_booking", full_session.pk, confirmed.pk))
    assert "cancelled" in follow_messages(staff_client, response)
    confirmed.refresh_from_db()
    assert confirmed.status == "cancelled"
    assert Booking.objects.get(session=full_session, participant_name="王五").status == "confirmed"


def test_staff_run_the_draw(staff_client, community, make_resident):
    draw_activity = factories.activity(title="热门烘焙课", slug="baking", community=community, allocation="draw")
    session = factories.SessionFactory(activity=draw_activity, capacity=1)
    for _ in range(3):
        book(session, make_resident())
    response = staff_client.post(url("draw", session.pk), {"confirm": "on"})
    session.refresh_from_db()
    assert session.draw_seed and session.draw_seed in follow_messages(staff_client, response)
    assert Booking.objects.filter(session=session, status="confirmed").count() == 1
    assert Booking.objects.filter(session=session, status="waitlisted").count() == 2
    again = staff_client.post(url("draw", session.pk), {"confirm": "on"})
    assert "already run" in follow_messages(staff_client, again)


@pytest.mark.parametrize(
    ("language", "refusal"),
    [("zh-hans", "请勾选确认摇号：摇号只进行一次，无法撤销。"), ("en", "Please tick the box to confirm the draw")],
)
@pytest.mark.parametrize("data", [{}, {"confirm": ""}])
def test_the_draw_without_the_ticked_box_draws_nothing_and_says_why(
    client, staff, community, make_resident, language, refusal, data
):
    profile = UserProfile.get_for_user(staff)
    profile.preferred_language = language
    profile.save()
    client.force_login(User.objects.get(pk=staff.pk))
    draw_activity = factories.activity(title="热门烘焙课", slug="baking", community=community, allocation="draw")
    session = factories.SessionFactory(activity=draw_activity, capacity=1)
    for _ in range(2):
        book(session, make_resident())
    response = client.post(url("draw", session.pk), data)
    assert refusal in follow_messages(client, response)
    session.refresh_from_db()
    assert session.drawn_at is None and not session.draw_seed
    assert Booking.objects.filter(session=session, status="applied").count() == 2


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            "zh-hans",
            [
                "摇号只进行一次，无法撤销或重新进行；每位报名者都会收到告知结果的电子邮件。",
                "我确认现在开始摇号",
                "要取消张三的预约吗？系统将通过电子邮件告知对方，名额转给候补的下一位；如为系列课程，其后续各场预约将一并取消。此操作无法撤销。",
                "确定取消",
                "不，保留",
            ],
        ),
        (
            "en",
            [
                "The draw runs once and cannot be undone or run again; every applicant is told the outcome by e-mail.",
                "I confirm that the draw runs now",
                "Cancel the booking of 张三? They are told by e-mail and their seat goes to the next person waiting;",
                "Yes, cancel",
                "No, keep it",
            ],
        ),
    ],
)
def test_the_roster_asks_before_cancelling_a_booking_or_running_the_draw(
    client, staff, community, make_resident, language, texts
):
    profile = UserProfile.get_for_user(staff)
    profile.preferred_language = language
    profile.save()
    client.force_login(User.objects.get(pk=staff.pk))
    draw_activity = factories.activity(title="热门烘焙课", slug="baking", community=community, allocation="draw")
    session = factories.SessionFactory(activity=draw_activity, capacity=1)
    applied = book(session, make_resident(display_name="张三"))
    html = client.get(url("roster", session.pk)).content.decode()
    for text in texts:
        assert text in html, text
    assert 'name="confirm" value="yes" required' in html
    # The per-row cancel is a question first: its form (and its button) sits inside the closed <details>.
    cancel_action = url("cancel_booking", session.pk, applied.pk)
    assert html.index('<details class="confirm confirm-admin">') < html.index(f'action="{cancel_action}"')
    assert 'class="button button-small button-secondary confirm-no"' in html


def test_the_draw_refuses_a_first_come_activity(staff_client, full_session):
    response = staff_client.post(url("draw", full_session.pk), {"confirm": "yes"})
    assert "does not use a draw" in follow_messages(staff_client, response)
    assert not full_session.drawn_at


def test_other_staff_cannot_run_the_draw(other_client, community, make_resident):
    draw_activity = factories.activity(title="热门烘焙课", slug="baking", community=community, allocation="draw")
    session = factories.SessionFactory(activity=draw_activity, capacity=1)
    book(session, make_resident())
    assert refused(other_client.post(url("draw", session.pk), {"confirm": "yes"}))
    session.refresh_from_db()
    assert session.drawn_at is None


def test_staff_cancel_the_session_and_everyone_is_told(staff_client, full_session, django_capture_on_commit_callbacks):
    assert staff_client.get(url("cancel_session", full_session.pk)).status_code == 200
    empty = staff_client.post(url("cancel_session", full_session.pk), {"reason": "  "})
    assert empty.status_code == 200 and empty.context["form"].errors
    full_session.refresh_from_db()
    assert full_session.status == "scheduled"
    mail.outbox.clear()
    services.book_walk_in(
        session=full_session, actor=User.objects.get(username="liuhe-staff"), name="刘奶奶", phone="13812345678"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url("cancel_session", full_session.pk), {"reason": "老师生病"})
    shown = follow_messages(staff_client, response)
    assert (
        "3 participants are being told by e-mail" in shown and "1 participant has no e-mail address: please phone them" in shown
    )
    full_session.refresh_from_db()
    assert (full_session.status, full_session.cancelled_reason) == ("cancelled", "老师生病")
    assert len(mail.outbox) == 3
    assert all("老师生病" in message.body for message in mail.outbox)


def test_other_staff_cannot_cancel_the_session(other_client, full_session):
    assert refused(other_client.post(url("cancel_session", full_session.pk), {"reason": "x"}))
    full_session.refresh_from_db()
    assert full_session.status == "scheduled"


def test_staff_email_all_participants(staff_client, full_session, django_capture_on_commit_callbacks):
    assert staff_client.get(url("email", full_session.pk)).status_code == 200
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url("email", full_session.pk), {"subject": "带剪刀", "message": "请自带剪刀。"})
    assert "3 participants" in follow_messages(staff_client, response)
    assert len(mail.outbox) == 3
    assert "请自带剪刀。" in mail.outbox[0].body


def test_other_staff_cannot_email_participants(other_client, full_session):
    mail.outbox.clear()
    assert refused(other_client.post(url("email", full_session.pk), {"subject": "a", "message": "b"}))
    assert mail.outbox == []


def test_staff_find_and_book_a_resident(staff_client, liuhe_session, make_resident):
    grandma = make_resident(display_name="孙奶奶", mobile="13912345678")
    for query in ("孙奶", "13912345678", grandma.email):
        response = staff_client.get(url("book_resident", liuhe_session.pk), {"q": query})
        assert [profile.user for profile in response.context["found"]] == [grandma], query
    response = staff_client.post(url("book_resident", liuhe_session.pk), {"resident": grandma.pk})
    assert response.status_code == 302
    booking = Booking.objects.get(session=liuhe_session)
    assert (booking.resident, booking.created_by.username, booking.status) == (grandma, "liuhe-staff", "confirmed")


def test_booking_a_resident_twice_shows_the_error(staff_client, liuhe_session, resident):
    book(liuhe_session, resident)
    response = staff_client.post(url("book_resident", liuhe_session.pk), {"resident": resident.pk})
    assert "already has a place" in follow_messages(staff_client, response)
    assert Booking.objects.count() == 1


def test_staff_cannot_find_or_book_residents_of_another_community(staff_client, liuhe_session, make_resident, other_community):
    stranger = make_resident(display_name="江南居民", community_=other_community)
    found = staff_client.get(url("book_resident", liuhe_session.pk), {"q": "江南居民"}).context["found"]
    assert found == []
    response = staff_client.post(url("book_resident", liuhe_session.pk), {"resident": stranger.pk})
    assert "Choose a resident" in follow_messages(staff_client, response)
    assert not Booking.objects.exists()


def test_other_staff_cannot_book_for_a_resident(other_client, liuhe_session, resident):
    assert refused(other_client.post(url("book_resident", liuhe_session.pk), {"resident": resident.pk}))
    assert not Booking.objects.exists()


# ---------------------------------------------------------------------------
# Check-in


def check_in(client, session, code):
    response = client.post(url("check_in", session.pk), {"code": code})
    assert response.status_code == 200
    return response.context["result"]


def test_check_in_outcomes(staff_client, full_session, activity):
    confirmed = Booking.objects.filter(session=full_session, status="confirmed").first()
    assert staff_client.get(url("check_in", full_session.pk)).status_code == 200

    first = check_in(staff_client, full_session, confirmed.display_code.lower())
    assert first["outcome"] == "checked_in" and confirmed.participant_name in first["message"]
    again = check_in(staff_client, full_session, f"LINLI:{confirmed.code}")
    assert again["outcome"] == "repeated" and "Not counted again" in again["message"]
    confirmed.refresh_from_db()
    assert confirmed.status == "attended"

    cancelled = Booking.objects.get(session=full_session, status="cancelled")
    assert "cancelled" in check_in(staff_client, full_session, cancelled.code)["message"]
    other_session = factories.SessionFactory(activity=activity, starts_at=factories.in_days(2))
    foreign = services.book_walk_in(
        session=other_session, actor=User.objects.get(username="liuhe-staff"), name="钱", phone="13700000000"
    )
    assert "another session" in check_in(staff_client, full_session, foreign.code)["message"]
    unknown = check_in(staff_client, full_session, "XXXX-XXXX")
    assert unknown["outcome"] == "refused" and "No ticket has this code" in unknown["message"]
    page = staff_client.get(url("check_in", full_session.pk)).content.decode()
    assert "1 of 2 checked in" in page


def test_other_staff_cannot_check_in(other_client, full_session):
    confirmed = Booking.objects.filter(session=full_session, status="confirmed").first()
    assert refused(other_client.post(url("check_in", full_session.pk), {"code": confirmed.code}))
    confirmed.refresh_from_db()
    assert confirmed.status == "confirmed"


def test_staff_undo_a_check_in(staff_client, full_session, staff):
    confirmed = Booking.objects.filter(session=full_session, status="confirmed").first()
    refused = staff_client.post(url("undo_check_in", full_session.pk, confirmed.pk))
    assert "not checked in" in follow_messages(staff_client, refused)
    services.check_in(session=full_session, code=confirmed.code, actor=staff)
    response = staff_client.post(url("undo_check_in", full_session.pk, confirmed.pk))
    assert "undone" in follow_messages(staff_client, response)
    confirmed.refresh_from_db()
    assert (confirmed.status, confirmed.checked_in_at) == ("confirmed", None)


def test_other_staff_cannot_undo_a_check_in(other_client, full_session, staff):
    confirmed = Booking.objects.filter(session=full_session, status="confirmed").first()
    services.check_in(session=full_session, code=confirmed.code, actor=staff)
    assert refused(other_client.post(url("undo_check_in", full_session.pk, confirmed.pk)))
    confirmed.refresh_from_db()
    assert confirmed.status == "attended"


# ---------------------------------------------------------------------------
# Adding a series


SERIES = {
    "first_day": "2026-09-20",
    "last_day": "2026-10-10",
    "weekdays": ["3"],  # Thursdays: 24 Sep, 1 Oct (National Day), 8 Oct
    "start": "09:00",
    "end": "10:30",
    "capacity": "12",
    "venue": "二楼活动室",
    "skip_holidays": "on",
}


def test_the_activity_list_links_to_adding_sessions(staff_client, activity, other_community):
    factories.activity(title="江南书法课", slug="calligraphy", community=other_community)
    response = staff_client.get(url("activities"))
    assert [page.pk for page in response.context["page_obj"].object_list] == [activity.pk]
    assert url("add_sessions", activity.pk) in response.content.decode()


def test_preview_then_save_creates_the_sessions(staff_client, activity):
    assert staff_client.get(url("add_sessions", activity.pk)).status_code == 200
    preview = staff_client.post(url("add_sessions", activity.pk), {**SERIES, "preview": "1"})
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "国庆节" in page and "skipped" in page
    assert "2026-09-20" in page and "2026-10-10" in page  # the make-up working days
    assert [each.starts_at.date().isoformat() for each in preview.context["preview"].to_create] == ["2026-09-24", "2026-10-08"]
    assert not Session.objects.exists()

    saved = staff_client.post(
        url("add_sessions", activity.pk), {**SERIES, "save": "1", "previewed": preview.context["fingerprint"]}
    )
    assert saved.status_code == 302
    sessions = list(Session.objects.order_by("starts_at"))
    assert [timezone.localtime(s.starts_at).strftime("%Y-%m-%d %H:%M") for s in sessions] == [
        "2026-09-24 09:00",
        "2026-10-08 09:00",
    ]
    assert {(s.capacity, s.venue, s.activity_id) for s in sessions} == {(12, "二楼活动室", activity.pk)}


def test_holidays_can_be_kept(staff_client, activity):
    data = {key: value for key, value in SERIES.items() if key != "skip_holidays"}
    preview = staff_client.post(url("add_sessions", activity.pk), {**data, "preview": "1"})
    staff_client.post(url("add_sessions", activity.pk), {**data, "save": "1", "previewed": preview.context["fingerprint"]})
    assert Session.objects.get(holiday_name__contains="国庆").starts_at.date() == datetime.date(2026, 10, 1)


def test_a_rule_changed_after_the_preview_is_previewed_again(staff_client, activity):
    preview = staff_client.post(url("add_sessions", activity.pk), {**SERIES, "preview": "1"})
    changed = {**SERIES, "weekdays": ["3", "4"], "save": "1", "previewed": preview.context["fingerprint"]}
    response = staff_client.post(url("add_sessions", activity.pk), changed)
    assert response.status_code == 200
    assert "changed since the preview" in " ".join(messages_of(response))
    assert not Session.objects.exists()


def test_a_bad_rule_shows_the_error(staff_client, activity):
    response = staff_client.post(url("add_sessions", activity.pk), {**SERIES, "end": "08:00", "preview": "1"})
    assert "end time must be after" in response.content.decode()
    assert not Session.objects.exists()


def test_other_staff_cannot_add_sessions(other_client, activity):
    assert refused(other_client.get(url("add_sessions", activity.pk)))
    assert refused(other_client.post(url("add_sessions", activity.pk), {**SERIES, "save": "1"}))
    assert not Session.objects.exists()


def test_a_resident_cannot_add_sessions(resident_client, site_pages):
    street_wide = factories.activity(title="全街道健步走", slug="walk")
    response = resident_client.post(url("add_sessions", street_wide.pk), {**SERIES, "save": "1"})
    assert response.status_code in (302, 403)
    assert not Session.objects.exists()


def test_add_series_service_refuses_non_staff(resident, site_pages):
    street_wide = factories.activity(title="全街道健步走", slug="walk")
    with pytest.raises(NotStaff):
        services.add_series(
            activity=street_wide,
            actor=resident,
            first_day=datetime.date(2026, 9, 20),
            last_day=datetime.date(2026, 10, 10),
            weekdays={3},
            start=datetime.time(9),
            end=datetime.time(10),
            capacity=5,
        )
    assert not Session.objects.exists()


def test_the_page_explorer_offers_add_sessions(client, activity):
    admin = VerifiedUserFactory(is_superuser=True, is_staff=True)
    client.force_login(in_english(admin))
    response = client.get(reverse("wagtailadmin_explore", args=[activity.get_parent().pk]))
    assert url("add_sessions", activity.pk) in response.content.decode()


# ---------------------------------------------------------------------------
# Dashboard


@pytest.fixture
def ended_sessions(activity, make_resident, staff):
    """Two sessions last week: 4 seats each; 3 and 2 booked; 2 attended, 3 no-shows in all."""
    ended = []
    for days, booked, attending in ((8, 3, 2), (7, 2, 0)):
        starts = timezone.now() - datetime.timedelta(days=days)
        session = factories.SessionFactory(
            activity=activity, capacity=4, starts_at=starts, ends_at=starts + datetime.timedelta(hours=1)
        )
        for index in range(booked):
            status = "attended" if index < attending else "no_show"
            resident = make_resident()
            Booking.objects.create(
                session=session, resident=resident, participant_key=f"u{resident.pk}", participant_name="x", status=status
            )
        Session.objects.filter(pk=session.pk).update(seats_taken=booked)
        ended.append(session)
    return ended


def test_the_dashboard_shows_fill_and_attendance(staff_client, ended_sessions):
    response = staff_client.get(reverse("wagtailadmin_home"))
    page = response.content.decode()
    assert "fill and attendance" in page
    assert "<svg" in page and "events-chart-month-title" in page
    (figures,) = [f for f in staff_client.get(reverse("wagtailadmin_home")).context["panels"] if f.name == "event_attendance"]
    from events.admin_views import attendance_figures

    (activity_figures,) = attendance_figures(for_user(User.objects.get(username="liuhe-staff")))["per_activity"]
    assert (activity_figures.sessions, activity_figures.capacity, activity_figures.taken) == (2, 8, 5)
    assert (activity_figures.attended, activity_figures.no_shows) == (2, 3)
    assert (activity_figures.fill_rate, activity_figures.attendance_rate) == (62, 40)
    assert "62%" in page and "40%" in page


def test_the_dashboard_counts_only_the_staff_members_community(other_client, ended_sessions):
    page = other_client.get(reverse("wagtailadmin_home")).content.decode()
    assert "No sessions have ended" in page
    assert "62%" not in page


def test_a_superuser_sees_every_community_on_the_dashboard(client, ended_sessions):
    admin = ResidentProfileFactory(user__is_superuser=True, user__is_staff=True).user
    client.force_login(in_english(admin))
    assert "62%" in client.get(reverse("wagtailadmin_home")).content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_staff_page_renders_in_both_languages(client, staff, full_session, language):
    profile = UserProfile.get_for_user(staff)
    profile.preferred_language = language
    profile.save()
    client.force_login(User.objects.get(pk=staff.pk))
    pages = [url("sessions"), url("activities"), url("add_sessions", full_session.activity.pk), reverse("wagtailadmin_home")]
    pages += [url(name, full_session.pk) for name in ("roster", "book_resident", "cancel_session", "email", "check_in")]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert f'lang="{language}"' in response.content.decode(), path


def test_the_roster_query_count_does_not_grow_with_bookings(staff_client, liuhe_session, staff, django_assert_max_num_queries):
    Session.objects.filter(pk=liuhe_session.pk).update(capacity=100)
    for index in range(3):
        services.book_walk_in(session=liuhe_session, actor=staff, name=f"居民{index}", phone=f"1380000000{index}")
    staff_client.get(url("roster", liuhe_session.pk))
    with django_assert_max_num_queries(40) as few:
        staff_client.get(url("roster", liuhe_session.pk))
    for index in range(3, 23):
        services.book_walk_in(session=liuhe_session, actor=staff, name=f"居民{index}", phone=f"138000000{index:02d}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = staff_client.get(url("roster", liuhe_session.pk))
    assert len(response.context["groups"][0].bookings) == 23


def test_a_superuser_sees_every_communitys_sessions(client, full_session, other_community):
    elsewhere = factories.SessionFactory(
        activity=factories.activity(title="江南书法课", slug="calligraphy", community=other_community)
    )
    admin = VerifiedUserFactory(is_superuser=True, is_staff=True)
    client.force_login(in_english(admin))
    sessions = list(client.get(url("sessions")).context["page_obj"].object_list)
    assert full_session in sessions and elsewhere in sessions
    assert client.get(url("roster", elsewhere.pk)).status_code == 200


def test_staff_book_a_residents_child(staff_client, liuhe_session, make_resident):
    parent = make_resident(display_name="周先生")
    child = factories.HouseholdMemberFactory(resident=parent, name="周小宝")
    page = staff_client.get(url("book_resident", liuhe_session.pk), {"q": "周先生"}).content.decode()
    assert "周小宝" in page
    response = staff_client.post(url("book_resident", liuhe_session.pk), {"resident": parent.pk, "member": child.pk})
    assert response.status_code == 302
    booking = Booking.objects.get(session=liuhe_session)
    assert (booking.participant_name, booking.member, booking.resident) == ("周小宝", child, parent)


def test_someone_elses_household_member_is_refused(staff_client, liuhe_session, make_resident):
    parent, stranger = make_resident(), make_resident()
    child = factories.HouseholdMemberFactory(resident=stranger)
    response = staff_client.post(url("book_resident", liuhe_session.pk), {"resident": parent.pk, "member": child.pk})
    assert "not in the resident's household" in follow_messages(staff_client, response)
    assert not Booking.objects.exists()


def test_staff_check_in_from_the_roster_and_undo_it(staff_client, full_session, staff):
    confirmed = Booking.objects.filter(session=full_session, status="confirmed").first()
    roster = staff_client.get(url("roster", full_session.pk)).content.decode()
    assert url("check_in_booking", full_session.pk, confirmed.pk) in roster
    response = staff_client.post(url("check_in_booking", full_session.pk, confirmed.pk))
    assert f"Checked in: {confirmed.participant_name}" in follow_messages(staff_client, response)
    confirmed.refresh_from_db()
    assert confirmed.status == "attended"
    roster = staff_client.get(url("roster", full_session.pk)).content.decode()
    assert url("undo_check_in", full_session.pk, confirmed.pk) in roster
    assert url("check_in_booking", full_session.pk, confirmed.pk) not in roster
    staff_client.post(url("undo_check_in", full_session.pk, confirmed.pk))
    confirmed.refresh_from_db()
    assert confirmed.status == "confirmed"


def test_other_staff_cannot_check_in_from_the_roster(other_client, full_session):
    confirmed = Booking.objects.filter(session=full_session, status="confirmed").first()
    assert refused(other_client.post(url("check_in_booking", full_session.pk, confirmed.pk)))
    confirmed.refresh_from_db()
    assert confirmed.status == "confirmed"


def test_the_check_in_message_names_the_points_awarded(staff_client, make_resident):
    starts = timezone.now() + datetime.timedelta(minutes=30)
    community_activity = factories.activity(title="太极拳", slug="taiji-points", points=15)
    session = factories.SessionFactory(
        activity=community_activity, starts_at=starts, ends_at=starts + datetime.timedelta(hours=1)
    )
    booking = book(session, make_resident(display_name="王阿姨"))
    result = check_in(staff_client, session, booking.code)
    assert result["message"] == "Checked in: 王阿姨, 15 points awarded"


def test_the_sessions_list_has_a_today_shortcut(staff_client, liuhe_session):
    # Today's and not over, whatever the hour (the fixture's starts in half an hour: tomorrow after 23:30 in Shanghai).
    starts = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time.min))
    Session.objects.filter(pk=liuhe_session.pk).update(starts_at=starts, ends_at=starts + datetime.timedelta(hours=36))
    later = factories.SessionFactory(activity=liuhe_session.activity, starts_at=factories.in_days(3))
    today = timezone.localdate().isoformat()
    page = staff_client.get(url("sessions")).content.decode()
    assert f'href="?date_from={today}&amp;date_to={today}"' in page
    shortcut = staff_client.get(url("sessions"), {"date_from": today, "date_to": today}).content.decode()
    assert url("roster", liuhe_session.pk) in shortcut and url("roster", later.pk) not in shortcut


def test_adding_a_session_that_already_exists_warns(staff_client, activity):
    preview = staff_client.post(url("add_sessions", activity.pk), {**SERIES, "preview": "1"})
    staff_client.post(url("add_sessions", activity.pk), {**SERIES, "save": "1", "previewed": preview.context["fingerprint"]})
    again = staff_client.post(url("add_sessions", activity.pk), {**SERIES, "preview": "1"})
    assert len(again.context["duplicates"]) == Session.objects.count() > 0
    assert "Already has a session at this time" in again.content.decode()
