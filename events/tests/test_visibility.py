"""Sessions of a draft or private activity cannot be booked, queued for or drawn by their (sequential) ids."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from wagtail.models import PageViewRestriction

from events import factories, services
from events.models import ActivityPage, Booking, Session
from events.services import BookingError

HIDDEN = ["draft", "password", "groups", "private_parent"]


def hide(page: ActivityPage, how: str) -> None:
    """Take the page out of residents' sight the way staff can in the admin."""
    if how == "draft":
        page.unpublish()
    elif how == "password":
        PageViewRestriction.objects.create(page=page, restriction_type="password", password="secret")
    elif how == "groups":
        restriction = PageViewRestriction.objects.create(page=page, restriction_type="groups")
        restriction.groups.add(Group.objects.create(name="choir"))
    elif how == "private_parent":  # a restriction on the list page covers its activities too
        PageViewRestriction.objects.create(page=page.get_parent(), restriction_type="password", password="secret")
    page.refresh_from_db()


def make_session(*, allocation: str = "first_come", capacity: int = 2, title: str = "秘密课", slug: str = "secret"):
    fields = {"allocation": allocation}
    if allocation == "draw":
        fields["booking_closes_at"] = timezone.now() + datetime.timedelta(days=1)
    activity = factories.activity(title=title, slug=slug, **fields)
    return factories.SessionFactory(activity=activity, capacity=capacity)


def book(session, person, **kwargs):
    return services.book_session(session=session, resident=person, actor=person, **kwargs)


@pytest.mark.parametrize("how", HIDDEN)
@pytest.mark.parametrize("kind", ["seat", "waiting list", "draw"])
def test_residents_cannot_book_queue_or_apply_for_a_hidden_activity(site_pages, make_resident, how, kind):
    session = make_session(allocation="draw" if kind == "draw" else "first_come", capacity=1)
    if kind == "waiting list":
        book(session, make_resident())
    hide(session.activity, how)
    resident = make_resident()
    with pytest.raises(BookingError, match="not open for booking"):
        book(session, resident)
    assert not Booking.objects.filter(resident=resident).exists()


def test_a_page_for_signed_in_users_or_for_a_group_admits_them(site_pages, make_resident):
    session = make_session()
    PageViewRestriction.objects.create(page=session.activity, restriction_type="login")
    assert book(session, make_resident())[0].status == Booking.Status.CONFIRMED
    choir = Group.objects.create(name="choir")
    restriction = PageViewRestriction.objects.create(page=session.activity, restriction_type="groups")
    restriction.groups.add(choir)
    singer = make_resident()
    singer.groups.add(choir)
    assert book(session, singer)[0].status == Booking.Status.CONFIRMED
    with pytest.raises(BookingError, match="not open for booking"):
        book(session, make_resident())


def test_staff_book_for_residents_on_private_pages_but_not_on_drafts(site_pages, make_resident, staff):
    private = make_session()
    hide(private.activity, "password")
    assert services.book_session(session=private, resident=make_resident(), actor=staff)[0].status == Booking.Status.CONFIRMED
    draft = make_session(title="草稿课", slug="draft")
    hide(draft.activity, "draft")
    with pytest.raises(BookingError, match="not open for booking"):
        services.book_session(session=draft, resident=make_resident(), actor=staff)
    with pytest.raises(BookingError, match="not open for booking"):
        services.book_walk_in(session=draft, actor=staff, name="刘奶奶", phone="13812345678")
    assert not Booking.objects.filter(session=draft).exists()


def test_the_draw_of_a_draft_waits_until_it_is_published_again(site_pages, make_resident):
    session = make_session(allocation="draw", capacity=1)
    book(session, make_resident())
    hide(session.activity, "draft")
    with pytest.raises(BookingError, match="not published"):
        services.run_draw(session=session)
    ActivityPage.objects.filter(pk=session.activity_id).update(booking_closes_at=timezone.now() - datetime.timedelta(minutes=1))
    assert services.run_due_draws() == 0
    session.activity.refresh_from_db()
    session.activity.save_revision().publish()
    assert services.run_due_draws() == 1


@pytest.mark.parametrize("how", HIDDEN)
def test_the_booking_page_answers_a_hidden_session_as_one_that_does_not_exist(client, site_pages, make_resident, how):
    session = make_session()
    hide(session.activity, how)
    client.force_login(make_resident())
    response = client.post(f"/en/activities/sessions/{session.pk}/book/", {"participant": "me"}, follow=True)
    assert response.redirect_chain[0] == (reverse("events:my_bookings"), 302)
    html = response.content.decode()
    assert "This session does not exist." in html and "秘密课" not in html
    assert not Booking.objects.exists()


@pytest.mark.parametrize("how", HIDDEN)
def test_the_draw_page_of_a_hidden_activity_is_not_found(client, site_pages, make_resident, how):
    session = make_session(allocation="draw", capacity=1)
    book(session, make_resident())
    services.run_draw(session=session, seed="abc123")
    url = f"/en/activities/sessions/{session.pk}/draw/"
    assert client.get(url).status_code == 200
    hide(session.activity, how)
    assert client.get(url).status_code == 404
    client.force_login(make_resident())
    assert client.get(url).status_code == 404


