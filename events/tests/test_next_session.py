"""Each activity's next session, kept in a row (NextSession) for the list's order, and the list's and calendars'
kept copies: right when sessions are added, cancelled, started or deleted, in both languages. On SQLite and, with
DATABASE_URL, on PostgreSQL."""

import datetime
import re

import pytest
from django.db.models import F
from django.utils import timezone

from events import factories, services
from events.models import NextSession, Session
from home.factories import translate

ITEM = re.compile(r'<li class="activity-item">\s*<a href="[^"]*">([^<]+)</a>(.*?)</li>', re.S)
SHOWN_START = re.compile(r'<time datetime="([^"]+)"')
SEATS = re.compile(r"(\d+) seats? left|Full|No upcoming sessions")


def listed(client, url: str) -> list[tuple[str, datetime.datetime | None, str]]:
    """The list's activities in order: title, the next session's start shown (None: none) and its seats."""
    response = client.get(url)
    assert response.status_code == 200
    entries = []
    for title, rest in ITEM.findall(response.content.decode()):
        start = SHOWN_START.search(rest)
        seats = SEATS.search(rest)
        entries.append(
            (title, datetime.datetime.fromisoformat(start.group(1)) if start else None, seats.group(0) if seats else "")
        )
    return entries


@pytest.fixture
def client(client):
    """A visitor whose requests bypass the page caches (a session cookie that names no session), as the bench's
    uncached requests do: the list's and calendars' own kept copies are what is tested."""
    client.cookies["sessionid"] = "no-such-session"
    return client


def row_of(activity) -> tuple:
    row = NextSession.objects.filter(translation_key=activity.translation_key).first()
    return (row.session_id, row.starts_at) if row else None


@pytest.fixture
def street(site_pages):
    """剪纸课 and 太极拳 (both translated to English), 剪纸课 with sessions in 3 and 10 days, 太极拳 with one in 5 days, on the street's list
    in both languages, and their next-session rows made."""
    index = factories.activity_index()
    translate(index, strings={"课程活动": "Classes and activities", "activities": "activities"})
    paper = factories.activity(parent=index, title="剪纸课", slug="paper-cutting")
    translate(
        paper,
        strings={
            "剪纸课": "Paper-cutting class",
            "paper-cutting": "paper-cutting",
            "跟非遗传承人学剪纸。": "Learn paper-cutting from a heritage master.",
            "王老师": "Ms Wang",
            "六和社区文化家园": "Liuhe Culture Home",
        },
    )
    taiji = factories.activity(parent=index, title="太极拳", slug="taiji")
    translate(
        taiji,
        strings={
            "太极拳": "Tai chi",
            "taiji": "taiji",
            "跟非遗传承人学剪纸。": "Learn paper-cutting from a heritage master.",
            "王老师": "Ms Wang",
            "六和社区文化家园": "Liuhe Culture Home",
        },
    )
    sessions = {
        "paper 3": factories.SessionFactory(activity=paper, starts_at=factories.in_days(3)),
        "paper 10": factories.SessionFactory(activity=paper, starts_at=factories.in_days(10)),
        "taiji 5": factories.SessionFactory(activity=taiji, starts_at=factories.in_days(5)),
    }
    NextSession.refresh()
    return paper, taiji, sessions


def starts(session: Session) -> datetime.datetime:
    return timezone.localtime(session.starts_at)


def test_refresh_names_each_activitys_next_session_once_for_all_its_languages(street):
    paper, taiji, sessions = street
    lonely = factories.activity(title="书法课", slug="calligraphy")  # no session at all
    factories.SessionFactory(activity=lonely, starts_at=factories.in_days(-2))  # over already
    cancelled = factories.SessionFactory(activity=lonely, starts_at=factories.in_days(1))
    Session.objects.filter(pk=cancelled.pk).update(status=Session.Status.CANCELLED)

    assert NextSession.refresh() == sessions["paper 3"].starts_at  # the earliest: no row goes stale before it
    assert row_of(paper) == (sessions["paper 3"].pk, sessions["paper 3"].starts_at)
    assert row_of(taiji) == (sessions["taiji 5"].pk, sessions["taiji 5"].starts_at)
    assert row_of(lonely) == (None, None)  # known to have none: the list does not search its sessions
    assert NextSession.objects.count() == 3  # one row for both language versions of 剪纸课


def test_the_list_shows_the_next_sessions_in_both_languages(client, street):
    paper, taiji, sessions = street
    assert listed(client, "/zh-hans/activities/") == [
        ("剪纸课", starts(sessions["paper 3"]), ""),
        ("太极拳", starts(sessions["taiji 5"]), ""),
    ]
    # The English version shares the Chinese page's sessions and seats (keyed by the translation key).
    assert listed(client, "/en/activities/")[0] == ("Paper-cutting class", starts(sessions["paper 3"]), "10 seats left")


