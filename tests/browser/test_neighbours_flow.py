"""Grid QR codes and neighbour help in a real browser, in both languages (the "done when" of issue 18): staff print
a grid's QR poster; a newcomer opens its link on a phone and signs up into that grid with their mobile number, asks
for help carrying groceries (in Chinese); a neighbour of the grid sees it on the grid's page and offers (in English);
the requester accepts, and only then do both see each other's number (masked before, on both sides); both mark it
done; the helper's points and hours appear on their points page; staff see it on the dashboard. axe-core scans
every page on the way. One flow, each side in its own language, so that the file stays under a minute."""

import re

import pytest
from playwright.sync_api import expect

from home import factories
from home.models import GridJoinCode, ResidentProfile
from home.services import create_community
from neighbours.models import Post, Response
from outbox import sms
from points.models import Account

from .conftest import PHONE
from .test_accessibility import report

pytestmark = pytest.mark.browser

PASSWORD = "lantern-festival-2026"
NEWCOMER = "13905710101"
HELPER = "18667100110"


def log_in(page, base: str, email: str, next_path: str) -> None:
    page.goto(f"{base}/zh-hans/accounts/login/?next={next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{base}{next_path}")


def code_texted_to(number: str) -> str:
    codes = [
        message["params"]["code"] for message in sms.sent if message["to"] == number and message["kind"] == "account.phone_code"
    ]
    assert codes, f"no code texted to {number}: {sms.sent}"
    return codes[-1]


@pytest.fixture
def grid_people(portal):
    community = create_community(name="六和社区", code="liuhe", name_en="Liuhe")
    grid = factories.GridFactory(community=community, number=1, name="第1网格", name_en="Grid 1")
    factories.GridFactory(community=community, number=2, name="第2网格", name_en="Grid 2")
    helper = factories.ResidentProfileFactory(
        user__email="omar@example.com",
        user__password=PASSWORD,
        display_name="Omar",
        mobile=HELPER,
        mobile_verified=True,
        community=community,
        grid=grid,
        birth_year=1988,
        preferred_language="en",
    ).user
    staff = factories.VerifiedUserFactory(email="desk@example.com", username="desk", password=PASSWORD)
    staff.groups.add(community.editors)
    return grid, helper, staff


