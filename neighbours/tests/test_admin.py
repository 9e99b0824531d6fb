"""Staff pages: the moderation queue, posts, posting for a resident, the dashboard; only their community's."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from wagtail.models import ModelLogEntry

from home.models import ResidentProfile
from neighbours import services
from neighbours.factories import PostFactory
from neighbours.models import Post, PostingSuspension, Report
from outbox.models import Message


@pytest.fixture
def post(grid, poster):
    return services.create_post(
        author=poster, grid=grid, kind="request", category="errands", title="Transfer money please", text="Cash needed"
    )


@pytest.fixture
def reported(post, helper):
    return services.report(reporter=helper, post=post, reason="scam", text="Asks for money")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_staff_page_renders_in_both_languages(staff_client, staff, reported, post, language):
    staff.profile = None
    ResidentProfile.objects.create(user=staff, preferred_language=language)
    with translation.override(language):
        for name, args in (
            ("neighbours_admin:queue", ()),
            ("neighbours_admin:posts", ()),
            ("neighbours_admin:post", (post.pk,)),
            ("neighbours_admin:on_behalf", ()),
            ("neighbours_admin:dashboard", ()),
        ):
            response = staff_client.get(reverse(name, args=args))
            assert response.status_code == 200, name
    assert "Transfer money please" in staff_client.get(reverse("neighbours_admin:queue")).content.decode()


def test_other_communities_staff_see_nothing_of_ours(client, other_staff, reported, post):
    client.force_login(other_staff)
    assert "Transfer money please" not in client.get(reverse("neighbours_admin:queue")).content.decode()
    # A 404 outside the language prefixes is redirected to one (LocaleMiddleware), where it is a 404 again.
    assert client.get(reverse("neighbours_admin:post", args=[post.pk]), follow=True).status_code == 404
    client.post(reverse("neighbours_admin:moderate", args=[reported.pk]), {"action": "hide", "reason": "x"})
    post.refresh_from_db()
    assert post.status == Post.Status.OPEN


def test_residents_cannot_open_the_staff_pages(client, helper):
    client.force_login(helper)
    assert client.get(reverse("neighbours_admin:queue")).status_code in (302, 403)


def test_hiding_from_the_queue_handles_the_report_and_tells_the_poster(staff_client, staff, reported, post, poster):
    response = staff_client.post(reverse("neighbours_admin:moderate", args=[reported.pk]), {"action": "hide", "reason": "Scam"})
    assert response.status_code == 302
    post.refresh_from_db()
    reported.refresh_from_db()
    assert post.status == Post.Status.HIDDEN and reported.outcome == Report.Outcome.HIDDEN and reported.handled_by == staff
    assert Message.objects.filter(recipient=poster, kind="neighbours.moderation").exists()
    assert ModelLogEntry.objects.filter(action="neighbours.moderate.hide", user=staff).exists()


def test_warning_and_suspension_from_the_queue(staff_client, reported, poster, post, helper):
    staff_client.post(reverse("neighbours_admin:moderate", args=[reported.pk]), {"action": "warn", "reason": "Please stop"})
    reported.refresh_from_db()
    assert reported.outcome == Report.Outcome.WARNED
    second = services.report(reporter=helper, person=poster, reason="offensive")
    staff_client.post(
        reverse("neighbours_admin:moderate", args=[second.pk]), {"action": "suspend", "reason": "Spam", "days": "30"}
    )
    suspension = PostingSuspension.objects.get()
    assert suspension.resident == poster and suspension.until > timezone.now() + datetime.timedelta(days=29)
    response = staff_client.post(
        reverse("neighbours_admin:moderate", args=[second.pk]),
        {"action": "suspend", "reason": "x", "days": str(10**23)},
        follow=True,
    )
    assert response.status_code == 200 and PostingSuspension.objects.count() == 1


def test_dismissing_a_report_and_the_post_page_s_own_buttons(staff_client, reported, post, poster):
    staff_client.post(reverse("neighbours_admin:moderate", args=[reported.pk]), {"action": "dismiss"})
    reported.refresh_from_db()
    assert reported.outcome == Report.Outcome.DISMISSED
    staff_client.post(reverse("neighbours_admin:post", args=[post.pk]), {"action": "warn", "reason": "Be careful"})
    assert Message.objects.filter(recipient=poster, kind="neighbours.moderation").count() == 1
    staff_client.post(reverse("neighbours_admin:post", args=[post.pk]), {"action": "hide", "reason": ""})
    post.refresh_from_db()
    assert post.status == Post.Status.OPEN  # a reason is needed


def test_posting_for_a_resident_without_a_phone(staff_client, grid):
    from home.factories import UserFactory

    resident = UserFactory(username="chen-nainai", email="")
    ResidentProfile.objects.create(user=resident, grid=grid, community=grid.community)
    data = {
        "resident": "chen-nainai",
        "kind": "request",
        "category": "elderly",
        "title": "Company to the clinic",
        "text": "Tuesday",
        "urgency": "normal",
        "helpers_wanted": "1",
    }
    response = staff_client.post(reverse("neighbours_admin:on_behalf"), data)
    assert response.status_code == 200 and not Post.objects.exists()  # no consent
    response = staff_client.post(reverse("neighbours_admin:on_behalf"), {**data, "consent": "on"})
    post = Post.objects.get()
    assert response.status_code == 302 and post.author == resident and post.posted_by is not None
    response = staff_client.post(reverse("neighbours_admin:on_behalf"), {**data, "resident": "nobody", "consent": "on"})
    assert response.status_code == 200 and Post.objects.count() == 1


def test_the_dashboard_counts(staff_client, grid, poster, helper):
    done = PostFactory(grid=grid, author=poster, status=Post.Status.DONE)
    done.first_response_at = done.created_at + datetime.timedelta(hours=2)
    done.save()
    PostFactory(grid=grid, author=poster, status=Post.Status.EXPIRED)
    old = PostFactory(grid=grid, author=poster, title="Nobody answered")
    Post.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(hours=50))
    with translation.override("en"):
        page = staff_client.get(reverse("neighbours_admin:dashboard")).content.decode()
    assert "2.0" in page and "50% (1 / 2)" in page and "Nobody answered" in page
    assert "<svg" in page
