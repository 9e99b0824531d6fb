"""axe-core finds no serious or critical violation on the foundation's pages, in both languages."""

import pytest
from allauth.account.models import EmailAddress
from wagtail.models import Locale

from events.services import add_household_member
from home import factories

pytestmark = pytest.mark.browser

PASSWORD = "lantern-festival-2026"


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{path}: {problem}" for path, problems in found.items() for problem in problems)


def test_public_account_and_profile_pages_have_no_serious_violations(portal, phone, scan):
    notice = factories.notice(title="垃圾分类督导志愿者招募", summary="每周六上午在投放点值守。")
    factories.translate(
        notice,
        strings={
            "垃圾分类督导志愿者招募": "Garbage-sorting volunteers wanted",
            notice.slug: notice.slug,
            "每周六上午在投放点值守。": "Saturday mornings at the collection points.",
            "欢迎居民报名参加。": "Residents are welcome to sign up.",
        },
    )
    english_notice = notice.get_translation(Locale.objects.get(language_code="en"))
    resident = factories.ResidentProfileFactory(user__email="reader@example.com", user__password=PASSWORD).user
    EmailAddress.objects.filter(user=resident).update(verified=True)
    add_household_member(resident=resident, name="王小明", birth_year=1950, relation="parent", guardian_consent=False)
    base = portal.url
    anonymous = [
        "/zh-hans/",
        "/en/",
        "/zh-hans/notices/",
        "/en/notices/",
        notice.url,
        english_notice.url,
        "/zh-hans/search/?q=垃圾",
        "/zh-hans/accounts/signup/",
        "/en/accounts/signup/",
        "/zh-hans/accounts/login/",
        "/en/accounts/login/",
    ]
    found = {}
    for path in anonymous:
        phone.goto(base + path)
        found[path] = scan(phone)
    # The large-text variant of the home page.
    phone.goto(base + "/zh-hans/")
    phone.locator("header").get_by_role("button", name="大字模式").click()
    phone.wait_for_load_state()
    assert "text-large" in phone.locator("body").get_attribute("class")
    found["/zh-hans/ (large text)"] = scan(phone)

    phone.goto(base + "/zh-hans/accounts/login/")
    phone.fill("input[name=login]", "reader@example.com")
    phone.fill("input[name=password]", PASSWORD)
    phone.locator("main button[type=submit]").click()
    phone.wait_for_url(base + "/zh-hans/me/")
    for path in ["/zh-hans/me/", "/en/me/", "/zh-hans/me/delete/", "/zh-hans/me/household/", "/en/me/household/"]:
        phone.goto(base + path)
        assert phone.url == base + path  # still logged in: the profile itself was scanned
        found[path] = scan(phone)

    assert not report(found), "axe-core found serious or critical violations:\n" + report(found)


def test_the_scan_reports_a_serious_problem_when_there_is_one(portal, phone, scan):
    """Guards the scan itself: an image without alternative text is a critical violation."""
    phone.goto(portal.url + "/zh-hans/")
    assert scan(phone) == []
    phone.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/static/none.png\">')")
    assert any(problem.startswith("image-alt (critical)") for problem in scan(phone))


def test_the_scan_reports_text_the_colour_of_its_background(portal, phone, scan):
    """White on white is 1:1, which axe-core only marks "needs review": the scan reports it all the same."""
    phone.goto(portal.url + "/zh-hans/")
    # Styles set through the DOM: the page's Content-Security-Policy refuses inline style attributes.
    phone.evaluate(
        """() => {
            const main = document.querySelector("main");
            const button = main.appendChild(document.createElement("button"));
            button.textContent = "移除";
            Object.assign(button.style, {background: "none", color: "#fff"});
            const link = main.appendChild(document.createElement("a"));
            link.href = "/";
            link.textContent = "更多";
            link.style.color = "#fefefe";
        }"""
    )
    problems = scan(phone)
    assert any(problem.startswith("color-contrast (1:1, invisible)") for problem in problems), problems
    assert any('button "移除"' in problem for problem in problems)
    assert any('a "更多"' in problem for problem in problems)
