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
# Every finite animation jumped to its end (the admin's message banners fade in): waiting for them cost 3 s a page
# in the admin, where one never ended within that time.
FINISH_ANIMATIONS = """() => {
    for (const animation of document.getAnimations()) {
        const timing = animation.effect && animation.effect.getComputedTiming();
        if (timing && timing.endTime !== Infinity) {
            try { animation.finish(); } catch (error) { /* finished meanwhile */ }
        }
    }
}"""


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


# Every visible link and button, with its text colour and the colour behind it (the first ancestor, itself
# included, that paints a background colour). Elements over a background image are left out: their
# backdrop is not one colour. axe-core files text whose colour equals its background as "needs review"
# (color-contrast, equalRatio), not as a violation, so white-on-white passed its scans: this check does not.
INK = """() => {
    const parse = (value) => (value.match(/[0-9.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => {
        const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const backdrop = (element) => {
        for (let node = element; node; node = node.parentElement) {
            const style = getComputedStyle(node);
            if (style.backgroundImage !== "none") return null;
            const colour = parse(style.backgroundColor);
            if (colour.length === 3 || (colour.length === 4 && colour[3] > 0.9)) return colour.slice(0, 3);
        }
        return [255, 255, 255];
    };
    const found = [];
    for (const element of document.querySelectorAll("a[href], button, input[type=submit], summary")) {
        const box = element.getBoundingClientRect();
        const style = getComputedStyle(element);
        if (!box.width || !box.height || style.visibility !== "visible" || Number(style.opacity) === 0) continue;
        if (!(element.innerText || element.value || "").trim()) continue;
        const back = backdrop(element);
        if (!back) continue;
        const ink = parse(style.color).slice(0, 3);
        const [light, dark] = [luminance(ink), luminance(back)].sort((a, b) => b - a);
        const ratio = (light + 0.05) / (dark + 0.05);
        if (ratio < 1.5) {
            found.push(`${element.tagName.toLowerCase()} "${(element.innerText || element.value).trim().slice(0, 40)}"`
                + ` colour ${style.color} on ${back} (${ratio.toFixed(2)}:1)`);
        }
    }
    return found;
}"""


@pytest.fixture
def scan():
    """axe-core run on the page as it is now: its serious and critical violations, one line each; then
    every visible link or button whose text is (nearly) the colour of its background."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        skip_or_fail("the axe-playwright-python package is not installed (requirements-dev.txt)")
    axe = Axe()

    def invisible(node) -> bool:
        return any(
            isinstance(check.get("data"), dict) and check["data"].get("messageKey") == "equalRatio" for check in node["any"]
        )

    def serious_violations(page) -> list[str]:
        # Finite CSS animations end first, so that axe measures colours as people see them, not half-way
        # through a fade.
        page.evaluate(FINISH_ANIMATIONS)
        response = axe.run(page).response
        problems = [
            f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']]}"
            for violation in response["violations"]
            if violation["impact"] in {"serious", "critical"}
        ]
        # Text exactly the colour of its background is invisible, which axe calls "needs review".
        problems += [
            f"color-contrast (1:1, invisible): {[node['target'] for node in item['nodes'] if invisible(node)]}"
            for item in response["incomplete"]
            if item["id"] == "color-contrast" and any(invisible(node) for node in item["nodes"])
        ]
        problems += [f"invisible text: {line}" for line in page.evaluate(INK)]
        return problems

    return serious_violations


# Every QR code on the page (class "qr": an <img> or inline <svg>, see plumbing/qr.py), drawn onto a canvas the
# way the browser renders it and read back with jsQR, the decoder the check-in page uses.
READ_QR_CODES = """async () => {
    const found = [];
    for (const element of document.querySelectorAll(".qr")) {
        const image = new Image();
        if (element.tagName.toLowerCase() === "img") {
            image.src = element.currentSrc || element.src;
        } else {
            const markup = new XMLSerializer().serializeToString(element);
            image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(markup);
        }
        const box = element.getBoundingClientRect();
        let loaded = true;
        try { await image.decode(); } catch (error) { loaded = false; }
        let text = null;
        if (loaded && image.naturalWidth > 0) {
            const canvas = document.createElement("canvas");
            canvas.width = canvas.height = 400;
            const context = canvas.getContext("2d");
            context.fillStyle = "#fff";
            context.fillRect(0, 0, 400, 400);
            context.imageSmoothingEnabled = false;
            context.drawImage(image, 20, 20, 360, 360);
            const pixels = context.getImageData(0, 0, 400, 400);
            const code = window.jsQR(pixels.data, 400, 400);
            text = code ? code.data : null;
        }
        const shown = element.tagName.toLowerCase() === "img" ? element.complete && element.naturalWidth > 0 : true;
        found.push({tag: element.tagName.toLowerCase(), visible: box.width > 0 && box.height > 0, shown, text});
    }
    return found;
}"""


@pytest.fixture
def read_qr_codes():
    """The QR codes on the page as a person's phone would read them: [{tag, visible, shown, text}]."""
    from django.conf import settings

    source = (settings.BASE_DIR / "site" / "static" / "vendor" / "jsqr" / "jsQR.js").read_text()

    def read(page) -> list[dict]:
        page.evaluate(source)  # evaluated by the browser's debugger: the page's CSP does not apply
        return page.evaluate(READ_QR_CODES)

    return read
