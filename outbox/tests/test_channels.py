"""Residents choose channels per kind of message: `notify`, the preferences page, and staff's view per resident."""

import pytest
from django.core import mail
from django.urls import reverse

from events import factories
from events import services as events
from home.factories import ResidentProfileFactory, UserFactory, VerifiedUserFactory
from home.services import create_community
from outbox import services, sms, wechat
from outbox.kinds import KINDS, KINDS_BY_CODE, TOPICS
from outbox.models import ChannelPreference, Message


def person(community, *, email=True, phone="", wechat_openid="", language="en"):
    user = VerifiedUserFactory() if email else UserFactory(email="")
    ResidentProfileFactory(
        user=user,
        community=community,
        birth_year=1980,
        preferred_language=language,
        mobile=phone,
        mobile_verified=bool(phone),
        wechat_openid=wechat_openid,
    )
    user.refresh_from_db()
    return user


def render():
    from django.utils.translation import gettext as _

    return services.Content(
        subject=_("Reminder: %(title)s tomorrow") % {"title": "Taiji"},
        body="Body",
        params={"activity": "Taiji", "time": "12-06 09:00", "place": "Hall"},
        attachments=[{"filename": "a.ics", "content": "BEGIN:VCALENDAR", "mimetype": "text/calendar"}],
    )


def channels(messages):
    return sorted(message.channel for message in messages)


# --- Defaults and saved choices -------------------------------------------------------------------------


def test_without_a_saved_choice_email_goes_everywhere_and_sms_too_for_time_critical_kinds(community):
    both = person(community, phone="13812345678")
    assert services.channels_for(both, "events.reminder") == ["email", "sms"]
    assert services.channels_for(both, "events.promoted") == ["email", "sms"]
    assert services.channels_for(both, "events.session_cancelled") == ["email", "sms"]
    assert services.channels_for(both, "events.booking_made") == ["email"]
    assert services.channels_for(both, "points.expiry_warning") == ["email"]
    email_only = person(community)
    assert services.channels_for(email_only, "events.reminder") == ["email"]
    phone_only = person(community, email=False, phone="13900000000")
    assert services.channels_for(phone_only, "events.booking_made") == ["sms"]
    assert services.channels_for(phone_only, "points.expiry_warning") == ["sms"]
    # An unverified number is no channel; WeChat is never chosen without the resident asking.
    unverified = person(community, wechat_openid="o-abc")
    unverified.profile.mobile = "13700000000"
    unverified.profile.save()
    assert services.channels_for(unverified, "events.reminder") == ["email"]
    nobody = person(community, email=False)
    assert services.channels_for(nobody, "events.reminder") == []


def test_notify_queues_one_message_per_chosen_channel_with_distinct_keys_exactly_once(community):
    resident = person(community, phone="13812345678", wechat_openid="o-wechat-1", language="zh-hans")
    services.set_channel_preferences(user=resident, choices={"reminders": ["sms", "wechat", "email"]})
    queued = services.notify(kind="events.reminder", recipient=resident, render=render, idempotency_key="events.reminder:7")
    assert channels(queued) == ["email", "sms", "wechat"]
    by_channel = {message.channel: message for message in queued}
    assert by_channel["email"].idempotency_key == "events.reminder:7"  # unchanged for e-mail
    assert by_channel["sms"].idempotency_key == "events.reminder:7:sms"
    assert by_channel["wechat"].idempotency_key == "events.reminder:7:wechat"
    assert by_channel["email"].address == resident.email and by_channel["email"].attachments
    assert by_channel["sms"].address == "13812345678" and by_channel["sms"].attachments == []
    assert by_channel["wechat"].address == "o-wechat-1"
    # Rendered in the resident's language: the subject and the short text are Chinese.
    assert by_channel["email"].subject.startswith("提醒") and by_channel["email"].language == "zh-hans"
    assert "Taiji" in by_channel["sms"].body and "明天" in by_channel["sms"].body
    assert by_channel["sms"].template_params == {"activity": "Taiji", "time": "12-06 09:00", "place": "Hall"}
    assert len(by_channel["sms"].body) <= 70
    # The same change again queues nothing new.
    again = services.notify(kind="events.reminder", recipient=resident, render=render, idempotency_key="events.reminder:7")
    assert sorted(message.pk for message in again) == sorted(message.pk for message in queued)
    assert Message.objects.count() == 3


