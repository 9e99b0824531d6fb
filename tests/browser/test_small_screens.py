"""No page scrolls sideways on a 320 px phone, in either language and text size, and every control is big
enough to tap (44 × 44 CSS px) — on every page a resident reaches from the home page (issue 15, items 25–27).

The crawl follows the links of the demo street as a logged-in resident: at most MAX_PATHS paths found in
Chinese, each checked in Chinese and English, with normal and large text (the linli_text cookie).

Exempt from the tap-target size, as WCAG 2.5.8 allows: links inside running text (a sentence or a list
item's line whose words are more than the link's), whose size is set by the line; and controls the browser
draws itself inside a larger label (a checkbox with its label is measured together).
"""

import time
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from demo.street import DEMO_PASSWORD

pytestmark = pytest.mark.browser

SMALL_PHONE = {"width": 320, "height": 640}
MAX_PATHS = 18
SKIP = ("/admin", "/django-admin", "/accounts/logout", "/static/", "/media/", "/calendar/", ".ics", ".xml", ".csv", ".json")

MEASURE = """() => {
  const tooSmall = [];
  const visible = (element) => {
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    return box.width > 0 && box.height > 0 && style.visibility !== "hidden" && style.display !== "none";
  };
  const inRunningText = (link) => {
    const block = link.closest("p, li, dd, td, label, .help, .meta, figcaption, small");
    return block !== null && block.textContent.trim().length > link.textContent.trim().length + 1;
  };
  const target = (element) => {
    if (element.matches("input[type=checkbox], input[type=radio]") && element.labels && element.labels.length) {
      const boxes = [element, ...element.labels].map((e) => e.getBoundingClientRect());
      const top = Math.min(...boxes.map((b) => b.top)), bottom = Math.max(...boxes.map((b) => b.bottom));
      const left = Math.min(...boxes.map((b) => b.left)), right = Math.max(...boxes.map((b) => b.right));
      return {width: right - left, height: bottom - top};
    }
    return element.getBoundingClientRect();
  };
  const controls = document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [tabindex]:not([tabindex='-1'])");
  for (const element of controls) {
    if (!visible(element) || (element.matches("a") && inRunningText(element))) continue;
    const box = target(element);
    if (box.width < 43.5 || box.height < 43.5) {
      const name = (element.getAttribute("aria-label") || element.textContent || element.name || element.type || "").trim();
      tooSmall.push(`${element.tagName.toLowerCase()} "${name.slice(0, 30)}" ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  const wide = [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5 && visible(e))
    .filter((e) => !e.closest("[style*=overflow], .table-wrap, .events-table-wrap, pre"))
    .slice(0, 3).map((e) => `${e.tagName.toLowerCase()}.${e.className} "${e.textContent.trim().slice(0, 20)}"`);
  return {scrollWidth: document.documentElement.scrollWidth, tooSmall, wide};
}"""

LINKS = """() => [...document.querySelectorAll("a[href]")].map((a) => a.getAttribute("href"))"""


def same_site_paths(hrefs: list[str], language: str) -> list[str]:
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if parts.scheme not in ("", "http", "https") or (parts.netloc and not parts.netloc.startswith("localhost")):
            continue
        path = parts.path
        if path.startswith(f"/{language}/") and not any(skip in path for skip in SKIP):
            paths.append(path + (f"?{parts.query}" if parts.query and len(parts.query) < 40 else ""))
    return paths


def kind_of(path: str) -> tuple:
    """Pages of one kind share their first segment and their depth (/notices/<slug>/, /me/bookings/)."""
    segments = [part for part in urlsplit(path).path.split("/") if part][1:]
    return (segments[0] if segments else "", len(segments), "?" in path)


@pytest.fixture
def demo_street(portal, settings):
    settings.DEBUG = True  # demo users get DEMO_PASSWORD
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False
    return portal


def test_no_page_scrolls_sideways_at_320_px_and_every_control_is_big_enough_to_tap(demo_street, chromium):
    started = time.monotonic()
    context = chromium.new_context(viewport=SMALL_PHONE, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    base = demo_street.url
    page.goto(base + "/zh-hans/accounts/login/")
    page.fill("input[name=login]", "chen.jing@linli.localhost")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{base}/zh-hans/me/")

    # Discover the resident's pages breadth-first from the home page and My page, in Chinese: one page of
    # each kind (a list, one of its items, a form…), not fifteen notices.
    queue, seen, kinds = ["/zh-hans/", "/zh-hans/me/"], [], set()
    while queue and len(seen) < MAX_PATHS:
        path = queue.pop(0)
        kind = kind_of(path)
        if path in seen or kind in kinds:
            continue
        kinds.add(kind)
        response = page.goto(base + path)
        if response is None or response.status != 200:
            continue
        seen.append(path)
        queue += [found for found in same_site_paths(page.evaluate(LINKS), "zh-hans") if found not in seen]

    problems: dict[str, list[str]] = {}
    checked = 0
    for size in ("normal", "large"):
        context.add_cookies([{"name": "linli_text", "value": size, "url": base}])
        for path in seen:
            for language in ("zh-hans", "en"):
                url = path.replace("/zh-hans/", f"/{language}/", 1)
                if page.goto(base + url).status != 200:
                    continue
                checked += 1
                measured = page.evaluate(MEASURE)
                found = []
                if measured["scrollWidth"] > SMALL_PHONE["width"]:
                    found.append(f"{measured['scrollWidth']} px wide: {measured['wide']}")
                found += measured["tooSmall"]
                if found:
                    problems[f"{url} ({size} text)"] = found
    context.close()

    assert len(seen) >= 12, seen  # the crawl reached the portal's sections, not just the home page
    assert checked >= 3 * len(seen)
    assert problems == {}, "\n".join(f"{where}: {found}" for where, found in problems.items())
    assert time.monotonic() - started < 90, f"{time.monotonic() - started:.0f} s for {checked} pages: {seen}"
