"""The neighbour-help jobs are registered with the scheduler and safe to run twice: the second run sends nothing
and changes no row."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from neighbours import services, tasks
from neighbours.models import Post
from plumbing.periodic import registered
from tests.twice import run_twice


@pytest.fixture
def stale_request(grid, poster):
    post = services.create_post(author=poster, grid=grid, kind="request", category="errands", title="Errand", text="x")
    Post.objects.filter(pk=post.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=49), expires_at=timezone.now() + datetime.timedelta(days=1)
    )
    return post


def test_the_jobs_are_scheduled():
    names = {periodic.name for periodic in registered()}
    assert {
        "neighbours.tasks.expire_posts",
        "neighbours.tasks.escalate_unanswered_requests",
        "neighbours.tasks.send_weekly_digests",
    } <= names


def test_expiring_twice_expires_once(stale_request, django_capture_on_commit_callbacks):
    Post.objects.filter(pk=stale_request.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert run_twice(tasks.expire_posts, on_commit=django_capture_on_commit_callbacks) == (1, 0, 0, [])


def test_escalating_twice_tells_the_staff_once(stale_request, staff, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    assert run_twice(tasks.escalate_unanswered_requests, on_commit=django_capture_on_commit_callbacks) == (1, 0, 0, [])
    assert [message.to for message in mail.outbox] == [[staff.email]]


def test_the_digest_twice_goes_once(stale_request, helper, django_capture_on_commit_callbacks):
    services.save_helper_profile(user=helper, categories=["errands"], availability=[], weekly_digest=True)
    mail.outbox.clear()
    assert run_twice(tasks.send_weekly_digests, on_commit=django_capture_on_commit_callbacks) == (1, 0, 0, [])
    assert len(mail.outbox) == 1 and "Errand" in mail.outbox[0].body
