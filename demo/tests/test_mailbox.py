"""The mailbox's demo content: 60+ letters over all channels and categories, 8+ topics at different stages, idempotent."""

import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command

from deliberation.council import services as council_services
from deliberation.council.models import Council, CouncilSession, Result
from deliberation.followup.models import Decision, FollowUpAction, MinutesPage
from deliberation.mailbox.models import Category, Letter, Support, Topic

pytestmark = pytest.mark.django_db


def test_seed_demo_fills_the_mailbox(demo_street):
    letters = Letter.objects.filter(external_id__startswith="demo-")
    assert letters.count() >= 60
    assert set(letters.values_list("channel", flat=True)) == set(Letter.Channel.values)
    assert set(letters.values_list("category", flat=True)) >= set(Category.values) - {Category.OTHER}
    assert set(letters.values_list("language", flat=True)) == {"zh-hans", "en"}
    assert Topic.objects.count() >= 8
    assert len(set(Topic.objects.values_list("status", flat=True))) >= 6
    assert Letter.objects.filter(status="merged").count() >= 40
    assert Support.objects.exists() and letters.filter(satisfied__isnull=False).exists()
    assert demo_street.mails == []  # seeding mails nobody
    assert "Mailbox:" in demo_street.output


def test_seed_demo_runs_the_councils_through_the_services(demo_street):
    assert Council.objects.count() == 2
    assert all(council.current_members().count() == 7 for council in Council.objects.all())
    statuses = set(CouncilSession.objects.values_list("status", flat=True))
    assert statuses == {CouncilSession.Status.MINUTES_PUBLISHED, CouncilSession.Status.ANNOUNCED}
    past = CouncilSession.objects.get(status=CouncilSession.Status.MINUTES_PUBLISHED)
    assert past.starts_at < past.closed_at and past.closed_at.date() < datetime.date.today()
    results = Result.objects.filter(item__session=past)
    assert results.count() == 4 and results.filter(ballot="secret").count() == 1
    assert all(result.closed_at <= past.ends_at for result in results)  # dated the day the session sat
    assert council_services.verify_results() == []
    assert MinutesPage.objects.live().filter(session=past).count() == 2  # both languages
    assert {Decision.Status.IN_EFFECT, Decision.Status.COMPLETED} <= set(Decision.objects.values_list("status", flat=True))
    actions = FollowUpAction.objects.all()
    assert actions.filter(completed_at__isnull=False).exists() and actions.filter(progress__lt=100).exists()
    assert any(action.is_overdue() for action in actions)
    assert Topic.objects.filter(status=Topic.Status.CLOSED, letters__satisfied__isnull=False).exists()
    assert demo_street.mails == []  # seeding mails nobody


def test_seeding_again_adds_no_letter_topic_session_or_decision(demo_street, django_capture_on_commit_callbacks):
    def counted():
        models = (Letter, Topic, Support, CouncilSession, Result, Decision, FollowUpAction)
        return {model.__name__: model.objects.count() for model in models}

    before = counted()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    assert counted() == before
    assert mail.outbox == []
