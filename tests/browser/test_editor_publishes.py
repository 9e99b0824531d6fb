"""An editor logs into the Wagtail admin, writes a notice, publishes it: it is on the home page at once."""

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from home import factories
from home.models import NoticePage

pytestmark = pytest.mark.browser

PASSWORD = "editor-password-for-tests"


def test_editor_publishes_a_notice_that_appears_on_the_home_page_at_once(portal, chromium):
    admin = factories.UserFactory(
        username="admin", email="admin@example.com", is_staff=True, is_superuser=True, password=PASSWORD
    )
    EmailAddress.objects.create(user=admin, email=admin.email, verified=True, primary=True)
    index = factories.notice_index()
    base = portal.url
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(20_000)
    page = context.new_page()

    # An anonymous visitor's home page, now in the page cache, before the notice exists.
    visitor = chromium.new_context(locale="zh-CN").new_page()
    visitor.goto(f"{base}/zh-hans/")
    assert visitor.get_by_text("电梯检修通知").count() == 0
    assert visitor.request.get(f"{base}/zh-hans/").headers["x-page-cache"] == "hit"

    # /admin/ leads to the site's login page; after it, the Wagtail dashboard.
    page.goto(f"{base}/admin/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=login]", admin.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{base}/admin/")

    # Write the notice in the page editor and publish it.
    page.goto(f"{base}/admin/pages/add/home/noticepage/{index.pk}/")
    page.fill("input[name=title]", "电梯检修通知")
    page.fill("[name=summary]", "3幢电梯周三停运检修。")
    # Wagtail fills the slug from the title in the browser; publish only once it has.
    page.wait_for_function("document.querySelector('input[name=slug]').value !== ''")
    # "Publish" sits in the dropdown of the footer's action button ("Save draft").
    page.locator(".w-dropdown-button .w-dropdown__toggle").click()
    page.locator("button[name=action-publish]").click()
    page.wait_for_url(f"{base}/admin/pages/{index.pk}/")
    published = NoticePage.objects.get(title="电梯检修通知")
    assert published.live and published.get_parent().specific == index
    assert published.summary == "3幢电梯周三停运检修。"

    # The anonymous visitor sees it at once: publishing emptied the page cache.
    visitor.reload()
    expect(visitor.get_by_role("link", name="电梯检修通知")).to_be_visible()
    visitor.context.close()
    context.close()
