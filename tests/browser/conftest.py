"""A real Chromium (Debian's) driven by Playwright against pytest-django's live server.

The browser tests run on SQLite (what `make run` serves) and are skipped on PostgreSQL: they check what
a person sees and does, while every rule behind those pages (bookings, votes, points, letters) is tested
on both databases by the services' and views' own tests. LINLI_BROWSER_ON_POSTGRES=1 runs them there too.
"""

import os
import shutil

import pytest

from conftest import skip_or_fail

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PHONE = {"width": 390, "height": 844}
FINISH_ANIMATIONS = """() => Promise.race([
    Promise.all(document.getAnimations()
        .filter((animation) => animation.effect && animation.effect.getComputedTiming().endTime !== Infinity)
        .map((animation) => animation.finished.catch(() => null))),
    new Promise((resolve) => setTimeout(resolve, 3000)),
])"""


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" or os.environ.get("LINLI_BROWSER_ON_POSTGRES"):
        return
    skip = pytest.mark.skip(reason="browser tests run on SQLite (CI time); LINLI_BROWSER_ON_POSTGRES=1 runs them here too")
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed (requirements-dev.txt)")
    if not shutil.which(CHROMIUM):
        skip_or_fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    # Playwright's sync API keeps an asyncio loop marked as running in the test thread for as long
    # as it is open; Django then refuses ORM calls from that thread (SynchronousOnlyOperation)
    # although nothing here is async. Allow them exactly while the browser is open.
    with pytest.MonkeyPatch.context() as env, sync_playwright() as playwright:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def phone(chromium):
    """A fresh phone-sized browser tab with no cookies."""
    context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def portal(transactional_db, live_server, settings):
    """The live portal with its locales, home pages, privacy pages and a few notices."""
    from django.core.cache import cache

    # Links in mail and QR codes lead to the live server, as they lead to `make run`'s port.
    settings.PORTAL_BASE_URL = settings.WAGTAILADMIN_BASE_URL = live_server.url

    from home import factories, services
    from home.models import PortalSettings

    services.ensure_site()
    PortalSettings.load()  # made on first use otherwise, and its creation would empty the page cache
    zh_privacy = factories.standard_page(title="隐私告知书", slug="privacy", show_in_menus=True)
    factories.translate(zh_privacy, strings={"隐私告知书": "Privacy notice", "privacy": "privacy"})
    index = factories.notice_index()
    factories.translate(index, strings={"通知公告": "Notices", "notices": "notices"})
    cache.clear()
    return live_server


@pytest.fixture
def scan():
    """axe-core run on the page as it is now: its serious and critical violations, one line each."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        skip_or_fail("the axe-playwright-python package is not installed (requirements-dev.txt)")
    axe = Axe()

    def serious_violations(page) -> list[str]:
        # Let finite CSS animations (the admin's message banners fade in) end first, so that
        # axe measures colours as people see them, not half-way through a fade.
        page.evaluate(FINISH_ANIMATIONS)
        violations = axe.run(page).response["violations"]
        return [
            f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']]}"
            for violation in violations
            if violation["impact"] in {"serious", "critical"}
        ]

    return serious_violations