def test_a_saved_choice_wins_over_the_defaults_and_a_channel_no_longer_usable_falls_back(community):
    resident = person(community, phone="13812345678", wechat_openid="o-1")
    services.set_channel_preferences(user=resident, choices={"bookings": ["wechat"], "reminders": ["email"]})
    assert services.channels_for(resident, "events.booking_made") == ["wechat"]
    assert services.channels_for(resident, "events.draw_won") == ["wechat"]  # same topic
    assert services.channels_for(resident, "events.reminder") == ["email"]  # no SMS: the resident said so
    services.unlink_wechat(user=resident)
    resident.refresh_from_db()
    assert services.channels_for(resident, "events.booking_made") == ["email"]


def test_an_email_less_resident_with_a_verified_phone_gets_her_booking_by_sms(community, django_capture_on_commit_callbacks):
    resident = person(community, email=False, phone="13912345678", language="zh-hans")
    staff = VerifiedUserFactory()
    staff.groups.add(community.editors)
    session = factories.SessionFactory(activity=factories.activity(title="太极拳"), capacity=2)
    with django_capture_on_commit_callbacks(execute=True):  # booked at the desk: she has no e-mail to verify
        events.book_session(session=session, resident=resident, actor=staff)
    (message,) = Message.objects.all()
    assert (message.channel, message.address, message.kind) == ("sms", "13912345678", "events.booking_made")
    assert message.status == Message.Status.SENT
    assert mail.outbox == []
    (text,) = sms.sent
    assert text["to"] == "13912345678" and text["params"]["activity"] == "太极拳"
    assert "已确认" in text["text"] and len(text["text"]) <= 70


def test_an_email_only_resident_is_told_by_email_as_before(community, django_capture_on_commit_callbacks):
    resident = person(community)
    session = factories.SessionFactory(activity=factories.activity(), capacity=2)
    with django_capture_on_commit_callbacks(execute=True):
        events.book_session(session=session, resident=resident, actor=resident)
    (message,) = Message.objects.all()
    assert message.channel == "email" and message.idempotency_key.startswith("events.booking_made:")
    assert len(mail.outbox) == 1 and sms.sent == [] and wechat.sent == []


def test_a_time_critical_message_goes_by_email_and_sms(community, django_capture_on_commit_callbacks):
    resident = person(community, phone="13812345678")
    staff = VerifiedUserFactory()
    staff.groups.add(community.editors)
    session = factories.SessionFactory(activity=factories.activity(), capacity=2)
    (booking,) = events.book_session(session=session, resident=resident, actor=resident)
    Message.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        events.cancel_session(session=session, actor=staff, reason="Rain")
    assert channels(Message.objects.filter(kind="events.session_cancelled")) == ["email", "sms"]
    assert len(mail.outbox) == 1 and len(sms.sent) == 1


def test_set_channel_preferences_rejects_what_the_resident_cannot_use(community):
    resident = person(community)
    with pytest.raises(services.PreferenceError):
        services.set_channel_preferences(user=resident, choices={"reminders": ["sms"]})
    with pytest.raises(services.PreferenceError):
        services.set_channel_preferences(user=resident, choices={"reminders": []})
    with pytest.raises(services.PreferenceError):
        services.set_channel_preferences(user=resident, choices={"no-such-topic": ["email"]})
    assert not ChannelPreference.objects.exists()


def test_one_openid_links_one_resident(community):
    first, second = person(community), person(community)
    services.link_wechat(user=first, openid="o-same")
    with pytest.raises(services.PreferenceError):
        services.link_wechat(user=second, openid="o-same")
    with pytest.raises(services.PreferenceError):
        services.link_wechat(user=second, openid="")
    second.refresh_from_db()
    assert second.profile.wechat_openid == ""


# --- The resident's page ---------------------------------------------------------------------------------

PAGE = "/{language}/me/notifications/"


