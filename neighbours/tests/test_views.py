"""Every page, GET and POST, in both languages; query counts of the lists; malformed input never gives a 5xx."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from neighbours import services
from neighbours.factories import PostFactory, neighbour
from neighbours.models import Post, Report, Response

LANGUAGES = ["zh-hans", "en"]


def url(name, language="en", *args):
    with translation.override(language):
        return reverse(name, args=args)


@pytest.fixture
def post(grid, poster):
    return services.create_post(
        author=poster, grid=grid, kind="request", category="errands", title="Carry groceries", text="Saturday, five floors"
    )


@pytest.fixture
def as_(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_resident_pages_render_in_both_languages(as_, poster, helper, post, language):
    client = as_(poster)
    for name, args in (
        ("neighbours:board", ()),
        ("neighbours:new_post", ()),
        ("neighbours:post", (post.pk,)),
        ("neighbours:mine", ()),
        ("neighbours:skills", ()),
    ):
        response = client.get(url(name, language, *args))
        assert response.status_code == 200, name
        assert response["Content-Language"] == language
        assert "no-store" in response["Cache-Control"]
    page = client.get(url("neighbours:board", language)).content.decode()
    assert "Carry groceries" in page
    assert ("邻里互助" if language == "zh-hans" else "Neighbour help") in page


def test_pages_need_a_login(client, post):
    response = client.get(url("neighbours:post", "en", post.pk))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_resident_without_a_grid_is_told_to_choose_one(as_, db):
    from home.factories import ResidentProfileFactory

    client = as_(ResidentProfileFactory().user)
    for name in ("neighbours:board", "neighbours:new_post"):
        assert "My page" in client.get(url(name)).content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_whole_flow_through_the_pages(as_, grid, poster, helper, language):
    client = as_(poster)
    response = client.post(
        url("neighbours:new_post", language),
        {
            "kind": "request",
            "category": "errands",
            "title": "Carry groceries",
            "text": "Five floors",
            "urgency": "normal",
            "helpers_wanted": "1",
        },
    )
    post = Post.objects.get()
    assert response.status_code == 302 and response["Location"] == url("neighbours:post", language, post.pk)

    client = as_(helper)
    page = client.get(url("neighbours:post", language, post.pk)).content.decode()
    assert "13812345678" not in page  # the poster's phone: not before acceptance
    client.post(url("neighbours:respond", language, post.pk), {"message": "On my way"})
    answer = Response.objects.get()

    client = as_(poster)
    page = client.get(url("neighbours:post", language, post.pk)).content.decode()
    assert "139****4321" in page and "13987654321" not in page
    client.post(url("neighbours:answer", language, post.pk, answer.pk), {"action": "accept"})
    page = client.get(url("neighbours:post", language, post.pk)).content.decode()
    assert "13987654321" in page
    client.post(url("neighbours:done", language, post.pk, answer.pk), {"hours": "1"})

    client = as_(helper)
    assert "13812345678" in client.get(url("neighbours:post", language, post.pk)).content.decode()
    client.post(url("neighbours:done", language, post.pk, answer.pk), {"hours": "1.5"})
    answer.refresh_from_db()
    assert answer.status == Response.Status.DONE and answer.points_awarded == 5

    client = as_(poster)
    client.post(url("neighbours:thank", language, post.pk, answer.pk), {"text": "Thank you!"})
    assert answer.__class__.objects.get(pk=answer.pk).thanks.text == "Thank you!"
    assert "My answers" in as_(helper).get(url("neighbours:mine")).content.decode()


def test_another_grid_cannot_read_a_post_or_its_photos(as_, post, outsider):
    client = as_(outsider)
    assert client.get(url("neighbours:post", "en", post.pk)).status_code == 404
    assert client.get(url("neighbours:photo", "en", post.pk, 1)).status_code == 404
    assert client.post(url("neighbours:respond", "en", post.pk), {"message": "hi"}).status_code == 404
    assert not Response.objects.exists()
    assert "Carry groceries" not in client.get(url("neighbours:board")).content.decode()


def test_staff_of_the_community_read_posts_and_others_do_not(as_, post, staff, other_staff):
    assert as_(staff).get(url("neighbours:post", "en", post.pk)).status_code == 200
    assert as_(other_staff).get(url("neighbours:post", "en", post.pk)).status_code == 404


def test_a_photo_is_served_to_the_grid(as_, grid, poster, helper):
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG")
    upload = io.BytesIO(out.getvalue())
    upload.name = "p.png"
    client = as_(poster)
    client.post(
        url("neighbours:new_post"),
        {
            "kind": "give",
            "category": "items",
            "title": "Toys",
            "text": "Free",
            "urgency": "low",
            "helpers_wanted": "1",
            "photo1": upload,
        },
    )
    post = Post.objects.get()
    photo = post.photos.get()
    response = as_(helper).get(url("neighbours:photo", "en", post.pk, photo.pk))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


def test_close_withdraw_decline_and_report_through_the_pages(as_, post, poster, helper, third):
    as_(helper).post(url("neighbours:respond", "en", post.pk), {})
    first = Response.objects.get(responder=helper)
    as_(third).post(url("neighbours:respond", "en", post.pk), {})
    second = Response.objects.get(responder=third)
    as_(third).post(url("neighbours:withdraw", "en", post.pk, second.pk))
    as_(poster).post(url("neighbours:answer", "en", post.pk, first.pk), {"action": "decline"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("declined", "withdrawn")
    as_(helper).post(url("neighbours:report", "en", post.pk), {"reason": "scam", "text": "odd", "about": "post"})
    as_(helper).post(url("neighbours:report", "en", post.pk), {"reason": "scam", "text": "odd", "about": "person"})
    assert Report.objects.filter(post=post).count() == 1 and Report.objects.filter(person=poster).count() == 1
    response = as_(poster).post(url("neighbours:close", "en", post.pk))
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == "closed"


def test_someone_else_s_actions_are_refused_with_a_message(as_, post, poster, helper, third):
    as_(helper).post(url("neighbours:respond", "en", post.pk), {})
    answer = Response.objects.get()
    response = as_(third).post(url("neighbours:answer", "en", post.pk, answer.pk), {"action": "accept"}, follow=True)
    assert "Only the poster may accept offers." in response.content.decode()
    answer.refresh_from_db()
    assert answer.status == "offered"
    assert as_(third).post(url("neighbours:close", "en", post.pk), follow=True).status_code == 200
    post.refresh_from_db()
    assert post.status == "open"


def test_skills_page_saves_and_suggests(as_, post, helper):
    client = as_(helper)
    response = client.post(
        url("neighbours:skills"), {"categories": ["errands"], "availability": ["weekend"], "weekly_digest": "on"}
    )
    assert response.status_code == 302
    assert "Carry groceries" in client.get(url("neighbours:skills")).content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {
            "kind": "request",
            "category": "errands",
            "title": "a\u00b2",
            "text": "x",
            "urgency": "normal",
            "helpers_wanted": str(10**23),
        },
        {
            "kind": "request",
            "category": "errands",
            "title": "x",
            "text": "x",
            "urgency": "normal",
            "helpers_wanted": "1",
            "when_from": "9999-12-31",
        },
        {"kind": "²", "category": "errands", "title": "x", "text": "x", "urgency": "normal", "helpers_wanted": "1"},
        {
            "kind": "request",
            "category": "errands",
            "title": "x",
            "text": "x",
            "urgency": "normal",
            "helpers_wanted": "1",
            "when_from": "2026-02-30",
        },
        {},
    ],
)
def test_malformed_posts_never_give_a_server_error(as_, poster, data):
    response = as_(poster).post(url("neighbours:new_post"), data)
    assert response.status_code == 400
    assert not Post.objects.exists()


@pytest.mark.parametrize("hours", ["²", "10" * 12, "NaN", "-1"])
def test_malformed_done_never_gives_a_server_error(as_, post, poster, helper, hours):
    answer = services.accept(response=services.offer_help(post=post, responder=helper), actor=poster)
    response = as_(helper).post(url("neighbours:done", "en", post.pk, answer.pk), {"hours": hours, "amount": "1e99"})
    assert response.status_code == 302
    answer.refresh_from_db()
    assert answer.responder_confirmed_at is None


def test_malformed_ids_and_filters_never_give_a_server_error(as_, post, poster):
    client = as_(poster)
    assert client.get(url("neighbours:board") + "?kind=²&category=%00&page=99999999999999999999").status_code in (200, 400)
    assert client.get("/en/neighbours/posts/99999999999999999999999/").status_code == 404
    assert client.post(url("neighbours:answer", "en", post.pk, 999999), {"action": "accept"}).status_code == 404
    assert client.post(url("neighbours:report", "en", post.pk), {"reason": "²"}).status_code == 302


def test_the_board_s_queries_do_not_grow_with_its_posts(as_, grid, poster, django_assert_max_num_queries):
    client = as_(poster)
    for number in range(3):
        PostFactory(grid=grid, author=neighbour(grid), title=f"post {number}")
    client.get(url("neighbours:board"))  # warm the session and the site's settings
    with django_assert_max_num_queries(12) as few:
        client.get(url("neighbours:board"))
    for number in range(25):
        PostFactory(grid=grid, author=neighbour(grid), title=f"more {number}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url("neighbours:board")).content.decode()
    assert page.count('class="card neighbour-post"') == 20


def test_my_page_s_queries_do_not_grow(as_, grid, poster, helper, django_assert_max_num_queries):
    client = as_(helper)
    for number in range(2):
        services.offer_help(post=PostFactory(grid=grid, author=neighbour(grid), title=f"p{number}"), responder=helper)
    client.get(url("neighbours:mine"))
    with django_assert_max_num_queries(12) as few:
        client.get(url("neighbours:mine"))
    for number in range(10):
        services.offer_help(post=PostFactory(grid=grid, author=neighbour(grid), title=f"q{number}"), responder=helper)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("neighbours:mine"))


def test_a_post_page_s_queries_do_not_grow_with_its_answers(as_, grid, post, poster, django_assert_max_num_queries):
    client = as_(poster)
    services.offer_help(post=post, responder=neighbour(grid))
    client.get(url("neighbours:post", "en", post.pk))
    with django_assert_max_num_queries(40) as few:
        client.get(url("neighbours:post", "en", post.pk))
    for _ in range(8):
        services.offer_help(post=post, responder=neighbour(grid))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("neighbours:post", "en", post.pk))


def test_the_expired_post_shows_no_answer_form(as_, post, helper):
    Post.objects.filter(pk=post.pk).update(expires_at=timezone.now() - datetime.timedelta(hours=1))
    page = as_(helper).get(url("neighbours:post", "en", post.pk)).content.decode()
    assert "respond-heading" not in page