def test_a_change_to_a_pages_privacy_applies_to_the_next_booking(site_pages, make_resident):
    """The view restrictions are kept per publish generation (services.view_restrictions): each change to them,
    the restriction or its groups, starts a new one. Each booking reads the session as a request does."""
    created = make_session(capacity=10)

    def session():
        return Session.objects.select_related("activity").get(pk=created.pk)

    choir, band = Group.objects.create(name="choir"), Group.objects.create(name="band")
    singer = make_resident()
    singer.groups.add(choir)
    assert services.is_visible_to(activity=session().activity, user=singer)

    restriction = PageViewRestriction.objects.create(page=created.activity, restriction_type="groups")
    restriction.groups.add(band)
    with pytest.raises(BookingError, match="not open for booking"):
        book(session(), singer)
    restriction.groups.add(choir)
    assert book(session(), singer)[0].status == Booking.Status.CONFIRMED
    restriction.groups.remove(choir)
    with pytest.raises(BookingError, match="not open for booking"):
        book(session(), singer)
    restriction.delete()
    assert book(session(), make_resident())[0].status == Booking.Status.CONFIRMED


def book_through_the_page(client, session, person, participant: str = "me") -> str:
    """Book as the resident does, through the page (the view reads the activity as kept per publish generation);
    the message shown."""
    client.force_login(person)
    response = client.post(reverse("events:book", args=[session.pk]), {"participant": participant}, follow=True)
    return " ".join(str(message) for message in response.context["messages"])


def said(message: str, english: str, chinese: str) -> bool:
    """The message says so, in whichever language the resident's page was in."""
    return english in message or chinese in message


def test_the_page_answers_each_resident_for_themselves_though_the_activity_is_kept(client, site_pages, make_resident):
    """The view reads the activity as kept in the process; whether a resident may see it is never kept with it."""
    session = make_session(capacity=5)
    choir = Group.objects.create(name="choir")
    restriction = PageViewRestriction.objects.create(page=session.activity, restriction_type="groups")
    restriction.groups.add(choir)
    singer, other = make_resident(), make_resident()
    singer.groups.add(choir)

    later = factories.SessionFactory(
        activity=session.activity,
        starts_at=session.starts_at + datetime.timedelta(days=7),
        ends_at=session.ends_at + datetime.timedelta(days=7),
    )

    assert said(book_through_the_page(client, session, singer), "Booked", "预约成功")
    assert said(book_through_the_page(client, session, other), "does not exist", "不存在")
    # The singer may see the page, then leaves the choir: nothing starts a new publish generation, the activity stays
    # kept, and the answer for the singer must not stay with it.
    assert said(book_through_the_page(client, later, singer, participant="404"), "Choose yourself", "选择")
    singer.groups.remove(choir)
    assert said(book_through_the_page(client, later, singer), "does not exist", "不存在")
    assert not Booking.objects.filter(resident=other).exists()
    assert not Booking.objects.filter(session=later).exists()


def test_an_activity_changed_or_unpublished_is_read_afresh_by_the_next_booking(client, site_pages, make_resident):
    session = make_session(capacity=5)
    assert said(book_through_the_page(client, session, make_resident()), "Booked", "预约成功")  # kept now

    activity = ActivityPage.objects.get(pk=session.activity_id)
    activity.booking_closes_at = timezone.now() - datetime.timedelta(minutes=1)
    activity.save()  # a plain save, without a revision: still a new generation
    late = make_resident()
    assert said(book_through_the_page(client, session, late), "closed", "已截止")

    assert not Booking.objects.filter(resident=late).exists()
    activity.booking_closes_at = None
    activity.save()
    book_through_the_page(client, session, late)
    assert Booking.objects.get(resident=late).status == Booking.Status.CONFIRMED

    activity.unpublish()
    assert said(book_through_the_page(client, session, make_resident()), "does not exist", "不存在")
    assert Booking.objects.filter(session=session).count() == 2


def test_a_session_cancelled_or_moved_is_read_afresh_by_the_next_booking(client, site_pages, make_resident, staff):
    """The view keeps sessions per sessions generation: cancelling or saving one starts a new generation."""
    session = make_session(capacity=5)
    assert said(book_through_the_page(client, session, make_resident()), "Booked", "预约成功")  # kept now

    session.starts_at -= datetime.timedelta(days=30)  # moved into the past: over before it could be booked
    session.ends_at -= datetime.timedelta(days=30)
    session.save()
    assert said(book_through_the_page(client, session, make_resident()), "already started", "已经开始")

    later = make_session(capacity=5, title="另一课", slug="other")
    assert said(book_through_the_page(client, later, make_resident()), "Booked", "预约成功")
    services.cancel_session(session=Session.objects.get(pk=later.pk), actor=staff, reason="老师生病")
    assert said(book_through_the_page(client, later, make_resident()), "cancelled", "取消")
    assert Booking.objects.filter(session=later, status="confirmed").count() == 0
