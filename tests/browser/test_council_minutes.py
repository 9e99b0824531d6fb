"""The council's follow-up end to end on phones: the secretary edits the minutes, two members confirm,
the secretary publishes, the public minutes show in both languages; a resident objects to the decision;
axe scans the minutes, decision and progress pages."""

import datetime

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.core import mail
from django.utils import timezone

from deliberation.council.factories import AgendaItemFactory, CouncilFactory, CouncilMemberFactory
from deliberation.council.models import CouncilMember, CouncilSession
from deliberation.followup import services as followup
from deliberation.followup.models import Decision, MinutesConfirmation, Objection
from deliberation.followup.tests.followup_support import decide, held_session
from deliberation.mailbox.factories import TopicFactory, community_with_staff, resident, staff_member
from deliberation.mailbox.models import Topic

from .conftest import PHONE
from .test_accessibility import report

pytestmark = pytest.mark.browser

PASSWORD = "lantern-festival-2026"


def log_in(page, base, email, next_path):
    page.goto(f"{base}/zh-hans/accounts/login/?next={next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{base}{next_path}")


def new_phone(chromium):
    context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(15_000)
    return context, context.new_page()


def test_minutes_are_edited_confirmed_and_published_and_a_resident_objects(portal, phone, chromium, scan):
    community = community_with_staff(name="六和社区", code="liuhe")
    council = CouncilFactory(community=community, notice_days=5)
    roles = [CouncilMember.Role.CHAIR, CouncilMember.Role.SECRETARY, CouncilMember.Role.MEMBER, CouncilMember.Role.MEMBER]
    members = [
        CouncilMemberFactory(
            council=council,
            role=role,
            user=resident(
                community, display_name=f"委员{number}", user__email=f"member{number}@example.com", user__password=PASSWORD
            ),
        )
        for number, role in enumerate(roles)
    ]
    session = held_session(council, present=3)  # the chair, the secretary and one member
    topic = TopicFactory(community=community, status=Topic.Status.SCHEDULED)
    decision = decide(AgendaItemFactory(session=session, topic=topic, position=1), actor=members[0].user)
    followup.generate_minutes(session=session, actor=members[0].user)
    staff = staff_member(community, username="staff-liuhe")
    # A decision already in effect, being carried out, for the progress page.
    earlier = decide(
        AgendaItemFactory(session=held_session(council, present=3), position=1, title="更换路灯", title_en="New street lights")
    )
    Decision.objects.filter(pk=earlier.pk).update(status=Decision.Status.IN_EFFECT, effective_at=timezone.now())
    action = followup.add_action(
        decision=earlier,
        actor=staff,
        description="更换东区路灯",
        description_en="Replace the east side's lights",
        party="street_office",
        due_on=timezone.localdate() + datetime.timedelta(days=14),
    )
    followup.report_progress(action=action, actor=staff, progress=40, note="已采购", note_en="Bought")
    base = portal.url
    minutes_path = f"/zh-hans/me/council/sessions/{session.pk}/minutes/"
    problems = {}

    # The secretary edits both languages on a phone.
    log_in(phone, base, members[1].user.email, minutes_path)
    problems["minutes (secretary)"] = scan(phone)
    phone.fill("textarea[name=body]", "## 会议纪要\n\n会议同意在东侧空地增设**20个**夜间停车位。")
    phone.fill("textarea[name=body_en]", "## Minutes\n\nThe council agreed to **20** night-time parking bays.")
    phone.locator("form.minutes-form button[type=submit]").click()
    phone.wait_for_load_state()
    assert "20个" in phone.locator(".minutes-draft").inner_text()

    # Two members present confirm on their phones.
    for seat in (members[0], members[2]):
        context, page = new_phone(chromium)
        log_in(page, base, seat.user.email, minutes_path)
        problems[f"minutes ({seat.role})"] = scan(page)
        page.locator(f"details:has(form[action='{minutes_path}confirm/']) summary").click()  # the question first
        page.locator(f"form[action='{minutes_path}confirm/'] button").click()
        page.wait_for_load_state()
        assert page.locator(f"form[action='{minutes_path}confirm/']").count() == 0
        context.close()
    assert MinutesConfirmation.objects.filter(session=session).count() == 2

    # The secretary publishes.
    phone.goto(base + minutes_path)
    assert "2" in phone.locator("#confirmation-count").inner_text()
    phone.locator(f"details:has(form[action='{minutes_path}publish/']) summary").click()  # the question first
    phone.locator(f"form[action='{minutes_path}publish/'] button").click()
    phone.wait_for_load_state()
    session.refresh_from_db()
    assert session.status == CouncilSession.Status.MINUTES_PUBLISHED

    # The public minutes, in both languages, for anyone.
    zh_page, en_page = followup.minutes_pages(session)
    zh_page.refresh_from_db()
    en_page.refresh_from_db()
    visitor, page = new_phone(chromium)
    page.goto(base + zh_page.url)
    assert "20个" in page.locator("main").inner_text()
    problems["public minutes (zh)"] = scan(page)
    page.goto(base + en_page.url)
    assert "night-time parking bays" in page.locator("main").inner_text()
    problems["public minutes (en)"] = scan(page)
    page.goto(base + zh_page.get_parent().url)
    problems["minutes index"] = scan(page)
    for path in ("/zh-hans/council/progress/", "/en/council/progress/", f"/en/council/decisions/{earlier.pk}/"):
        page.goto(base + path)
        problems[path] = scan(page)
    assert "Replace the east side's lights" in page.locator("main").inner_text()
    visitor.close()

    # A resident objects to the decision during its notice period.
    neighbour = resident(community, user__email="neighbour@example.com", user__password=PASSWORD)
    context, page = new_phone(chromium)
    decision_path = f"/zh-hans/council/decisions/{decision.pk}/"
    log_in(page, base, neighbour.email, decision_path)
    problems["decision page"] = scan(page)
    page.fill("textarea[name=text]", "夜间车位离住宅太近，请考虑噪音。")
    page.locator(f"form[action='{decision_path}objection/'] button").click()
    page.wait_for_load_state()
    problems["decision page after objecting"] = scan(page)
    context.close()
    objection = Objection.objects.get()
    assert objection.resident == neighbour and objection.decision == decision

    # Staff see the decision flagged in the admin and answer the objection there.
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    staff.set_password(PASSWORD)
    staff.save()
    community.editors.permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    admin = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    staff_page = admin.new_page()
    staff_page.set_default_timeout(15_000)
    log_in(staff_page, base, staff.email, "/admin/council-follow-up/")
    staff_page.goto(f"{base}/admin/council-follow-up/")  # once more, without the fading "signed in" banner
    assert "1" in staff_page.locator("main .overdue").first.inner_text()
    problems["admin decisions"] = scan(staff_page)
    staff_page.goto(f"{base}/admin/council-follow-up/{decision.pk}/")
    problems["admin decision"] = scan(staff_page)
    staff_page.fill(f"#id_answer_{objection.pk}", "夜间车位设在远离住宅的一侧。")
    staff_page.locator(f"form:has(#id_answer_{objection.pk}) input[name=confirm]").check()  # the answer is final
    staff_page.locator("button[name=action][value=answer]").click()
    staff_page.wait_for_load_state()
    staff_page.goto(f"{base}/admin/council-follow-up/minutes/")
    problems["admin minutes"] = scan(staff_page)
    admin.close()
    objection.refresh_from_db()
    assert objection.answered_by == staff
    assert any(message.to == [neighbour.email] for message in mail.outbox)

    problems = {path: found for path, found in problems.items() if found}
    assert not problems, report(problems)