def test_a_sooner_session_added_by_the_services_comes_first_at_once(client, street, django_capture_on_commit_callbacks):
    paper, taiji, sessions = street
    assert [title for title, _start, _seats in listed(client, "/en/activities/")] == ["Paper-cutting class", "Tai chi"]
    sooner = factories.in_days(1)
    planned = services.PlannedSession(
        starts_at=sooner, ends_at=sooner + datetime.timedelta(hours=1), holiday="", makeup_workday=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        (added,) = services.create_sessions(activity=taiji, planned=[planned], capacity=4)
    assert row_of(taiji) == (added.pk, added.starts_at)  # set in the services' own transaction
    assert listed(client, "/en/activities/") == [
        ("Tai chi", starts(added), "4 seats left"),
        ("Paper-cutting class", starts(sessions["paper 3"]), "10 seats left"),
    ]


def test_a_cancelled_next_session_gives_way_to_the_following(client, street, staff, django_capture_on_commit_callbacks):
    paper, taiji, sessions = street
    listed(client, "/zh-hans/activities/")  # the order is kept now
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_session(session=sessions["paper 3"], actor=staff, reason="台风预警")
    assert row_of(paper) == (sessions["paper 10"].pk, sessions["paper 10"].starts_at)
    assert listed(client, "/en/activities/") == [
        ("Tai chi", starts(sessions["taiji 5"]), "10 seats left"),
        ("Paper-cutting class", starts(sessions["paper 10"]), "10 seats left"),
    ]


def test_a_cancelled_session_is_never_shown_even_before_its_row_is_set(client, street):
    """Cancelled outside the services (an UPDATE sends no signal): the list does not trust the row."""
    paper, taiji, sessions = street
    Session.objects.filter(pk=sessions["paper 3"].pk).update(status=Session.Status.CANCELLED)
    moved = factories.in_days(12)
    Session.objects.filter(pk=sessions["taiji 5"].pk).update(starts_at=moved, ends_at=moved + datetime.timedelta(hours=2))
    NextSession.refresh_activity(taiji.translation_key)  # (this one's row is right: each is read as it says)
    paper_row = row_of(paper)
    assert listed(client, "/zh-hans/activities/?kind=class") == [
        ("剪纸课", starts(sessions["paper 10"]), ""),
        ("太极拳", timezone.localtime(factories.in_days(12)), ""),
    ]
    assert row_of(paper) == paper_row  # still to be refreshed: it was not needed for the list to be right


def test_a_started_session_is_never_shown_as_next(client, street, monkeypatch, django_capture_on_commit_callbacks):
    paper, taiji, sessions = street
    listed(client, "/zh-hans/activities/")  # the order is kept until the first listed session starts
    later = sessions["paper 3"].starts_at + datetime.timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)  # 剪纸课's session has started

    with django_capture_on_commit_callbacks(execute=True):  # the request's refresh runs when it commits
        shown = listed(client, "/en/activities/")
    assert shown == [
        ("Tai chi", starts(sessions["taiji 5"]), "10 seats left"),
        ("Paper-cutting class", starts(sessions["paper 10"]), "10 seats left"),
    ]
    assert row_of(paper) == (sessions["paper 10"].pk, sessions["paper 10"].starts_at)
    assert listed(client, "/zh-hans/activities/")[1][:2] == ("剪纸课", starts(sessions["paper 10"]))


def test_a_deleted_next_session_gives_way_to_the_following(client, street, django_capture_on_commit_callbacks):
    paper, taiji, sessions = street
    listed(client, "/zh-hans/activities/")
    sessions["paper 3"].delete()
    assert row_of(paper) == (None, sessions["paper 3"].starts_at)  # a start without its session: not trusted
    with django_capture_on_commit_callbacks(execute=True):
        shown = listed(client, "/en/activities/")
    assert shown[1] == ("Paper-cutting class", starts(sessions["paper 10"]), "10 seats left")
    assert row_of(paper) == (sessions["paper 10"].pk, sessions["paper 10"].starts_at)


def test_a_new_activity_is_listed_before_its_row_exists(client, street):
    paper, taiji, sessions = street
    listed(client, "/zh-hans/activities/")
    soon = factories.activity(title="书法课", slug="calligraphy")  # published: a new publish generation
    first = factories.SessionFactory(activity=soon, starts_at=factories.in_days(2))
    assert row_of(soon) is None
    assert listed(client, "/zh-hans/activities/")[0] == ("书法课", starts(first), "")


def test_seats_are_read_on_every_request_though_the_order_is_kept(client, street):
    paper, taiji, sessions = street
    assert listed(client, "/en/activities/")[0][2] == "10 seats left"
    # A booking takes its seat with an UPDATE (services._take_seat): no signal, no new generation.
    Session.objects.filter(pk=sessions["paper 3"].pk).update(seats_taken=F("seats_taken") + 9)
    assert listed(client, "/en/activities/")[0][2] == "1 seat left"
    Session.objects.filter(pk=sessions["paper 3"].pk).update(seats_taken=F("seats_taken") + 1)
    assert listed(client, "/en/activities/")[0][2] == "Full"


@pytest.mark.parametrize("view", ["week", "month"])
def test_the_calendars_follow_sessions_added_cancelled_and_deleted(client, street, staff, view):
    paper, taiji, sessions = street
    day = timezone.localdate(sessions["paper 3"].starts_at).isoformat()
    url = f"/en/activities/?view={view}&date={day}"

    def shown() -> str:
        response = client.get(url)
        assert response.status_code == 200
        return response.content.decode()

    def entries() -> list[str]:  # the times of 剪纸课's entries
        return re.findall(r"(\d\d:\d\d) Paper-cutting class</a>", shown())

    before = entries()
    assert f"{starts(sessions['paper 3']):%H:%M}" in before and "10 seats left" in shown()
    Session.objects.filter(pk=sessions["paper 3"].pk).update(seats_taken=3)  # seats: read on every request
    assert "7 seats left" in shown()
    services.cancel_session(session=sessions["paper 3"], actor=staff, reason="台风预警")
    assert len(entries()) == len(before) - 1
    extra = factories.SessionFactory(activity=paper, starts_at=sessions["paper 3"].starts_at + datetime.timedelta(hours=2))
    assert f"{starts(extra):%H:%M}" in entries() and len(entries()) == len(before)
    extra.delete()
    assert f"{starts(extra):%H:%M}" not in entries()