@pytest.mark.parametrize(("language", "words"), [("en", "How we notify you"), ("zh-hans", "通知方式")])
def test_the_page_shows_each_kind_with_the_channels_the_resident_can_use(client, community, language, words):
    resident = person(community, phone="13812345678")
    client.force_login(resident)
    response = client.get(PAGE.format(language=language))
    assert response.status_code == 200
    content = response.content.decode()
    assert words in content
    assert 'name="reminders" value="sms"' in content and 'name="reminders" value="email"' in content
    assert 'value="wechat"' not in content  # not linked
    assert 'name="staff"' not in content  # not staff
    # The defaults are ticked: e-mail and SMS for tomorrow's reminder, e-mail only for bookings.
    assert 'name="reminders" value="sms" id="id_reminders_1" checked' in content
    assert 'name="bookings" value="sms" id="id_bookings_1" checked' not in content
    profile = client.get(f"/{language}/me/")
    assert PAGE.format(language=language) in profile.content.decode()


def test_saving_choices_changes_what_is_sent(client, community):
    resident = person(community, phone="13812345678")
    client.force_login(resident)
    data = {"bookings": ["sms"], "waiting_list": ["email"], "reminders": ["sms"], "session_cancelled": ["email", "sms"]}
    data |= {"organisers": ["email"], "points": ["sms"], "rewards": ["sms"], "letters": ["email"], "council": ["email"]}
    data |= {"neighbours": ["sms"]}
    response = client.post(PAGE.format(language="en"), data)
    assert response.status_code == 302
    assert services.channels_for(resident, "events.booking_made") == ["sms"]
    assert services.channels_for(resident, "events.reminder") == ["sms"]
    assert services.channels_for(resident, "points.expiry_warning") == ["sms"]
    assert services.channels_for(resident, "points.reward_reserved") == ["sms"]
    assert services.channels_for(resident, "neighbours.accepted") == ["sms"]
    assert ChannelPreference.objects.filter(user=resident).count() == 10


