"""A council session's flow on a 390 px phone, in Chinese and in English (issue 14): the secretary records a
member's conflict of interest in the room, the chair opens voting and watches how many have voted (a count,
never the choices), ending the session while the vote is open is refused, ending asks to be confirmed, and the
result says what it needed to pass."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from deliberation.council import services as voting
from deliberation.council.factories import CouncilFactory, CouncilMemberFactory
from deliberation.council.models import AgendaItem, Attendance, CouncilMember, CouncilSession, Recusal, Result, Vote
from deliberation.mailbox.factories import community_with_staff, resident, staff_member

from .conftest import PHONE

pytestmark = pytest.mark.browser

PASSWORD = "council-flow-2026"


def log_in(page, base, email, next_path):
    page.goto(f"{base}/zh-hans/accounts/login/?next={next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{base}{next_path}")


def phone_page(chromium):
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    context.set_default_timeout(20_000)
    return context, context.new_page()


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.fixture
def running(portal):
    """An announced hybrid session of a five-member council, with one item; not started yet."""
    community = community_with_staff(name="六和社区", code="liuhe")
    staff = staff_member(community, username="flow-staff", email="flow-staff@example.com", password=PASSWORD)
    council = CouncilFactory(community=community)
    roles = [CouncilMember.Role.CHAIR, CouncilMember.Role.SECRETARY] + [CouncilMember.Role.MEMBER] * 3
    seats = [
        CouncilMemberFactory(
            council=council,
            role=role,
            user=resident(
                community,
                display_name=f"委员{number}",
                user__username=f"flow{number}",
                user__email=f"flow{number}@example.com",
                user__password=PASSWORD,
            ),
        )
        for number, role in enumerate(roles)
    ]
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
        title="东侧空地改建停车位",
        title_en="Parking on the east lot",
        motion="同意将小区东侧空地改建为12个停车位。",
        motion_en="Turn the east lot into 12 parking spaces.",
        rule=AgendaItem.Rule.TWO_THIRDS,
        ballot=AgendaItem.Ballot.OPEN,
    )
    voting.announce_session(session=session, actor=staff)
    return {"seats": seats, "session": session, "item": item, "base": portal.url}


def test_a_session_with_a_recorded_recusal_the_voted_count_and_a_refused_early_end(running, chromium, scan):
    seats, session, item, base = running["seats"], running["session"], running["item"], running["base"]
    chair_seat, secretary_seat, members = seats[0], seats[1], seats[2:]
    live = {language: f"/{language}/me/council/sessions/{session.pk}/" for language in ("zh-hans", "en")}
    at_item = f"[data-item='{item.pk}']"
    problems = {}

    chair_context, chair = phone_page(chromium)
    log_in(chair, base, chair_seat.user.email, live["zh-hans"])
    chair.locator("[data-action=start]").click()
    assert chair.locator("[data-session-status]").get_attribute("data-session-status") == "in_session"

    # The secretary marks four members present, then records the conflict of interest of one of them.
    secretary_context, secretary = phone_page(chromium)
    log_in(secretary, base, secretary_seat.user.email, live["zh-hans"])
    for seat in (chair_seat, secretary_seat, members[0], members[1]):
        secretary.locator(f"form:has(input[name=member][value='{seat.pk}']) button").click()
    assert Attendance.objects.filter(session=session).count() == 4
    recused = members[1]
    secretary.locator(f"{at_item} details.record-recusal summary").click()
    secretary.locator(f"{at_item} details.record-recusal select[name=member]").select_option(str(recused.pk))
    secretary.locator(f"{at_item} details.record-recusal input[name=reason]").fill("施工方是我女婿")
    secretary.locator(f"{at_item} [data-action=record-recusal]").click()
    recusal_line = secretary.locator(f"{at_item} [data-recusal='{recused.pk}']")
    assert "委员3" in recusal_line.inner_text() and "施工方是我女婿" in recusal_line.inner_text()
    assert "由秘书登记" in recusal_line.inner_text()
    assert fits_the_phone(secretary)
    recusal = Recusal.objects.get(item=item)
    assert (recusal.member, recusal.recorded_by) == (recused, secretary_seat.user)
    secretary.goto(f"{base}{live['en']}")
    english_line = secretary.locator(f"{at_item} [data-recusal='{recused.pk}']").inner_text()
    assert "declared a conflict of interest" in english_line and "recorded by the secretary" in english_line
    assert fits_the_phone(secretary)
    problems["secretary's page with a recusal (en)"] = scan(secretary)

    # The recused member sees it on their own phone and has no vote on the item.
    member_context, member = phone_page(chromium)
    log_in(member, base, recused.user.email, live["zh-hans"])
    expect(member.locator(f"{at_item} [data-recused]")).to_be_visible()

    # The chair opens voting (three eligible present: four present, one recused) and sees no one has voted.
    chair.goto(f"{base}{live['zh-hans']}")
    chair.locator(f"{at_item} [data-action=open]").click()
    assert chair.locator(at_item).get_attribute("data-item-status") == "open"
    assert chair.locator(f"{at_item} [data-votes-cast]").get_attribute("data-votes-cast") == "0/3"
    assert "已投票 0 / 3" in chair.locator(f"{at_item} [data-votes-cast]").inner_text()

    # Two votes are recorded in the room; the chair's page counts them, never how they went.
    for seat, choice in ((members[0], "yes"), (secretary_seat, "no")):
        secretary.goto(f"{base}{live['zh-hans']}")
        secretary.locator(f"{at_item} details.record summary").click()
        secretary.locator(f"{at_item} details.record select[name=member]").select_option(str(seat.pk))
        secretary.locator(f"{at_item} details.record select[name=choice]").select_option(choice)
        secretary.locator(f"{at_item} details.record button[type=submit]").click()
    assert Vote.objects.filter(item=item).count() == 2
    chair.reload()
    assert "已投票 2 / 3" in chair.locator(f"{at_item} [data-votes-cast]").inner_text()
    assert chair.locator("[data-outcome]").count() == 0
    assert fits_the_phone(chair)
    problems["chair's page with the count"] = scan(chair)
    chair.goto(f"{base}{live['en']}")
    assert "Voted: 2 of 3" in chair.locator(f"{at_item} [data-votes-cast]").inner_text()

    # Ending the session while the vote is open is refused, in both languages: nothing ends.
    for language, refusal in (("zh-hans", "的表决仍在进行"), ("en", "is still open: close it first")):
        chair.goto(f"{base}{live[language]}")
        chair.locator("form.end-session input[name=confirm]").check()
        chair.locator("[data-action=end]").click()
        assert refusal in chair.locator(".message-error").first.inner_text()
        assert chair.locator("[data-session-status]").get_attribute("data-session-status") == "in_session"
        assert chair.locator(at_item).get_attribute("data-item-status") == "open"
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.IN_SESSION and not Result.objects.exists()

    # The chair closes the vote, then ends the session: first without ticking the box (nothing happens).
    chair.goto(f"{base}{live['zh-hans']}")
    chair.locator(f"{at_item} details.confirm summary").click()  # the question first
    chair.locator(f"{at_item} [data-action=close]").click()
    assert chair.locator(f"{at_item} [data-outcome]").get_attribute("data-outcome") == "failed"  # 1 yes, 1 no
    result = Result.objects.get(item=item)
    assert (result.yes, result.no, result.present, result.recused, result.members) == (1, 1, 3, 1, 4)
    # Beside the result, what it needed: two-thirds of the four members not recused.
    assert chair.locator(f"{at_item} [data-threshold]").inner_text() == "需 3 票赞成（全体 4 人的三分之二）"
    chair.locator("[data-action=end]").click()  # the box is required: the browser sends nothing
    assert chair.locator("[data-session-status]").get_attribute("data-session-status") == "in_session"
    chair.locator("form.end-session input[name=confirm]").check()
    chair.locator("[data-action=end]").click()
    assert chair.locator("[data-session-status]").get_attribute("data-session-status") == "closed"
    chair.goto(f"{base}{live['en']}")
    assert chair.locator(f"{at_item} [data-outcome]").get_attribute("data-outcome") == "failed"
    assert chair.locator(f"{at_item} [data-threshold]").inner_text() == "Needs 3 votes in favour (two-thirds of all 4 members)"
    assert fits_the_phone(chair)

    # Anyone finds the council's decisions and members from the council page.
    public_context, public = phone_page(chromium)
    for language in ("zh-hans", "en"):
        public.goto(f"{base}/{language}/council/")
        public.locator("[data-council-members] summary").click()
        assert "委员0" in public.locator("[data-council-members]").inner_text()
        assert fits_the_phone(public)
        problems[f"council page ({language})"] = scan(public)
        public.locator("[data-link=notice]").click()
        expect(public.locator("h1")).to_be_visible()
        assert fits_the_phone(public)
        problems[f"decisions in notice ({language})"] = scan(public)

    for context in (chair_context, secretary_context, member_context, public_context):
        context.close()
    assert {name: found for name, found in problems.items() if found} == {}
