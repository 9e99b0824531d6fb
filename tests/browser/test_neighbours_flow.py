"""Neighbour help in a real browser, on phones, in both languages: a resident asks for help carrying groceries, a
neighbour offers, the requester accepts, both see each other's contact only then, both mark it done, the
helper's points and hours appear, staff see it on the dashboard; axe-core scans every page on the way."""

import pytest
from playwright.sync_api import expect

from home import factories
from home.services import create_community
from neighbours.models import Post, Response
from points.models import Account

from .test_accessibility import report

pytestmark = pytest.mark.browser

PASSWORD = "lantern-festival-2026"


def log_in(page, base: str, email: str, next_path: str) -> None:
    page.goto(f"{base}/zh-hans/accounts/login/?next={next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{base}{next_path}")


@pytest.fixture
def grid_people(portal):
    community = create_community(name="六和社区", code="liuhe", name_en="Liuhe")
    grid = factories.GridFactory(community=community, number=1, name="第1网格", name_en="Grid 1")
    requester = factories.ResidentProfileFactory(
        user__email="wang@example.com",
        user__password=PASSWORD,
        display_name="王秀英",
        mobile="13905710101",
        mobile_verified=True,
        community=community,
        grid=grid,
        birth_year=1946,
    ).user
    helper = factories.ResidentProfileFactory(
        user__email="omar@example.com",
        user__password=PASSWORD,
        display_name="Omar",
        mobile="18667100110",
        mobile_verified=True,
        community=community,
        grid=grid,
        birth_year=1988,
        preferred_language="en",
    ).user
    staff = factories.VerifiedUserFactory(email="desk@example.com", username="desk", password=PASSWORD)
    staff.groups.add(community.editors)
    return requester, helper, staff


def test_groceries_from_request_to_points_with_contacts_only_after_acceptance(portal, chromium, grid_people, scan):
    requester, helper, staff = grid_people
    base = portal.url
    found = {}
    phone_size = {"width": 390, "height": 844}
    wang = chromium.new_context(viewport=phone_size, locale="zh-CN").new_page()
    omar = chromium.new_context(viewport=phone_size, locale="en-GB").new_page()

    # 王秀英 asks for help, in Chinese, on her phone.
    log_in(wang, base, "wang@example.com", "/zh-hans/neighbours/")
    found["/zh-hans/neighbours/ (empty)"] = scan(wang)
    wang.get_by_role("link", name="我要求助").click()
    found["/zh-hans/neighbours/new/"] = scan(wang)
    wang.select_option("select[name=category]", "errands")
    wang.fill("input[name=title]", "帮忙从菜场提菜上楼")
    wang.fill("textarea[name=text]", "周六上午买了米和油，想请邻居帮忙提上四楼。")
    wang.fill("input[name=place]", "2幢楼下")
    wang.locator("main button[type=submit]").click()
    post = Post.objects.get()
    wang.wait_for_url(f"{base}/zh-hans/neighbours/posts/{post.pk}/")
    found["/zh-hans/neighbours/posts/ (poster, no answers)"] = scan(wang)

    # Omar, a neighbour of the same grid, reads the board in English and offers; no phone number yet.
    log_in(omar, base, "omar@example.com", "/en/neighbours/")
    found["/en/neighbours/"] = scan(omar)
    omar.get_by_role("link", name="帮忙从菜场提菜上楼").click()
    expect(omar.locator("main")).not_to_contain_text("13905710101")
    found["/en/neighbours/posts/ (neighbour)"] = scan(omar)
    omar.fill("textarea[name=message]", "I live in building 2, happy to help on Saturday.")
    omar.get_by_role("button", name="Send").click()
    expect(omar.locator(".message")).to_contain_text("Sent")

    # She sees his name and a masked number, accepts, and only then both numbers show.
    wang.reload()
    main = wang.locator("main")
    expect(main).to_contain_text("186****0110")
    expect(main).not_to_contain_text("18667100110")
    found["/zh-hans/neighbours/posts/ (an offer)"] = scan(wang)
    wang.get_by_role("button", name="接受").click()
    expect(wang.locator("main")).to_contain_text("18667100110")
    omar.reload()
    expect(omar.locator("main")).to_contain_text("13905710101")
    found["/en/neighbours/posts/ (accepted)"] = scan(omar)

    # Both mark it done: he with the time it took, she after him; points and hours are his.
    omar.fill("input[name=hours]", "1.5")
    omar.get_by_role("button", name="It is done").click()
    expect(omar.locator("main")).to_contain_text("waiting for your neighbour")
    wang.reload()
    wang.get_by_role("button", name="已完成").click()
    assert Response.objects.get().status == Response.Status.DONE
    account = Account.objects.get(resident=helper)
    assert account.balance == 5 and account.volunteer_hours == 1.5
    wang.fill("textarea[name=text]", "谢谢Omar，米和油都搬上来了！")
    wang.get_by_role("button", name="致谢").click()
    expect(wang.locator("main")).to_contain_text("谢谢Omar")
    omar.goto(f"{base}/en/me/points/")
    expect(omar.locator("main")).to_contain_text("5")
    for path in ("/en/me/neighbours/", "/en/me/neighbours/skills/"):
        omar.goto(base + path)
        found[path] = scan(omar)
    # Large text on the board.
    wang.goto(f"{base}/zh-hans/neighbours/")
    wang.locator("header").get_by_role("button", name="大字模式").click()
    wang.wait_for_load_state()
    assert "text-large" in wang.locator("body").get_attribute("class")
    found["/zh-hans/neighbours/ (large text)"] = scan(wang)

    # Staff see it on the dashboard.
    desk = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    log_in(desk, base, "desk@example.com", "/admin/neighbours/dashboard/")
    expect(desk.locator("main")).to_contain_text("100%")
    found["/admin/neighbours/dashboard/"] = scan(desk)
    desk.goto(f"{base}/admin/neighbours/")
    found["/admin/neighbours/"] = scan(desk)

    assert not report(found), "axe-core found serious or critical violations:\n" + report(found)