@pytest.mark.parametrize(
    ("language", "bad", "error"),
    [
        ("en", {"reminders": []}, "Choose at least one way"),
        ("zh-hans", {"reminders": []}, "请至少选择一种通知方式"),
        ("en", {"reminders": ["wechat"]}, "is not a way we can reach you"),
        ("en", {"reminders": ["fax"], "unknown": ["sms"]}, "is not a way we can reach you"),
    ],
)
def test_bad_input_is_a_form_error_that_changes_nothing(client, community, language, bad, error):
    resident = person(community)
    client.force_login(resident)
    data = {topic: ["email"] for topic in ("bookings", "waiting_list", "session_cancelled", "organisers", "points", "rewards")}
    data |= {"letters": ["email"], "council": ["email"], "neighbours": ["email"]} | bad
    response = client.post(PAGE.format(language=language), data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not ChannelPreference.objects.exists()


def test_the_page_asks_for_a_login(client, db):
    response = client.get(PAGE.format(language="en"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Staff: every message to one resident ---------------------------------------------------------------


def test_staff_see_every_message_to_their_resident_in_readable_words_and_resend_one(client, community):
    resident = person(community, phone="13812345678", language="zh-hans")
    queued = services.notify(kind="events.reminder", recipient=resident, render=render, idempotency_key="events.reminder:1")
    failed = next(message for message in queued if message.channel == "sms")
    Message.objects.filter(pk=failed.pk).update(status=Message.Status.FAILED, last_error="isv.BUSINESS_LIMIT_CONTROL")
    staff = VerifiedUserFactory()
    staff.groups.add(community.editors)
    client.force_login(staff)
    page = reverse("outbox_resident", args=[resident.pk])
    response = client.get(page, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Reminder for tomorrow" in content and "events.reminder" not in content
    assert "isv.BUSINESS_LIMIT_CONTROL" in content and "SMS" in content
    assert reverse("outbox_resend", args=[failed.pk]) in content
    # From the general listing, each message leads to its recipient's page.
    assert page in client.get(reverse("outbox:index")).content.decode()
    response = client.post(reverse("outbox_resend", args=[failed.pk]), {"next": page})
    assert response.status_code == 302 and response["Location"] == page
    failed.refresh_from_db()
    assert failed.status in (Message.Status.PENDING, Message.Status.SENT)


def test_staff_of_another_community_see_nothing_of_the_resident(client, community):
    resident = person(community)
    services.notify(kind="events.reminder", recipient=resident, render=render, idempotency_key="events.reminder:1")
    other = create_community(name="南山社区", code="nanshan", name_en="Nanshan")
    stranger = VerifiedUserFactory()
    stranger.groups.add(other.editors)
    client.force_login(stranger)
    assert client.get(reverse("outbox_resident", args=[resident.pk]), follow=True).status_code == 404
    client.force_login(resident)  # not staff at all
    assert client.get(reverse("outbox_resident", args=[resident.pk])).status_code in (302, 403)


def test_the_resident_page_shows_kinds_in_chinese_for_chinese_staff(client, community):
    resident = person(community)
    services.notify(kind="events.reminder", recipient=resident, render=render, idempotency_key="events.reminder:1")
    staff = VerifiedUserFactory()
    staff.groups.add(community.editors)
    ResidentProfileFactory(user=staff, community=community, preferred_language="zh-hans")
    client.force_login(staff)
    content = client.get(reverse("outbox_resident", args=[resident.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "明天的提醒" in content


TYPICAL = {
    "activity": "太极拳晨练",
    "time": "12-06 09:00",
    "place": "六和社区活动室",
    "status": "已确认，票码K7Q2-9XPD",
    "code": "K7Q2-9XPD",
    "position": "3",
    "subject": "明天的课改到二楼",
    "points": "120",
    "date": "2026-12-31",
    "number": "LX-2026-000123",
    "step": "已受理",
    "topic": "加装电梯",
    "title": "第12次议事会会议",
    "action": "修复3号楼路灯",
    "reward": "环保购物袋",
    "post": "帮忙从菜场提菜上楼",
    "note": "请不要在帖子里索要钱款，邻里互助是无偿的",
    "count": "3",
    "grid": "第1网格 · 六和苑",
}


@pytest.mark.parametrize("kind", [kind.code for kind in KINDS])
def test_each_kinds_short_text_fits_one_chinese_sms_and_names_only_its_parameters(kind):
    from django.utils import translation

    registered = KINDS_BY_CODE[kind]
    assert registered.topic in {topic.key for topic in TOPICS}
    params = {name: TYPICAL[name] for name in registered.params}
    with translation.override("zh-hans"):
        text = str(registered.short) % params
    assert text != str(registered.short) or not params
    assert len(text) <= 70, text
    with translation.override("en"):
        assert "%(" not in str(registered.short) % params


def test_points_and_roster_pages_lead_to_the_residents_messages(client, community):
    resident = person(community)
    staff = VerifiedUserFactory()
    staff.groups.add(community.editors)
    client.force_login(staff)
    page = reverse("outbox_resident", args=[resident.pk])
    assert page in client.get(reverse("points_admin:award", args=[resident.pk])).content.decode()
    session = factories.SessionFactory(activity=factories.activity(), capacity=2)
    events.book_session(session=session, resident=resident, actor=resident)
    assert page in client.get(reverse("events_admin:roster", args=[session.pk])).content.decode()


def test_the_residents_messages_page_costs_the_same_queries_for_many_messages(client, community):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    resident = person(community, phone="13812345678")
    staff = VerifiedUserFactory()
    staff.groups.add(community.editors)
    client.force_login(staff)
    page = reverse("outbox_resident", args=[resident.pk])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(page).status_code == 200
        return len(captured)

    services.notify(kind="events.reminder", recipient=resident, render=render, idempotency_key="events.reminder:0")
    queries()  # the first admin page makes the person's sidebar (home/admin_sidebar.py); the next ones reuse it
    few = queries()
    for number in range(1, 6):
        services.notify(kind="events.reminder", recipient=resident, render=render, idempotency_key=f"events.reminder:{number}")
    assert Message.objects.filter(recipient=resident).count() == 12
    assert queries() == few
