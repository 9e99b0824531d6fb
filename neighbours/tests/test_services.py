"""The services' rules and errors: posting, responding, matching, completing, points, thanks, expiry, escalation."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone
from PIL import Image

from deliberation.mailbox.models import MailboxSettings
from home.factories import UserFactory
from home.models import ResidentProfile
from neighbours import services
from neighbours.factories import PostFactory, neighbour
from neighbours.models import Post, PostingSuspension, Response, Thanks
from outbox.models import Message
from points.models import Account, LedgerEntry


def post_in(grid, author, **fields):
    fields.setdefault("kind", "request")
    fields.setdefault("category", "errands")
    fields.setdefault("title", "Carry groceries upstairs")
    fields.setdefault("text", "Saturday morning, five floors, two bags.")
    return services.create_post(author=author, grid=grid, **fields)


def matched(post, poster, helper):
    response = services.offer_help(post=post, responder=helper, message="I can help")
    return services.accept(response=response, actor=poster)


def kinds_sent(user):
    return list(Message.objects.filter(recipient=user).values_list("kind", flat=True))


# --- Posting ---------------------------------------------------------------------------------------------


def test_a_resident_posts_in_their_grid(grid, poster):
    post = post_in(grid, poster, place="Gate of building 3", helpers_wanted=2)
    assert post.status == Post.Status.OPEN and post.community == grid.community and post.helpers_wanted == 2
    assert post.expires_at > timezone.now() + datetime.timedelta(days=13)
    assert not post.asks_money and not post.asks_medical


def test_only_residents_of_the_grid_post_there(grid, outsider):
    with pytest.raises(PermissionDenied):
        post_in(grid, outsider)
    assert not Post.objects.exists()


def test_an_unverified_resident_cannot_post(grid):
    unverified = UserFactory()
    ResidentProfile.objects.create(user=unverified, grid=grid, community=grid.community)
    with pytest.raises(PermissionDenied, match="verify"):
        post_in(grid, unverified)


def test_minors_cannot_post_or_respond(grid, minor, poster):
    with pytest.raises(services.NeighbourError, match="under 18"):
        post_in(grid, minor)
    post = post_in(grid, poster)
    with pytest.raises(services.NeighbourError, match="under 18"):
        services.offer_help(post=post, responder=minor)


def test_a_suspended_resident_cannot_post(grid, poster, staff):
    services.suspend_posting(resident=poster, community=grid.community, actor=staff, days=7, reason="Spam")
    with pytest.raises(services.NeighbourError, match="suspended"):
        post_in(grid, poster)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"title": "  "}, "title and a text"),
        ({"kind": "loan-shark"}, "Unknown kind"),
        ({"category": "x"}, "Unknown category"),
        ({"urgency": "yesterday"}, "Unknown urgency"),
        ({"helpers_wanted": 0}, "1 to 20"),
        ({"helpers_wanted": 21}, "1 to 20"),
        ({"helpers_wanted": 10**23}, "1 to 20"),
        ({"when_from": datetime.date(9999, 12, 31)}, "year ahead"),
        (
            {"when_from": timezone.localdate() + datetime.timedelta(days=3), "when_until": timezone.localdate()},
            "before the start",
        ),
        ({"text": "Call me on 13812345678"}, "phone numbers"),
        ({"place": "3幢2单元501室"}, "home addresses"),
        ({"title": "x" * 81}, "too long"),
    ],
)
def test_malformed_posts_are_refused_and_change_nothing(grid, poster, fields, message):
    with pytest.raises(services.NeighbourError, match=message):
        post_in(grid, poster, **fields)
    assert not Post.objects.exists()


def test_the_mailbox_s_sensitive_words_are_refused(grid, poster):
    settings = MailboxSettings.load()
    settings.sensitive_words = "违禁词\n"
    settings.save()
    with pytest.raises(services.NeighbourError, match="违禁词"):
        post_in(grid, poster, text="这里有违禁词")


def test_money_and_medical_requests_carry_a_warning(grid, poster):
    money = post_in(grid, poster, title="急需借钱", text="请转账给我")
    medical = post_in(grid, poster, title="Help with surgery costs", text="My medical treatment is expensive")
    assert money.asks_money and not money.asks_medical
    assert medical.asks_medical


def test_photos_are_cleaned_of_their_metadata(grid, poster):
    out = io.BytesIO()
    image = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    image.save(out, format="JPEG", exif=exif)
    photo = io.BytesIO(out.getvalue())
    photo.name, photo.size = "p.jpg", len(out.getvalue())
    post = post_in(grid, poster, photos=[photo])
    stored = post.photos.get()
    assert stored.content_type == "image/jpeg" and (stored.width, stored.height) == (40, 30)
    assert b"Camera maker" not in bytes(stored.data)


def test_not_a_photo_is_refused(grid, poster):
    fake = io.BytesIO(b"GIF89a not really")
    fake.name, fake.size = "x.jpg", 17
    with pytest.raises(services.NeighbourError, match="not a photo"):
        post_in(grid, poster, photos=[fake])
    assert not Post.objects.exists()


def test_at_most_ten_open_posts(grid, poster):
    for number in range(services.MAX_OPEN_POSTS):
        PostFactory(grid=grid, author=poster, title=f"post {number}")
    with pytest.raises(services.NeighbourError, match="open posts already"):
        post_in(grid, poster)


def test_staff_post_for_a_resident_without_a_phone(grid, staff, other_staff):
    resident = UserFactory(email="")
    ResidentProfile.objects.create(user=resident, grid=grid, community=grid.community, display_name="陈奶奶")
    fields = {"kind": "request", "category": "elderly", "title": "Company to the clinic", "text": "Tuesday morning"}
    with pytest.raises(services.NeighbourError, match="consent"):
        services.post_on_behalf(actor=staff, resident=resident, consent_recorded=False, **fields)
    with pytest.raises(PermissionDenied):
        services.post_on_behalf(actor=other_staff, resident=resident, consent_recorded=True, **fields)
    post = services.post_on_behalf(actor=staff, resident=resident, consent_recorded=True, **fields)
    assert post.author == resident and post.posted_by == staff
    assert services.acts_for_poster(staff, post) and not services.acts_for_poster(other_staff, post)


def test_the_poster_closes_and_others_cannot(grid, poster, helper):
    post = post_in(grid, poster)
    response = services.offer_help(post=post, responder=helper)
    with pytest.raises(PermissionDenied):
        services.close_post(post=post, actor=helper)
    services.close_post(post=post, actor=poster)
    post.refresh_from_db()
    response.refresh_from_db()
    assert post.status == Post.Status.CLOSED and response.status == Response.Status.DECLINED
    with pytest.raises(services.NeighbourError, match="already closed"):
        services.close_post(post=post, actor=poster)


# --- Responding and matching ------------------------------------------------------------------------------


def test_offer_accept_and_contacts_only_after_acceptance(grid, poster, helper, third):
    post = post_in(grid, poster)
    response = services.offer_help(post=post, responder=helper, message="I live next door")
    assert kinds_sent(poster) == ["neighbours.response"]
    before = services.contact_for(viewer=poster, person=helper, response=response)
    assert before.phone == "139****4321" and not before.revealed and before.email == ""
    assert services.contact_for(viewer=third, person=helper, response=response) is None
    services.accept(response=response, actor=poster)
    response.refresh_from_db()
    post.refresh_from_db()
    assert response.status == Response.Status.ACCEPTED and post.status == Post.Status.MATCHED and post.accepted_count == 1
    assert services.contact_for(viewer=poster, person=helper, response=response).phone == "13987654321"
    assert services.contact_for(viewer=helper, person=poster, response=response).phone == "13812345678"
    assert services.contact_for(viewer=third, person=poster, response=response) is None
    assert "neighbours.accepted" in kinds_sent(helper)


def test_offering_twice_keeps_one_response(grid, poster, helper):
    post = post_in(grid, poster)
    first = services.offer_help(post=post, responder=helper)
    assert services.offer_help(post=post, responder=helper) == first
    assert Response.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(post=post, responder=helper)


def test_no_response_to_one_s_own_post_or_from_another_grid(grid, poster, outsider):
    post = post_in(grid, poster)
    with pytest.raises(services.NeighbourError, match="own post"):
        services.offer_help(post=post, responder=poster)
    with pytest.raises(PermissionDenied):
        services.offer_help(post=post, responder=outsider)


def test_no_response_to_a_closed_or_expired_post(grid, poster, helper):
    post = post_in(grid, poster)
    Post.objects.filter(pk=post.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    post.refresh_from_db()
    with pytest.raises(services.NeighbourError, match="no longer open"):
        services.offer_help(post=post, responder=helper)


def test_only_the_poster_accepts_and_only_up_to_the_number_wanted(grid, poster, helper, third):
    post = post_in(grid, poster)
    first = services.offer_help(post=post, responder=helper)
    second = services.offer_help(post=post, responder=third)
    with pytest.raises(PermissionDenied):
        services.accept(response=first, actor=helper)
    services.accept(response=first, actor=poster)
    with pytest.raises(services.NeighbourError, match="no longer open"):
        services.accept(response=second, actor=poster)
    assert Response.objects.filter(status="accepted").count() == 1


def test_the_database_refuses_more_accepted_than_wanted(grid, poster):
    post = PostFactory(grid=grid, author=poster)
    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.filter(pk=post.pk).update(accepted_count=2)


def test_withdrawing_an_accepted_offer_opens_the_post_again(grid, poster, helper):
    post = post_in(grid, poster)
    response = matched(post, poster, helper)
    with pytest.raises(PermissionDenied):
        services.withdraw(response=response, actor=poster)
    services.withdraw(response=response, actor=helper)
    post.refresh_from_db()
    assert post.status == Post.Status.OPEN and post.accepted_count == 0
    again = services.offer_help(post=post, responder=helper, message="Free again")
    assert again.pk == response.pk and again.status == Response.Status.OFFERED


def test_declined_offers_stay_declined(grid, poster, helper):
    post = post_in(grid, poster)
    response = services.offer_help(post=post, responder=helper)
    services.decline(response=response, actor=poster)
    with pytest.raises(services.NeighbourError, match="already answered"):
        services.offer_help(post=post, responder=helper)
    with pytest.raises(services.NeighbourError, match="no longer waiting"):
        services.accept(response=response, actor=poster)


def test_an_item_is_claimed_first_come_and_only_once(grid, poster, helper, third):
    post = post_in(grid, poster, kind="give", category="items", title="Baby stroller", text="Good as new")
    response = services.claim(post=post, responder=helper)
    assert response.status == Response.Status.ACCEPTED
    post.refresh_from_db()
    assert post.status == Post.Status.MATCHED
    with pytest.raises(services.NeighbourError):
        services.claim(post=post, responder=third)
    assert services.offer_help(post=post, responder=helper) == response  # the form's button claims too
    assert services.contact_for(viewer=helper, person=poster, response=response).revealed


def test_claim_is_for_items_only(grid, poster, helper):
    post = post_in(grid, poster)
    with pytest.raises(services.NeighbourError, match="items"):
        services.claim(post=post, responder=helper)


# --- Done, points, thanks ---------------------------------------------------------------------------------


def test_both_confirm_then_the_helper_earns_points_and_hours(grid, poster, helper):
    post = post_in(grid, poster)
    response = matched(post, poster, helper)
    services.confirm_done(response=response, actor=helper, hours=Decimal("1.5"))
    response.refresh_from_db()
    assert response.status == Response.Status.ACCEPTED and not LedgerEntry.objects.exists()
    assert "neighbours.confirm" in kinds_sent(poster)
    services.confirm_done(response=response, actor=poster)
    response.refresh_from_db()
    post.refresh_from_db()
    assert response.status == Response.Status.DONE and post.status == Post.Status.DONE
    entry = LedgerEntry.objects.get()
    assert entry.account.resident == helper and entry.source_key == f"neighbours.help:{response.pk}"
    assert Account.objects.get(resident=helper).volunteer_hours == Decimal("1.5")
    assert response.points_awarded == entry.amount == 5
    # Confirming again changes nothing.
    services.confirm_done(response=response, actor=poster)
    assert LedgerEntry.objects.count() == 1


def test_on_an_offer_the_poster_is_the_helper(grid, poster, helper):
    post = post_in(grid, poster, kind="offer", category="repairs", title="I fix bicycles", text="Weekends")
    response = matched(post, poster, helper)
    services.confirm_done(response=response, actor=helper)
    services.confirm_done(response=response, actor=poster)
    assert LedgerEntry.objects.get().account.resident == poster


def test_items_earn_no_points_but_record_what_was_given(grid, poster, helper):
    post = post_in(grid, poster, kind="sale", category="items", title="Charity sale: scarf", text="Knitted")
    response = services.claim(post=post, responder=helper)
    services.confirm_done(response=response, actor=poster, amount=services.parse_amount("35"), amount_note="To the fund")
    services.confirm_done(response=response, actor=helper)
    response.refresh_from_db()
    assert response.status == Response.Status.DONE and response.amount == Decimal("35.00")
    assert not LedgerEntry.objects.exists()


def test_only_the_two_sides_confirm_and_only_accepted_ones(grid, poster, helper, third):
    post = post_in(grid, poster)
    response = services.offer_help(post=post, responder=helper)
    with pytest.raises(services.NeighbourError, match="accepted"):
        services.confirm_done(response=response, actor=helper)
    services.accept(response=response, actor=poster)
    with pytest.raises(PermissionDenied):
        services.confirm_done(response=response, actor=third)


@pytest.mark.parametrize("value", ["abc", "0", "-1", "13", "NaN", "Infinity", "1e30", "²"])
def test_malformed_hours_are_refused(value):
    with pytest.raises(services.NeighbourError):
        services.parse_hours(value)


@pytest.mark.parametrize("value", ["abc", "-5", "1e30", "NaN", "²"])
def test_malformed_amounts_are_refused(value):
    with pytest.raises(services.NeighbourError):
        services.parse_amount(value)


@override_settings(LINLI_NEIGHBOUR_PAIR_MONTHLY_CAP=2)
def test_the_same_pair_earns_points_at_most_the_cap_a_month(grid, poster, helper, third):
    for number in range(3):
        post = post_in(grid, poster, title=f"Errand {number}")
        response = matched(post, poster, helper)
        services.confirm_done(response=response, actor=helper)
        services.confirm_done(response=response, actor=poster)
    awarded = list(Response.objects.filter(responder=helper).order_by("pk").values_list("points_awarded", flat=True))
    assert awarded == [5, 5, 0]
    # The cap is per giver and receiver: the poster helping the helper back still earns.
    post = post_in(grid, helper, title="Return favour")
    response = matched(post, helper, poster)
    services.confirm_done(response=response, actor=poster)
    services.confirm_done(response=response, actor=helper)
    response.refresh_from_db()
    assert response.points_awarded == 5
    # Another neighbour helping the same poster still earns.
    post = post_in(grid, poster, title="Another errand")
    response = matched(post, poster, third)
    services.confirm_done(response=response, actor=third)
    services.confirm_done(response=response, actor=poster)
    response.refresh_from_db()
    assert response.points_awarded == 5


def test_the_rule_s_daily_cap_stops_points_but_not_the_help(grid, poster, helper):
    posters = [poster] + [neighbour(grid) for _ in range(2)]
    awarded = []
    for number, someone in enumerate(posters):
        post = post_in(grid, someone, title=f"Errand {number}")
        response = matched(post, someone, helper)
        services.confirm_done(response=response, actor=helper)
        services.confirm_done(response=response, actor=someone)
        response.refresh_from_db()
        awarded.append(response.points_awarded)
        assert response.status == Response.Status.DONE
    assert awarded == [5, 5, 0]  # neighbour_help: 10 points a day


def test_thanks_once_by_the_one_helped(grid, poster, helper):
    post = post_in(grid, poster)
    response = matched(post, poster, helper)
    with pytest.raises(services.NeighbourError, match="once the help is done"):
        services.thank(response=response, actor=poster, text="Thanks!")
    services.confirm_done(response=response, actor=helper)
    services.confirm_done(response=response, actor=poster)
    with pytest.raises(PermissionDenied):
        services.thank(response=response, actor=helper, text="Thanks to me")
    thanks = services.thank(response=response, actor=poster, text="Thank you, neighbour!")
    assert thanks.response == response and "neighbours.thanked" in kinds_sent(helper)
    with pytest.raises(services.NeighbourError, match="already"):
        services.thank(response=response, actor=poster, text="Again")
    assert Thanks.objects.count() == 1


# --- Expiry, escalation, digests ----------------------------------------------------------------------------


def test_open_posts_expire_and_their_offers_are_declined(grid, poster, helper):
    post = post_in(grid, poster)
    response = services.offer_help(post=post, responder=helper)
    matched_post = post_in(grid, poster, title="Matched")
    matched(matched_post, poster, helper)
    later = timezone.now() + datetime.timedelta(days=15)
    assert services.expire_posts(now=later) == 1
    assert services.expire_posts(now=later) == 0
    post.refresh_from_db()
    response.refresh_from_db()
    matched_post.refresh_from_db()
    assert post.status == Post.Status.EXPIRED and response.status == Response.Status.DECLINED
    assert matched_post.status == Post.Status.MATCHED


def test_unanswered_requests_go_to_the_staff_once(grid, poster, staff):
    post = post_in(grid, poster)
    Post.objects.filter(pk=post.pk).update(created_at=timezone.now() - datetime.timedelta(hours=49))
    answered = post_in(grid, poster, title="Answered")
    services.offer_help(post=answered, responder=neighbour(grid))
    Post.objects.filter(pk=answered.pk).update(created_at=timezone.now() - datetime.timedelta(hours=49))
    assert services.escalate_unanswered() == 1
    assert services.escalate_unanswered() == 0
    assert kinds_sent(staff) == ["neighbours.unanswered"]


def test_suggestions_match_skills_and_the_weekly_digest_goes_once(grid, poster, helper):
    errand = post_in(grid, poster, category="errands", title="Shopping")
    post_in(grid, poster, category="tutoring", title="Maths")
    services.save_helper_profile(user=helper, categories=["errands"], availability=["weekend"], weekly_digest=True)
    assert services.suggestions_for(helper) == [errand]
    assert services.suggestions_for(poster) == []
    assert services.send_weekly_digests() == 1
    assert services.send_weekly_digests() == 0
    assert kinds_sent(helper) == ["neighbours.digest"]
    services.offer_help(post=errand, responder=helper)
    assert services.suggestions_for(helper) == []


def test_helper_profile_refuses_unknown_choices(helper):
    with pytest.raises(services.NeighbourError):
        services.save_helper_profile(user=helper, categories=["hacking"], availability=[])


def test_suspension_is_bounded_and_closes_open_posts(grid, poster, staff, other_staff):
    post = post_in(grid, poster)
    for days in (0, 366, 10**23):
        with pytest.raises(services.NeighbourError):
            services.suspend_posting(resident=poster, community=grid.community, actor=staff, days=days, reason="x")
    with pytest.raises(PermissionDenied):
        services.suspend_posting(resident=poster, community=grid.community, actor=other_staff, days=3, reason="x")
    services.suspend_posting(resident=poster, community=grid.community, actor=staff, days=3, reason="Spam")
    post.refresh_from_db()
    assert post.status == Post.Status.CLOSED and PostingSuspension.objects.count() == 1
