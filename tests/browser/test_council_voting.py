"""A council session end to end on small phones: the chair starts it, three members check in online (each in
their own browser), quorum is reached, the chair opens voting, the three vote, the chair closes, the result
appears with its chart and the topic's letter writer is e-mailed. axe scans the member page, the public
session page and the admin pages."""

import datetime

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from deliberation.council import services as voting
from deliberation.council.factories import CouncilFactory, CouncilMemberFactory
from deliberation.council.models import AgendaItem, Attendance, CouncilMember, CouncilSession, Result, Vote
from deliberation.mailbox.factories import LetterFactory, TopicFactory, community_with_staff, resident, staff_member
from deliberation.mailbox.models import Topic

pytestmark = pytest.mark.browser

PASSWORD = "council-night-2026"
SMALL_PHONE = {"width": 360, "height": 740}


def log_in(page, base, email, next_path):
    page.goto(f"{base}/zh-hans/accounts/login/?next={next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{base}{next_path}")
    # Once more without the "signed in" banner: axe may catch it mid-animation.
    page.goto(f"{base}{next_path}")


def phone_page(chromium):
    context = chromium.new_context(viewport=SMALL_PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    context.set_default_timeout(20_000)
    return context, context.new_page()


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]


@pytest.fixture
def council_session(portal):
    community = community_with_staff(name="六和社区", code="liuhe")
    community.editors.permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    staff = staff_member(community, username="council-staff", email="staff@example.com", password=PASSWORD)
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    council = CouncilFactory(community=community)
    roles = [CouncilMember.Role.CHAIR, CouncilMember.Role.SECRETARY] + [CouncilMember.Role.MEMBER] * 3
    seats = [
        CouncilMemberFactory(
            council=council,
            role=role,
            user=resident(
                community,
                display_name=f"委员{number}",
                user__username=f"member{number}",
                user__email=f"member{number}@example.com",
                user__password=PASSWORD,
            ),
        )
        for number, role in enumerate(roles)
    ]
    writer = resident(community, display_name="写信的王先生", user__email="writer@example.com")
    topic = TopicFactory(community=community, status=Topic.Status.SHORTLISTED)
    LetterFactory(writer=writer, community=community, topic=topic, status="merged")
    starts = timezone.now() + datetime.timedelta(minutes=30)
    session = voting.create_session(
        council=council,
        actor=staff,
        title="第四季度居民议事会",
        title_en="Fourth-quarter council session",
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        mode=CouncilSession.Mode.HYBRID,
        place="党群服务中心",
    )
    item = voting.add_item(
        session=session,
        actor=staff,
        title="增设夜间临时停车位",
        motion="同意在小区东侧空地增设20个夜间临时停车位。",
        rule=AgendaItem.Rule.SIMPLE,
        ballot=AgendaItem.Ballot.OPEN,
        topic=topic,
    )
    voting.announce_session(session=session, actor=staff)
    return {"staff": staff, "seats": seats, "session": session, "item": item, "writer": writer, "base": portal.url}


