"""axe-core finds no serious or critical violation on the foundation's pages, in both languages."""

import pytest
from allauth.account.models import EmailAddress

from home import factories

pytestmark = pytest.mark.browser

PASSWORD = "lantern-festival-2026"


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']]}"
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


def test_public_account_and_profile_pages_have_no_serious_violations(portal, phone):
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
    resident = factories.ResidentProfileFactory(user__email="reader@example.com", user__password=PASSWORD).user
    EmailAddress.objects.filter(user=resident).update(verified=True)
    base = portal.url
    anonymous = [
        "/zh-hans/",
        "/en/",
        "/zh-hans/notices/",
        "/en/notices/",
        notice.url,
        "/zh-hans/search/?q=垃圾",
        "/zh-hans/accounts/signup/",
        "/en/accounts/signup/",
        "/zh-hans/accounts/login/",
        "/en/accounts/login/",
    ]
    found = {}
    for path in anonymous:
        phone.goto(base + path)
        found[path] = serious_violations(phone)
    # The large-text variant of the home page.
    phone.goto(base + "/zh-hans/")
    phone.locator("header").get_by_role("button", name="大字模式").click()
    phone.wait_for_load_state()
    found["/zh-hans/ (large text)"] = serious_violations(phone)

    phone.goto(base + "/zh-hans/accounts/login/")
    phone.fill("input[name=login]", "reader@example.com")
    phone.fill("input[name=password]", PASSWORD)
    phone.locator("main button[type=submit]").click()
    phone.wait_for_url(base + "/zh-hans/me/")
    for path in ["/zh-hans/me/", "/en/me/", "/zh-hans/me/delete/"]:
        phone.goto(base + path)
        found[path] = serious_violations(phone)

    assert {path: problems for path, problems in found.items() if problems} == {}


def test_the_scan_reports_a_serious_problem_when_there_is_one(portal, phone):
    """Guards the scan itself: an image without alternative text is a critical violation."""
    phone.goto(portal.url + "/zh-hans/")
    assert serious_violations(phone) == []
    phone.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/static/none.png\">')")
    assert any(problem.startswith("image-alt") for problem in serious_violations(phone))
