"""The mailbox end to end: a resident writes, an e-mail letter arrives over IMAP, staff merge both
into one topic, the resident sees the timeline and gets the mails; axe scans each resident page."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.core import mail

from deliberation.conftest import EML, dovecot  # noqa: F401  (the fixture: a real Dovecot on loopback)
from deliberation.mailbox import fetching
from deliberation.mailbox.factories import community_with_staff, resident, staff_member
from deliberation.mailbox.models import CommunityMailbox, Letter, Topic

from .test_accessibility import report

pytestmark = pytest.mark.browser

PASSWORD = "lantern-festival-2026"


def log_in(page, base, email, next_path):
    page.goto(f"{base}/zh-hans/accounts/login/?next={next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{base}{next_path}")


def test_a_letter_and_an_email_merge_into_one_topic_and_the_writer_follows_it(portal, phone, chromium, scan, dovecot):  # noqa: F811
    community = community_with_staff(name="六和社区", code="liuhe")
    CommunityMailbox.objects.create(community=community, address="liuhe@mailbox.linli.localhost")
    writer = resident(community, display_name="李阿姨", user__email="writer@example.com", user__password=PASSWORD)
    staff = staff_member(community, email="staff@example.com", password=PASSWORD)
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    community.editors.permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    base = portal.url
    problems = {}

    # A resident writes a letter on the phone and gets a tracking number.
    log_in(phone, base, writer.email, "/zh-hans/mailbox/write/")
    problems["/zh-hans/mailbox/write/"] = scan(phone)
    phone.fill("input[name=subject]", "东门停车场晚上没有车位")
    phone.fill("textarea[name=body]", "每天晚上七点以后东门停车场就满了，希望增加车位。")
    phone.select_option("select[name=category]", "parking")
    phone.get_by_label("可匿名摘要后公开").check()
    phone.get_by_role("button", name="发送来信").click()
    number = phone.locator("#tracking-number").inner_text()
    problems["letter sent"] = scan(phone)
    web_letter = Letter.objects.get(tracking_number=number)
    assert web_letter.writer == writer and web_letter.community == community
    assert number in mail.outbox[-1].subject and mail.outbox[-1].to == ["writer@example.com"]

    # An e-mail letter arrives from the IMAP server.
    folder = dovecot.new_folder("Browser")
    dovecot.append(folder, (EML / "01_utf8_plain.eml").read_bytes())
    assert fetching.fetch_mail(account=dovecot.account(folder)).letters == 1
    email_letter = Letter.objects.get(channel="email")
    assert mail.outbox[-1].to == ["li.ayi@example.cn"]

    # Staff merge both into one topic in the admin (a second tab, their own session).
    admin = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    staff_page = admin.new_page()
    staff_page.set_default_timeout(15_000)
    log_in(staff_page, base, staff.email, "/admin/mailbox/")
    # Once more without the "signed in" banner: axe may catch it mid-animation (Wagtail's, not ours).
    staff_page.goto(f"{base}/admin/mailbox/")
    problems["admin inbox"] = scan(staff_page)
    staff_page.get_by_role("link", name=web_letter.tracking_number).click()
    problems["admin letter"] = scan(staff_page)
    staff_page.get_by_role("button", name="新建议题并并入").click()
    staff_page.wait_for_load_state()
    topic = Topic.objects.get()
    staff_page.goto(f"{base}/admin/mailbox/letters/{email_letter.pk}/")
    similar = staff_page.locator("#similar-heading").locator("..")
    similar.get_by_role("button", name="并入此议题").first.click()
    staff_page.wait_for_load_state()
    staff_page.goto(f"{base}/admin/mailbox/topics/{topic.pk}/")
    problems["admin topic"] = scan(staff_page)
    for path in ("/admin/mailbox/dashboard/", "/admin/mailbox/topics/", "/admin/mailbox/hotline/", "/admin/mailbox/new/"):
        staff_page.goto(base + path)
        problems["admin " + path] = scan(staff_page)
    staff_page.goto(f"{base}/admin/mailbox/topics/{topic.pk}/")
    staff_page.fill("textarea[name=summary]", "多位居民反映晚间东门停车位不足。")
    staff_page.get_by_role("button", name="审核并公开").click()
    staff_page.wait_for_load_state()
    admin.close()
    assert set(topic.letters.all()) == {web_letter, email_letter}

    # The resident sees the timeline and got one mail per step, in Chinese.
    phone.goto(f"{base}/zh-hans/me/letters/")
    problems["/zh-hans/me/letters/"] = scan(phone)
    phone.get_by_role("link", name="东门停车场晚上没有车位").click()
    timeline = phone.locator("ol.timeline").inner_text()
    assert "已收到" in timeline and "已与同类来信一并办理" in timeline and topic.title in timeline
    problems["letter page"] = scan(phone)
    to_writer = [message.subject for message in mail.outbox if message.to == ["writer@example.com"]]
    assert to_writer == [f"您的来信 {number}：已收到", f"您的来信 {number}：已与同类来信一并办理"]
    to_sender = [message.subject for message in mail.outbox if message.to == ["li.ayi@example.cn"]]
    assert len(to_sender) == 2 and to_sender[1].endswith("已与同类来信一并办理")

    # The public topic: listed, supported, in both languages.
    for path in ("/zh-hans/mailbox/", "/en/mailbox/", f"/zh-hans/mailbox/topics/{topic.pk}/", f"/en/mailbox/topics/{topic.pk}/"):
        phone.goto(base + path)
        problems[path] = scan(phone)
    # The writer's letter already counts for the topic: a neighbour supports it.
    phone.goto(f"{base}/zh-hans/mailbox/topics/{topic.pk}/")
    assert "您就这个议题写过信" in phone.locator("main").inner_text()
    assert phone.get_by_role("button", name="附议该议题").count() == 0
    neighbour = resident(community, display_name="张先生", user__email="zhang@example.com", user__password=PASSWORD)
    phone.context.clear_cookies()
    log_in(phone, base, neighbour.email, f"/zh-hans/mailbox/topics/{topic.pk}/")
    phone.get_by_role("button", name="附议该议题").click()
    assert "感谢附议" in phone.locator("main").inner_text() or "感谢附议" in phone.content()
    assert topic.supports.count() == 1
    problems = {path: found for path, found in problems.items() if found}
    assert not problems, report(problems)