def test_the_chair_runs_a_vote_and_three_members_vote_on_small_phones(council_session, chromium, scan):
    session, item, seats = council_session["session"], council_session["item"], council_session["seats"]
    base = council_session["base"]
    live_path = f"/zh-hans/me/council/sessions/{session.pk}/"
    problems = {}

    # The chair starts the session on their phone.
    chair_context, chair = phone_page(chromium)
    log_in(chair, base, seats[0].user.email, live_path)
    assert fits_the_phone(chair)
    chair.locator("[data-action=start]").click()
    assert chair.locator("[data-session-status]").get_attribute("data-session-status") == "in_session"
    assert chair.locator("[data-quorum]").get_attribute("data-quorum") == "missing"

    # Three members check in online, each on their own phone.
    members = []
    for seat in seats[2:]:
        context, page = phone_page(chromium)
        log_in(page, base, seat.user.email, live_path)
        page.locator("[data-action=here]").click()
        expect(page.locator("[data-present]")).to_be_visible()
        members.append((context, page, seat))
    problems["member page"] = scan(members[0][1])
    assert fits_the_phone(members[0][1])
    assert Attendance.objects.filter(session=session).count() == 3

    # Quorum reached (3 of 5): the chair opens voting.
    chair.goto(f"{base}{live_path}")
    assert chair.locator("[data-quorum]").get_attribute("data-quorum") == "met"
    chair.locator(f"[data-item='{item.pk}'] [data-action=open]").click()
    assert chair.locator(f"[data-item='{item.pk}']").get_attribute("data-item-status") == "open"

    # The three vote; nobody sees a count while voting is open.
    for _context, page, _seat in members:
        page.goto(f"{base}{live_path}")
        page.locator("[data-vote-form] input[value=yes]").check()
        page.locator("[data-action=vote]").click()
        expect(page.locator("[data-my-choice]")).to_be_visible()
        assert page.locator("[data-outcome]").count() == 0
    problems["member page, voted"] = scan(members[0][1])
    chair.goto(f"{base}{live_path}")
    assert chair.locator("[data-outcome]").count() == 0 and chair.locator("svg[role=img]").count() == 0
    assert Vote.objects.filter(item=item).count() == 3

    # The chair closes: the result appears with its chart; the topic's letter writer is e-mailed
    # (by followup.result_stored, which close_voting calls: the follow-up work, branch council-followup).
    sent_before = len(mail.outbox)
    chair.locator(f"[data-item='{item.pk}'] details.confirm summary").click()  # the question first, with its way back
    expect(chair.locator(f"[data-item='{item.pk}'] .confirm-question")).to_contain_text("此后任何人都不能再投票或改票")
    chair.locator(f"[data-item='{item.pk}'] [data-action=close]").click()
    outcome = chair.locator(f"[data-item='{item.pk}'] [data-outcome]")
    assert outcome.get_attribute("data-outcome") == "passed"
    expect(chair.locator(f"[data-item='{item.pk}'] svg[role=img]")).to_be_visible()
    result = Result.objects.get(item=item)
    assert (result.yes, result.no, result.abstain, result.present) == (3, 0, 0, 3)
    assert any(council_session["writer"].email in message.to for message in mail.outbox[sent_before:])
    members[0][1].goto(f"{base}{live_path}")
    assert members[0][1].locator("[data-outcome]").get_attribute("data-outcome") == "passed"
    problems["member page, result"] = scan(members[0][1])

    # The chair ends the session: the consequence is said beside a box to tick; without it nothing happens.
    chair.goto(f"{base}{live_path}")
    chair.locator("[data-action=end]").click()  # the browser asks for the box (required) and sends nothing
    assert chair.locator("[data-session-status]").get_attribute("data-session-status") == "in_session"
    assert fits_the_phone(chair)
    chair.locator("form.end-session input[name=confirm]").check()
    chair.locator("[data-action=end]").click()
    assert chair.locator("[data-session-status]").get_attribute("data-session-status") == "closed"
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.CLOSED

    # The public page shows the result to anyone.
    public_context, public = phone_page(chromium)
    public.goto(f"{base}/zh-hans/council/sessions/{session.pk}/")
    assert public.locator("[data-outcome]").get_attribute("data-outcome") == "passed"
    assert fits_the_phone(public)
    problems["public session"] = scan(public)
    public.goto(f"{base}/zh-hans/council/")
    problems["public list"] = scan(public)
    public.goto(f"{base}/en/council/sessions/{session.pk}/")
    problems["public session (en)"] = scan(public)

    # Staff's admin pages.
    admin = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    admin.set_default_timeout(20_000)
    staff_page = admin.new_page()
    log_in(staff_page, base, council_session["staff"].email, "/admin/council/")
    council_pk = session.council_id
    for path in (
        "/admin/council/",
        f"/admin/council/sessions/{session.pk}/",
        "/admin/council/councils/",
        f"/admin/council/councils/{council_pk}/",
        "/admin/council/results/",
        f"/admin/council/sessions/{session.pk}/door/",
    ):
        staff_page.goto(f"{base}{path}")
        problems[f"admin {path}"] = scan(staff_page)

    for context in (chair_context, public_context, admin, *(context for context, _page, _seat in members)):
        context.close()
    assert {name: found for name, found in problems.items() if found} == {}
