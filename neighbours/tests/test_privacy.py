"""PIPL: posts and answers are in the resident's export; erasure removes what they wrote and keeps the counts;
the grid page's section shows the grid's posts to whoever the grid page let in."""

import pytest
from django.test import RequestFactory
from django.utils import timezone

from home.services import erase_account, export_personal_data
from neighbours import services
from neighbours.listing import grid_section
from neighbours.models import HelperProfile, Post, PostPhoto, Report, Response, Thanks
from neighbours.wagtail_hooks import GRID_SECTIONS


@pytest.fixture
def done_help(grid, poster, helper):
    post = services.create_post(
        author=poster, grid=grid, kind="request", category="errands", title="Carry groceries", text="Saturday morning"
    )
    PostPhoto.objects.create(post=post, content_type="image/png", data=b"x", width=1, height=1)
    response = services.accept(response=services.offer_help(post=post, responder=helper, message="Happy to"), actor=poster)
    services.confirm_done(response=response, actor=helper)
    services.confirm_done(response=response, actor=poster)
    services.thank(response=response, actor=poster, text="Thank you, Xiao Li")
    return post, response


def test_export_lists_posts_answers_thanks_and_skills(done_help, poster, helper):
    services.save_helper_profile(user=helper, categories=["errands"], availability=["weekend"], note="Strong arms")
    services.report(reporter=helper, person=poster, reason="other", text="test")
    mine = export_personal_data(user=poster)
    assert mine["neighbour_posts"][0]["title"] == "Carry groceries" and mine["neighbour_posts"][0]["photos"] == 1
    assert mine["neighbour_thanks_given"][0]["text"] == "Thank you, Xiao Li"
    theirs = export_personal_data(user=helper)
    assert theirs["neighbour_responses"][0]["message"] == "Happy to" and theirs["neighbour_responses"][0]["points"] == 5
    assert theirs["neighbour_skills"]["note"] == "Strong arms"
    assert theirs["neighbour_reports_filed"][0]["reason"] == "other"
    assert "13812345678" not in str(theirs)  # nobody else's contact


def test_erasing_the_poster_removes_their_texts_and_photos_and_keeps_the_count(done_help, poster, helper):
    post, response = done_help
    open_post = services.create_post(
        author=poster, grid=post.grid, kind="offer", category="repairs", title="I fix bikes", text="x"
    )
    waiting = services.offer_help(post=open_post, responder=helper)
    erase_account(user=poster, actor=poster)
    post.refresh_from_db()
    open_post.refresh_from_db()
    waiting.refresh_from_db()
    assert (post.title, post.text, post.place) == ("—", "—", "")
    assert not PostPhoto.objects.exists() and not Thanks.objects.exists()
    assert open_post.status == Post.Status.CLOSED and waiting.status == Response.Status.DECLINED
    assert Response.objects.get(pk=response.pk).status == Response.Status.DONE  # the helper's count stays


def test_erasing_the_helper_withdraws_their_open_answers(grid, poster, helper):
    post = services.create_post(author=poster, grid=grid, kind="request", category="errands", title="Errand", text="x")
    response = services.accept(response=services.offer_help(post=post, responder=helper, message="Me"), actor=poster)
    services.save_helper_profile(user=helper, categories=["errands"], availability=[])
    services.report(reporter=helper, post=post, reason="other", text="why")
    erase_account(user=helper, actor=helper)
    response.refresh_from_db()
    post.refresh_from_db()
    assert response.status == Response.Status.WITHDRAWN and response.message == ""
    assert post.status == Post.Status.OPEN and post.accepted_count == 0
    assert not HelperProfile.objects.exists()
    assert Report.objects.get().reported_by is None


def test_the_grid_section_shows_open_posts_and_thanks(done_help, grid, poster, helper, other_grid, outsider):
    open_post = services.create_post(author=poster, grid=grid, kind="request", category="elderly", title="Walk with me", text="x")
    context = grid_section(grid, helper)
    assert context["neighbour_posts"] == [open_post]
    assert [t.text for t in context["neighbour_thanks"]] == ["Thank you, Xiao Li"]
    assert grid_section(other_grid, outsider)["neighbour_posts"] == []


def test_the_grid_section_is_registered_and_renders(done_help, grid, helper, django_assert_max_num_queries):
    from wagtail import hooks

    from home.sections import rendered_sections

    assert len(hooks.get_hooks(GRID_SECTIONS)) == 1
    request = RequestFactory().get("/en/grids/1/")
    request.user = helper
    with django_assert_max_num_queries(6):
        (html,) = rendered_sections(GRID_SECTIONS, request, grid, helper)
    assert "Thank you, Xiao Li" in html and "neighbour-help-heading" in html


def test_a_hidden_post_is_for_its_author_and_staff_only(grid, poster, helper, staff):
    post = services.create_post(author=poster, grid=grid, kind="request", category="errands", title="Errand", text="x")
    services.hide_post(post=post, actor=staff, reason="Spam")
    post.refresh_from_db()
    assert not services.can_read_post(helper, post)
    assert services.can_read_post(poster, post) and services.can_read_post(staff, post)
    assert post.closed_at <= timezone.now()
