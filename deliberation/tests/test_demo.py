"""The mailbox's demo content: 60+ letters over all channels and categories, 8+ topics at different stages, idempotent."""

import io

import pytest
from django.core import mail
from django.core.management import call_command

from deliberation.models import Category, Letter, Support, Topic

pytestmark = pytest.mark.django_db


def test_seed_demo_fills_the_mailbox_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    letters = Letter.objects.filter(external_id__startswith="demo-")
    assert letters.count() >= 60
    assert set(letters.values_list("channel", flat=True)) == set(Letter.Channel.values)
    assert set(letters.values_list("category", flat=True)) >= set(Category.values) - {Category.OTHER}
    assert set(letters.values_list("language", flat=True)) == {"zh-hans", "en"}
    assert Topic.objects.count() >= 8
    assert len(set(Topic.objects.values_list("status", flat=True))) >= 6
    assert Letter.objects.filter(status="merged").count() >= 40
    assert Support.objects.exists() and letters.filter(satisfied__isnull=False).exists()
    assert mail.outbox == []  # seeding mails nobody
    before = (Letter.objects.count(), Topic.objects.count(), Support.objects.count())
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert (Letter.objects.count(), Topic.objects.count(), Support.objects.count()) == before
    assert "Mailbox:" in out.getvalue()
