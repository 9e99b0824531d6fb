"""The council in the Wagtail admin: scoped to the community's staff; councils, members, sessions, agenda,
announcement and cancellation, the live view, the door's QR code and the results with their chain."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from wagtail.models import ModelLogEntry

from deliberation.council import members as council_admin
from deliberation.council import services as voting
from deliberation.council.factories import AgendaItemFactory, CouncilSessionFactory, council_with_members
from deliberation.council.models import AgendaItem, Attendance, Council, CouncilMember, CouncilSession, Result
from deliberation.mailbox.factories import community_with_staff, resident
from deliberation.mailbox.tests.test_admin import admin_staff
from home.scope import NotStaff

pytestmark = pytest.mark.django_db


@pytest.fixture
def council(community):
    return council_with_members(members=5, community=community)


@pytest.fixture
def staff(community):
    return admin_staff(community, username="staff-liuhe")


@pytest.fixture
def outsider(site_pages):
    return admin_staff(community_with_staff(name="其他社区", code="other"), username="staff-other")


@pytest.fixture
def draft(council):
    return CouncilSessionFactory(council=council, starts_at=timezone.now() + datetime.timedelta(days=10))


def admin(name, *args):
    return reverse(f"council_admin:{name}", args=args)


def flash(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


# --- Scope -------------------------------------------------------------------------------------


def test_every_page_renders_for_the_communitys_staff(client, staff, council, draft):
    item = AgendaItemFactory(session=draft)
    client.force_login(staff)
    for target in (
        admin("sessions"),
        admin("councils"),
        admin("council", council.pk),
        admin("session_new", council.pk),
        admin("session", draft.pk),
        admin("session_edit", draft.pk),
        admin("item", item.pk),
        admin("door_qr", draft.pk),
        admin("results"),
    ):
        assert client.get(target).status_code == 200, target


def test_staff_of_another_community_get_not_found(client, outsider, council, draft):
    item = AgendaItemFactory(session=draft)
    client.force_login(outsider)
    # An admin 404 is redirected by LocaleMiddleware to the language-prefixed path, which is a 404 too.
    for target in (admin("council", council.pk), admin("session", draft.pk), admin("item", item.pk), admin("door_qr", draft.pk)):
        assert client.get(target, follow=True).status_code == 404, target
    response = client.post(admin("session", draft.pk), {"action": "announce"})
    assert response.status_code in (302, 404) and response.get("Location", "") != admin("session", draft.pk)
    draft.refresh_from_db()
    assert draft.status == CouncilSession.Status.DRAFT
    assert council.name not in client.get(admin("councils")).content.decode()


def test_residents_and_council_members_are_refused(client, council):
    client.force_login(council.members.first().user)
    assert client.get(admin("sessions")).status_code in (302, 403)


# --- Councils and members --------------------------------------------------------------------------


def test_staff_create_a_council_for_their_community(client, staff, community):
    client.force_login(staff)
    response = client.post(admin("councils"), {"community": community.pk, "name": "六和居民议事会", "name_en": "Liuhe council"})
    council = Council.objects.get(community=community)
    assert response["Location"] == admin("council", council.pk)
    assert ModelLogEntry.objects.filter(action="council.members").exists()
    response = client.post(admin("councils"), {"community": community.pk, "name": "又一个"}, follow=True)
    assert Council.objects.count() == 1


def test_settings_change_and_bad_input_changes_nothing(client, staff, council):
    client.force_login(staff)
    client.post(
        admin("council", council.pk),
        {"action": "settings", "name": "新名字", "name_en": "", "quorum": "two_thirds", "notice_days": 7},
    )
    council.refresh_from_db()
    assert (council.name, council.quorum, council.notice_days) == ("新名字", "two_thirds", 7)
    response = client.post(
        admin("council", council.pk), {"action": "settings", "name": "", "quorum": "nonsense", "notice_days": "x"}, follow=True
    )
    assert flash(response)
    council.refresh_from_db()
    assert council.name == "新名字"


def test_add_change_and_end_a_members_term(client, staff, council):
    newcomer = resident(council.community)
    newcomer.emailaddress_set.update(verified=True)
    email = newcomer.emailaddress_set.first().email
    client.force_login(staff)
    today = timezone.localdate()
    client.post(
        admin("council", council.pk), {"action": "add", "email": email, "role": "member", "term_start": today.isoformat()}
    )
    seat = CouncilMember.objects.get(council=council, user=newcomer)
    assert seat.is_current()
    # The same resident twice for the same time: refused.
    response = client.post(
        admin("council", council.pk),
        {"action": "add", "email": email, "role": "member", "term_start": today.isoformat()},
        follow=True,
    )
    assert flash(response) and CouncilMember.objects.filter(user=newcomer).count() == 1
    # A second chair for the same time: refused.
    response = client.post(
        admin("council", council.pk),
        {"action": "change", "member": seat.pk, "role": "chair", "term_start": today.isoformat(), "term_end": ""},
        follow=True,
    )
    assert flash(response)
    seat.refresh_from_db()
    assert seat.role == CouncilMember.Role.MEMBER
    client.post(
        admin("council", council.pk),
        {
            "action": "change",
            "member": seat.pk,
            "role": "member",
            "term_start": today.isoformat(),
            "term_end": (today + datetime.timedelta(days=30)).isoformat(),
        },
    )
    seat.refresh_from_db()
    assert seat.term_end == today + datetime.timedelta(days=30)
    veteran = council.members.exclude(pk=seat.pk).last()
    client.post(admin("council", council.pk), {"action": "end", "member": veteran.pk})  # not confirmed
    veteran.refresh_from_db()
    assert veteran.is_current()
    client.post(admin("council", council.pk), {"action": "end", "member": veteran.pk, "confirm": "yes"})
    veteran.refresh_from_db()
    assert not veteran.is_current()
    assert ModelLogEntry.objects.filter(action="council.members").count() == 3


def test_unknown_address_and_bad_term_are_refused(client, staff, council):
    client.force_login(staff)
    today = timezone.localdate()
    before = CouncilMember.objects.count()
    response = client.post(
        admin("council", council.pk),
        {"action": "add", "email": "nobody@example.com", "role": "member", "term_start": today.isoformat()},
        follow=True,
    )
    assert flash(response)
    seat = council.members.last()
    response = client.post(
        admin("council", council.pk),
        {
            "action": "change",
            "member": seat.pk,
            "role": "member",
            "term_start": today.isoformat(),
            "term_end": (today - datetime.timedelta(days=3)).isoformat(),
        },
        follow=True,
    )
    assert flash(response)
    assert CouncilMember.objects.count() == before


def test_council_admin_services_refuse_other_staff(council, outsider):
    with pytest.raises(NotStaff):
        council_admin.end_term(member=council.members.last(), actor=outsider)


# --- Sessions and agenda ----------------------------------------------------------------------------


def session_data(**changes):
    starts = timezone.now() + datetime.timedelta(days=14)
    data = {
        "title": "第四季度议事会",
        "title_en": "Fourth-quarter session",
        "starts_at": local(starts),
        "ends_at": local(starts + datetime.timedelta(hours=2)),
        "mode": "hybrid",
        "place": "会议室",
        "place_en": "Meeting room",
    }
    data.update(changes)
    return data


def test_create_edit_and_refuse_a_session_that_ends_before_it_starts(client, staff, council):
    client.force_login(staff)
    response = client.post(admin("session_new", council.pk), session_data())
    session = CouncilSession.objects.get(title="第四季度议事会")
    assert response["Location"] == admin("session", session.pk) and session.door_key
    response = client.post(admin("session_edit", session.pk), session_data(title="改名", ends_at=session_data()["starts_at"]))
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    session.refresh_from_db()
    assert session.title == "第四季度议事会"
    client.post(admin("session_edit", session.pk), session_data(title="改名"))
    session.refresh_from_db()
    assert session.title == "改名"


def item_data(**changes):
    data = {
        "title": "增设车位",
        "title_en": "",
        "motion": "同意增设。",
        "motion_en": "",
        "rule": "simple",
        "ballot": "open",
        "public_notice": "on",  # ticked on a new item's form
        "topic": "",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def test_agenda_add_edit_move_remove_then_announce_and_cancel(client, staff, council, draft, django_capture_on_commit_callbacks):
    client.force_login(staff)
    response = client.post(admin("session", draft.pk), {"action": "announce"}, follow=True)
    assert flash(response)  # no item yet
    for title in ("一", "二", "三"):
        client.post(admin("session", draft.pk), {"action": "add_item", **item_data(title=title)})
    assert list(draft.items.order_by("position").values_list("title", flat=True)) == ["一", "二", "三"]
    third = draft.items.get(title="三")
    client.post(admin("session", draft.pk), {"action": "move", "item": third.pk, "position": 1})
    assert list(draft.items.order_by("position").values_list("title", flat=True)) == ["三", "一", "二"]
    assert third.public_notice
    client.post(admin("item", third.pk), item_data(title="三（改）", rule="two_thirds", public_notice=None))
    third.refresh_from_db()
    assert (third.title, third.rule, third.public_notice) == ("三（改）", "two_thirds", False)
    assert gettext("No public notice period") in client.get(admin("session", draft.pk)).content.decode()
    client.post(admin("session", draft.pk), {"action": "remove", "item": draft.items.get(title="二").pk})
    assert draft.items.count() == 2
    response = client.post(
        admin("session", draft.pk), {"action": "add_item", **item_data(title="", rule="nonsense")}, follow=True
    )
    assert flash(response) and draft.items.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        client.post(admin("session", draft.pk), {"action": "announce"})
    draft.refresh_from_db()
    assert draft.status == CouncilSession.Status.ANNOUNCED
    assert len(mail.outbox) == 5  # every member invited
    # The agenda is fixed once the session started.
    voting.start_session(session=draft, actor=staff)
    response = client.post(admin("session", draft.pk), {"action": "add_item", **item_data(title="迟到")}, follow=True)
    assert flash(response) and draft.items.count() == 2
    other = CouncilSessionFactory(council=council, status=CouncilSession.Status.ANNOUNCED)
    response = client.post(admin("session", other.pk), {"action": "cancel", "reason": "", "confirm": "yes"}, follow=True)
    assert flash(response)
    client.post(admin("session", other.pk), {"action": "cancel", "reason": "场地不可用", "confirm": "yes"})
    other.refresh_from_db()
    assert other.status == CouncilSession.Status.CANCELLED


def test_an_item_of_another_session_cannot_be_moved_or_removed(client, staff, council, draft):
    elsewhere = AgendaItemFactory(session=CouncilSessionFactory(council=council))
    client.force_login(staff)
    response = client.post(admin("session", draft.pk), {"action": "remove", "item": elsewhere.pk})
    assert response.status_code in (302, 404) and response.get("Location", "") != admin("session", draft.pk)
    assert AgendaItem.objects.filter(pk=elsewhere.pk).exists()


def test_the_live_view_marks_present_opens_and_closes_without_counts_while_open(client, staff, council):
    session = CouncilSessionFactory(council=council, status=CouncilSession.Status.IN_SESSION)
    item = AgendaItemFactory(session=session, position=1)
    client.force_login(staff)
    seats = list(council.members.order_by("pk"))
    for seat in seats[:3]:
        client.post(admin("session", session.pk), {"action": "present", "member": seat.pk})
    assert Attendance.objects.filter(session=session, method=Attendance.Method.SECRETARY).count() == 3
    client.post(admin("session", session.pk), {"action": "open", "item": item.pk})
    item.refresh_from_db()
    assert item.status == AgendaItem.Status.OPEN
    voting.cast_vote(item=item, user=seats[2].user, choice="yes")
    page = client.get(admin("session", session.pk)).content.decode()
    assert 'role="img"' not in page and "1 / 0 / 0" not in page
    client.post(admin("session", session.pk), {"action": "close", "item": item.pk})
    result = Result.objects.get(item=item)
    page = client.get(admin("session", session.pk)).content.decode()
    assert 'role="img"' in page and result.get_outcome_display() in page


def test_the_door_qr_code_is_an_svg_of_the_check_in_link(client, staff, draft):
    client.force_login(staff)
    response = client.get(admin("door_qr", draft.pk))
    content = response.content.decode()
    assert "<svg" in content and f"/zh-hans/me/council/door/{draft.pk}/{draft.door_key}/" in content
    assert "no-store" in response["Cache-Control"]


def test_the_door_qr_code_shows_the_new_key_once_the_session_started(client, staff, council):
    session = CouncilSessionFactory(council=council, status=CouncilSession.Status.ANNOUNCED)
    client.force_login(staff)
    before = session.door_key
    assert f"/{session.pk}/{before}/" in client.get(admin("door_qr", session.pk)).content.decode()
    voting.start_session(session=session, actor=staff)
    session.refresh_from_db()
    content = client.get(admin("door_qr", session.pk)).content.decode()
    assert f"/zh-hans/me/council/door/{session.pk}/{session.door_key}/" in content and before not in content


def test_results_list_shows_the_chain_verified(client, staff, council):
    session = CouncilSessionFactory(council=council, status=CouncilSession.Status.IN_SESSION)
    item = AgendaItemFactory(session=session, position=1)
    for seat in council.members.all():
        Attendance.objects.create(session=session, member=seat, method=Attendance.Method.ONLINE)
    voting.open_voting(item=item, actor=staff)
    voting.close_voting(item=item, actor=staff)
    client.force_login(staff)
    content = client.get(admin("results")).content.decode()
    assert 'data-chain="ok"' in content and Result.objects.get().digest[:12] in content


def test_ending_a_session_in_the_admin_needs_the_box_ticked_and_no_open_vote(client, staff, council):
    session = CouncilSessionFactory(
        council=council, status=CouncilSession.Status.IN_SESSION, starts_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    item = AgendaItemFactory(session=session, position=1)
    for member in council.members.all():
        Attendance.objects.create(session=session, member=member, method=Attendance.Method.SECRETARY)
    client.force_login(staff)
    page = client.get(admin("session", session.pk)).content.decode()
    assert 'name="confirm"' in page

    client.post(admin("session", session.pk), {"action": "end"})
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.IN_SESSION

    voting.open_voting(item=item, actor=staff)
    response = client.post(admin("session", session.pk), {"action": "end", "confirm": "yes"}, follow=True)
    assert any(("still open" in str(message)) or ("仍在进行" in str(message)) for message in response.context["messages"])
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.IN_SESSION

    voting.close_voting(item=item, actor=staff)
    client.post(admin("session", session.pk), {"action": "end", "confirm": "yes"})
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.CLOSED


def in_language(user, language):
    """The admin speaks the staff member's chosen language (Wagtail's user profile)."""
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()
    return type(user).objects.get(pk=user.pk)


@pytest.mark.parametrize(
    ("language", "refusal"),
    [("zh-hans", "请勾选确认取消会议。"), ("en", "Please tick the box to confirm that the session is cancelled.")],
)
@pytest.mark.parametrize("data", [{}, {"confirm": ""}, {"confirm": "no"}])
def test_cancelling_a_session_in_the_admin_needs_the_box_ticked(
    client, staff, council, language, refusal, data, django_capture_on_commit_callbacks
):
    session = CouncilSessionFactory(council=council, status=CouncilSession.Status.ANNOUNCED)
    client.force_login(in_language(staff, language))
    page = client.get(admin("session", session.pk)).content.decode()
    assert 'name="confirm" value="yes" required' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(admin("session", session.pk), {"action": "cancel", "reason": "场地不可用", **data}, follow=True)
    assert refusal in flash(response)
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.ANNOUNCED and not mail.outbox  # nothing changed, nobody told
    with django_capture_on_commit_callbacks(execute=True):
        client.post(admin("session", session.pk), {"action": "cancel", "reason": "场地不可用", "confirm": "yes"})
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.CANCELLED and mail.outbox


ADMIN_QUESTIONS = {
    "zh-hans": {
        "cancel": "取消会议后无法恢复：会议的议题将退回议事会候选；如会议已发布通知，将通过电子邮件告知各成员。",
        "remove": "要将“一号议题”移出议程吗？该议程项及其动议将被删除，相关议题退回议事会候选；如需恢复，请重新添加。",
        "announce": "现在发布会议通知吗？系统将通过电子邮件邀请每位成员",
        "close": "现在结束“一号议题”的表决吗？此后任何人都不能再投票或改票，系统将计票并向所有人公布结果。",
        "no": "不，保留",
    },
    "en": {
        "cancel": "Cancelling the session cannot be undone: its topics go back to the shortlist",
        "remove": "Remove “一号议题” from the agenda? The item and its motion are deleted",
        "announce": "Announce the session now? Every member is invited by e-mail",
        "close": "Close voting on “一号议题” now? Nobody can vote or change a vote after this;",
        "no": "No, keep it",
    },
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_session_page_asks_before_removing_announcing_or_closing(client, staff, council, draft, language):
    item = AgendaItemFactory(session=draft, position=1, title="一号议题")
    questions = ADMIN_QUESTIONS[language]
    client.force_login(in_language(staff, language))
    page = client.get(admin("session", draft.pk)).content.decode()
    for key in ("cancel", "remove", "announce", "no"):
        assert questions[key] in page, key
    # Removing and announcing are a question first: their buttons sit in a closed <details>, with a way back.
    assert '<details class="confirm confirm-admin">' in page and 'class="button button-small button-secondary confirm-no"' in page
    assert page.index('<details class="confirm confirm-admin">') < page.index('name="action" value="announce"')
    client.post(admin("session", draft.pk), {"action": "remove", "item": item.pk})  # what "yes, remove" sends
    assert not AgendaItem.objects.filter(pk=item.pk).exists()

    live_session = CouncilSessionFactory(
        council=council, status=CouncilSession.Status.IN_SESSION, starts_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    open_item = AgendaItemFactory(session=live_session, position=1, title="一号议题")
    for member in council.members.all():
        Attendance.objects.create(session=live_session, member=member, method=Attendance.Method.SECRETARY)
    voting.open_voting(item=open_item, actor=staff)
    page = client.get(admin("session", live_session.pk)).content.decode()
    assert questions["close"] in page
    client.post(admin("session", live_session.pk), {"action": "close", "item": open_item.pk})  # what "yes" sends
    open_item.refresh_from_db()
    assert open_item.status == AgendaItem.Status.CLOSED