def test_from_the_grid_poster_to_groceries_carried_with_contacts_only_after_acceptance(
    portal, chromium, grid_people, scan, read_qr_codes
):
    grid, helper, staff = grid_people
    base = portal.url
    found = {}

    # Staff print the grid's poster: both names, the QR code of the join link, the link as text.
    desk = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    log_in(desk, base, "desk@example.com", "/admin/grids/")
    found["/admin/grids/"] = scan(desk)
    poster_link = desk.locator(f"main a[href$='/admin/grids/{grid.pk}/poster/']")
    expect(poster_link).to_have_count(1)
    desk.goto(base + poster_link.get_attribute("href"))
    code = GridJoinCode.objects.get(grid=grid, retired_at__isnull=True)
    join_link = f"{base}/zh-hans/grids/join/{code.token}/"
    poster = desk.locator("svg.poster")
    for text in ("六和社区 · Liuhe", "第1网格", "Grid 1", join_link):
        expect(poster.locator("text", has_text=text)).to_have_count(1)
    assert [qr["text"] for qr in read_qr_codes(desk)] == [join_link]
    svg = desk.request.get(f"{base}/admin/grids/{grid.pk}/poster.svg")
    assert svg.ok and svg.headers["content-type"].startswith("image/svg+xml") and join_link in svg.text()

    # A newcomer scans it on her phone and signs up with her mobile number: the account joins that grid.
    wang = chromium.new_context(viewport=PHONE, locale="zh-CN").new_page()
    wang.goto(join_link)
    expect(wang.get_by_role("heading", level=1)).to_have_text("第1网格")
    found["/zh-hans/grids/join/ (visitor)"] = scan(wang)
    wang.locator("main").get_by_role("link", name="注册").click()
    expect(wang.locator("main")).to_contain_text("第1网格")
    wang.fill("input[name=phone]", NEWCOMER)
    wang.fill("input[name=password1]", PASSWORD)
    wang.fill("input[name=password2]", PASSWORD)
    wang.check("input[name=privacy_consent]")
    wang.locator("main button[type=submit]").click()
    wang.wait_for_url(re.compile(r".*/accounts/phone/verify/$"))
    wang.fill("input[name=code]", code_texted_to(NEWCOMER))
    wang.get_by_role("button", name="确认").click()
    wang.wait_for_url(re.compile(r".*/(me|grids/join/[\w-]+)/$"))
    profile = ResidentProfile.objects.get(mobile=NEWCOMER)
    assert (profile.community_id, profile.grid_id, profile.mobile_verified) == (grid.community_id, grid.pk, True)
    requester = profile.user

    # She asks for help carrying groceries, in Chinese.
    wang.goto(f"{base}/zh-hans/neighbours/")
    found["/zh-hans/neighbours/ (empty)"] = scan(wang)
    wang.get_by_role("link", name="我要求助").click()
    found["/zh-hans/neighbours/new/"] = scan(wang)
    wang.select_option("select[name=category]", "errands")
    wang.fill("input[name=title]", "帮忙从菜场提菜上楼")
    wang.fill("textarea[name=text]", "周六上午买了米和油，想请邻居帮忙提上四楼。")
    wang.fill("input[name=place]", "2幢楼下")
    wang.locator("main button[type=submit]").click()
    post = Post.objects.get()
    assert post.author == requester and post.grid_id == grid.pk
    wang.wait_for_url(f"{base}/zh-hans/neighbours/posts/{post.pk}/")
    found["/zh-hans/neighbours/posts/ (poster, no answers)"] = scan(wang)
    wang.goto(f"{base}/zh-hans/grids/{grid.pk}/")
    expect(wang.locator("#neighbour-help-heading")).to_have_text("邻里互助")
    expect(wang.locator("main")).to_contain_text("帮忙从菜场提菜上楼")

    # Omar, a neighbour of the same grid, finds it on the grid's page in English and offers; her number is masked.
    omar = chromium.new_context(viewport=PHONE, locale="en-GB").new_page()
    log_in(omar, base, "omar@example.com", f"/en/grids/{grid.pk}/")
    expect(omar.locator("#neighbour-help-heading")).to_have_text("Neighbour help")
    found["/en/grids/<id>/ (an open request)"] = scan(omar)
    omar.locator("main").get_by_role("link", name="帮忙从菜场提菜上楼").click()
    omar.wait_for_url(f"{base}/en/neighbours/posts/{post.pk}/")
    found["/en/neighbours/posts/ (neighbour)"] = scan(omar)
    omar.fill("textarea[name=message]", "I live in building 2, happy to help on Saturday.")
    omar.get_by_role("button", name="Send").click()
    expect(omar.locator(".message")).to_contain_text("Sent")
    main = omar.locator("main")
    expect(main).to_contain_text("139****0101")
    expect(main).not_to_contain_text(NEWCOMER)

    # She sees his name and a masked number, accepts, and only then both numbers show, on both sides.
    wang.goto(f"{base}/zh-hans/neighbours/posts/{post.pk}/")
    main = wang.locator("main")
    expect(main).to_contain_text("Omar")
    expect(main).to_contain_text("186****0110")
    expect(main).not_to_contain_text(HELPER)
    found["/zh-hans/neighbours/posts/ (an offer)"] = scan(wang)
    wang.get_by_role("button", name="接受").click()
    expect(wang.locator(f"main a[href='tel:{HELPER}']")).to_have_count(1)
    omar.reload()
    expect(omar.locator(f"main a[href='tel:{NEWCOMER}']")).to_have_count(1)
    found["/en/neighbours/posts/ (accepted)"] = scan(omar)

    # Both mark it done: he with the time it took, she after him; the points and hours are his.
    omar.fill("input[name=hours]", "1.5")
    omar.get_by_role("button", name="It is done").click()
    expect(omar.locator("main")).to_contain_text("waiting for your neighbour")
    wang.reload()
    wang.get_by_role("button", name="已完成").click()
    expect(wang.locator("textarea[name=text]")).to_be_visible()
    assert Response.objects.get().status == Response.Status.DONE
    account = Account.objects.get(resident=helper)
    assert account.balance == 5 and account.volunteer_hours == 1.5
    wang.fill("textarea[name=text]", "谢谢Omar，米和油都搬上来了！")
    wang.get_by_role("button", name="致谢").click()
    expect(wang.locator("main")).to_contain_text("谢谢Omar")
    omar.goto(f"{base}/en/me/points/")
    expect(omar.locator(".points-balance")).to_have_text("5 points")
    expect(omar.locator(".points-summary")).to_contain_text("Volunteer hours: 1.5")
    omar.goto(f"{base}/en/me/neighbours/")
    found["/en/me/neighbours/"] = scan(omar)
    # Large text on the board.
    wang.goto(f"{base}/zh-hans/neighbours/")
    wang.locator("header").get_by_role("button", name="大字模式").click()
    wang.wait_for_load_state()
    assert "text-large" in wang.locator("body").get_attribute("class")
    found["/zh-hans/neighbours/ (large text)"] = scan(wang)

    # Staff see it on the dashboard.
    desk.goto(f"{base}/admin/neighbours/dashboard/")
    expect(desk.locator("main")).to_contain_text("100%")
    expect(desk.locator("main")).to_contain_text("第1网格")
    found["/admin/neighbours/dashboard/"] = scan(desk)

    assert not report(found), "axe-core found serious or critical violations:\n" + report(found)
