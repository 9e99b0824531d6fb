"""The events part of `manage.py seed_demo`: idempotent, bilingual, with full sessions and draws."""

import io

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Locale
from wagtail_localize.models import Translation

from demo import activities as demo
from events.models import ActivityIndexPage, ActivityPage, Booking, Draw, HouseholdMember, Session
from events.services import draw_order

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict:
    return {
        "activities": ActivityPage.objects.count(),
        "indexes": ActivityIndexPage.objects.count(),
        "sessions": Session.objects.count(),
        "bookings": Booking.objects.count(),
        "draws": Draw.objects.count(),
        "members": HouseholdMember.objects.count(),
        "translations": Translation.objects.count(),
        "states": sorted(Session.objects.values_list("pk", "seats_taken")),
    }


@pytest.fixture
def seeded(demo_street, db) -> str:
    assert demo_street.mails == []  # the residents are invented: no mail to them
    return demo_street.output  # the whole demo street, seeded once for the run


def test_running_twice_creates_nothing_new(seeded):
    first = counts()
    second_output = seed()

    assert counts() == first
    assert second_output == seeded
    assert "Activities: 16 zh-hans / 16 en" in seeded
    assert first["activities"] == 2 * len(demo.ACTIVITIES) >= 30
    assert first["indexes"] == 2


def test_each_activity_and_the_list_exist_in_both_languages(seeded, client):
    en = Locale.objects.get(language_code="en")
    index = ActivityIndexPage.objects.get(locale__language_code="zh-hans", slug="activities")
    english_index = index.get_translation(en)
    assert (index.title, english_index.title) == ("课程活动", "Classes and activities")

    zh_response = client.get(index.url)
    en_response = client.get(english_index.url)
    assert zh_response.status_code == en_response.status_code == 200
    for item in demo.ACTIVITIES:
        page = ActivityPage.objects.get(locale__language_code="zh-hans", slug=item.slug)
        english = page.get_translation(en)
        assert english.live and english.title == item.en.title and english.summary == item.en.summary
        assert english.organiser == item.organiser[1] and english.venue == item.venue[1]
        assert (english.kind, english.age_band) == (page.kind, page.age_band)
        assert (english.community_id is None) == (page.community_id is None)
    assert "少儿非遗剪纸课" in zh_response.content.decode()
    assert "Paper-cutting for children" in en_response.content.decode()

    english_calligraphy = ActivityPage.objects.get(locale=en, slug="calligraphy-course")
    assert "Regular script on Wednesday evenings" in client.get(english_calligraphy.url).content.decode()


def check_kinds_categories_age_bands_and_communities_are_mixed():
    pages = ActivityPage.objects.filter(locale__language_code="zh-hans")
    assert set(pages.values_list("kind", flat=True)) == {"class", "activity", "volunteering"}
    assert len(set(pages.values_list("category", flat=True))) >= 7
    assert set(pages.values_list("age_band", flat=True)) == {"all", "3-6", "7-12", "13-17", "adults", "60+"}
    assert set(pages.exclude(community=None).values_list("community__code", flat=True)) == {"liuhe", "jiangnan"}
    assert pages.filter(community=None).count() >= 8


def check_sessions_lie_in_the_coming_five_weeks_and_are_shared_by_both_languages():
    now = timezone.now()
    assert Session.objects.count() >= 40
    assert not Session.objects.filter(starts_at__lte=now).exists()
    assert not Session.objects.filter(starts_at__gt=now + timezone.timedelta(days=42)).exists()
    assert not Session.objects.filter(activity__locale__language_code="en").exists()
    english = ActivityPage.objects.get(locale__language_code="en", slug="tai-chi-for-seniors")
    assert english.sessions().count() == 4


def check_full_sessions_have_waiting_lists_and_the_course_is_booked_whole():
    full_with_queue = Session.objects.annotate(waiting=Count("bookings", filter=Q(bookings__status="waitlisted"))).filter(
        seats_taken=F("capacity"), waiting__gt=0
    )
    assert full_with_queue.count() >= 4
    smartphone = Session.objects.filter(activity__slug="smartphone-class-for-seniors").order_by("starts_at").first()
    assert smartphone.is_full
    assert list(smartphone.bookings.waiting().values_list("participant_name", flat=True)) == ["刘德明"]

    calligraphy = Session.objects.filter(activity__slug="calligraphy-course", activity__locale__language_code="zh-hans")
    assert calligraphy.count() == 5
    assert all(session.seats_taken == 6 for session in calligraphy)
    groups = Booking.objects.filter(session__in=calligraphy).values("group").annotate(n=Count("pk"))
    assert {group["n"] for group in groups} == {5}  # one booking per session per participant, all in one group
    for session in Session.objects.all():
        assert session.seats_taken == session.bookings.holding_seat().count() <= session.capacity


def check_one_draw_is_open_and_one_has_run_with_its_published_seed(client):
    umbrella = Session.objects.get(activity__slug="west-lake-silk-umbrella")
    assert umbrella.drawn_at is None and umbrella.activity.booking_window_state() == "open"
    assert umbrella.bookings.filter(status="applied").count() == 7
    assert umbrella.seats_taken == 0

    walk = Session.objects.get(activity__slug="canal-heritage-walk")
    draw = walk.draw
    assert draw.seed == demo.CANAL_WALK_SEED and walk.activity.booking_window_state() == "closed"
    assert draw.order == draw_order(draw.seed, draw.entrants, first_timer_priority=False)  # reproducible
    assert walk.bookings.filter(status="confirmed").count() == walk.capacity == 6
    assert list(walk.bookings.waiting().values_list("draw_rank", flat=True)) == [7, 8, 9]
    response = client.get(reverse("events:draw", args=[walk.pk]))
    assert response.status_code == 200 and demo.CANAL_WALK_SEED in response.content.decode()


def check_children_are_booked_by_their_guardians_with_consent():
    children = Booking.objects.filter(session__activity__slug="paper-cutting-for-children", member__isnull=False)
    assert children.count() == 7
    assert all(booking.member.guardian_consent_at and booking.resident_id == booking.member.resident_id for booking in children)
    first = Session.objects.filter(activity__slug="paper-cutting-for-children").order_by("starts_at").first()
    assert first.is_full and first.bookings.waiting().count() == 1


def test_activities_mix_kinds_and_ages_in_the_coming_weeks(seeded):
    check_kinds_categories_age_bands_and_communities_are_mixed()
    check_sessions_lie_in_the_coming_five_weeks_and_are_shared_by_both_languages()


def test_bookings_fill_sessions_queue_the_rest_and_draws_publish_their_seed(seeded, client):
    check_full_sessions_have_waiting_lists_and_the_course_is_booked_whole()
    check_one_draw_is_open_and_one_has_run_with_its_published_seed(client)
    check_children_are_booked_by_their_guardians_with_consent()
