"""No page scrolls sideways on a 320 px phone, in either language and text size, and every control is big
enough to tap (44 × 44 CSS px) — on every page a resident reaches from the home page (issue 15, items 25–27).

The crawl follows the links of the demo street as a logged-in resident, breadth-first from the home page and
My page, and checks one page of each route (its URL name, or a Wagtail page's type; the list, week and month
views count as routes): at most MAX_PATHS, each in Chinese and English, with normal and large text (the
linli_text cookie). "Sideways" is the page wider than the screen, anything past its right edge, and a box that
scrolls sideways inside the page (a table in a wrapper hides its last column on a phone: item 18); and no
word may be cut in two at a line's end (overflow-wrap: anywhere keeps a too narrow column on the screen
that way: "Liuhe C / o / m / m / u…" beside a long label, item 25).

Exempt from the tap-target size, as WCAG 2.5.8 allows: links inside running text (a sentence or a list
item's line whose words are more than the link's), whose size is set by the line; and controls the browser
draws itself inside a larger label (a checkbox with its label is measured together).
"""

import os
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import resolve
from django.utils import translation
from wagtail.models import Page

from demo.street import DEMO_PASSWORD

pytestmark = pytest.mark.browser

SCREENSHOTS = os.environ.get("LINLI_SCREENSHOTS")
SMALL_PHONE = {"width": 320, "height": 640}
MAX_PATHS = 60
RENDERINGS = {"view"}  # a query parameter that draws the page another way (list, week, month): each is a route
# The resident's own pages that the crawl must reach (issue 15, items 18, 25, 26), by their route.
MUST_REACH = set(
    """home:profile events:my_bookings events:household events:classes page:ActivityPage page:ActivityIndexPage?view=week
    page:ActivityIndexPage?view=month points:overview points:statement points:rewards points:reservation
    notifications:preferences mailbox:my_letters mailbox:letter_detail mailbox:write_letter mailbox:topic_list
    mailbox:topic_detail council:council_sessions page:NoticePage""".split()
)
SKIP = ("/admin", "/django-admin", "/accounts/logout", "/static/", "/media/", "/calendar/", ".ics", ".xml", ".csv", ".json")

MEASURE = r"""() => {
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
  const describe = (e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")} "${e.textContent.trim().slice(0, 20)}"`;
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
  // What reaches past the right edge of the screen, wherever it sits: it widens the page (the page scrolls
  // sideways), or it is cut off, or it hides in a box that scrolls sideways (a table in a wrapper), which is
  // as bad on a phone: a resident does not find the column that scrolled out of sight.
  const edge = document.documentElement.clientWidth + 0.5;
  const clipped = (element) => {
    for (let node = element.parentElement; node && node !== document.body; node = node.parentElement) {
      if (getComputedStyle(node).overflowX !== "visible") return node;
    }
    return null;
  };
  const wide = [], scrollBoxes = new Set();
  for (const element of document.querySelectorAll("body *")) {
    if (element.getBoundingClientRect().right <= edge || !visible(element)) continue;
    const box = clipped(element);
    if (box === null) wide.push(describe(element));
    else if (box.scrollWidth > box.clientWidth + 1 && box.getBoundingClientRect().right <= edge) scrollBoxes.add(box);
  }
  // A word cut in two at the end of a line ("suggestio" / "n"): overflow-wrap: anywhere keeps a too narrow
  // column inside the screen that way, and it does not read. Chinese breaks between any two characters.
  const forScreenReaders = (element) => {
    for (let node = element; node; node = node.parentElement) {
      if (node.getBoundingClientRect().width < 2 && getComputedStyle(node).overflow !== "visible") return true;
    }
    return false;
  };
  const cut = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node && cut.length < 3; node = walker.nextNode()) {
    // Left out: text hidden for screen readers (a 1 px box) and addresses, which may break anywhere.
    if (!node.parentElement || !visible(node.parentElement) || forScreenReaders(node.parentElement)) continue;
    for (const word of node.data.matchAll(/[A-Za-z]{4,}/g)) {
      if (/[@/]/.test(node.data.slice(0, word.index).split(/\s/).pop() + node.data.slice(word.index).split(/\s/)[0])) continue;
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      if (new Set([...range.getClientRects()].map((line) => Math.round(line.top))).size > 1) {
        cut.push(`${describe(node.parentElement)}: ${word[0]}`);
        break;
      }
    }
  }
  return {
    cut,
    scrollWidth: document.documentElement.scrollWidth,
    tooSmall,
    wide: wide.slice(0, 3),
    scrollBoxes: [...scrollBoxes].slice(0, 3).map((box) => `${describe(box)} ${box.scrollWidth} px in ${box.clientWidth} px`),
  };
}"""

LINKS = """() => [...document.querySelectorAll("a[href]")].map((a) => a.href)"""  # absolute: "?view=week" too


def same_site_paths(urls: list[str], base: str, language: str) -> list[str]:
    paths = []
    for url in urls:
        parts = urlsplit(url)
        if parts.netloc == urlsplit(base).netloc and parts.path.startswith(f"/{language}/"):
            if not any(skip in parts.path for skip in SKIP):
                paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return paths


def route_of(path: str) -> str:
    """The route that serves a path: its URL's name ("points:statement"), or for a Wagtail page its type
    ("NoticePage"); a query's keys make another route (?view=week draws a calendar, ?page=2 the list again)."""
    parts = urlsplit(path)
    with translation.override("zh-hans"):
        match = resolve(parts.path)
        if match.url_name == "wagtail_serve":
            found = Page.route_for_request(RequestFactory().get(parts.path), match.args[0])
            name = "page:" + (type(found.page.specific).__name__ if found else "missing")
        else:
            name = match.view_name
    query = parse_qs(parts.query)
    return name + "".join(f"?{key}" + (f"={query[key][0]}" if key in RENDERINGS else "") for key in sorted(query))


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

    # Discover the resident's pages breadth-first from the home page and My page, in Chinese with normal text,
    # measuring each as it comes: one page of each route (a list, one of its items, a form…), not fifteen notices.
    problems: dict[str, list[str]] = {}
    checked = 0

    def check(url: str, size: str) -> None:
        nonlocal checked
        checked += 1
        measured = page.evaluate(MEASURE)
        found = []
        if measured["scrollWidth"] > SMALL_PHONE["width"]:
            found.append(f"the page is {measured['scrollWidth']} px wide")
        if measured["wide"]:
            found.append(f"past the right edge: {measured['wide']}")
        if measured["scrollBoxes"]:
            found.append(f"scrolls sideways inside: {measured['scrollBoxes']}")
        if measured["cut"]:
            found.append(f"words cut in two: {measured['cut']}")
        found += measured["tooSmall"]
        if SCREENSHOTS:  # LINLI_SCREENSHOTS=/tmp/small: every page checked, as a PNG, to look at
            name = re.sub(r"[^a-z0-9]+", "-", f"{url}-{size}".lower()).strip("-")
            page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)
        if found:
            problems[f"{url} ({size} text)"] = found

    queue, seen, routes = ["/zh-hans/", "/zh-hans/me/"], {}, set()
    while queue and len(seen) < MAX_PATHS:
        path = queue.pop(0)
        route = route_of(path)
        if route in routes:
            continue
        routes.add(route)
        response = page.goto(base + path)
        if response is None or response.status != 200:
            continue
        seen[route] = path
        check(path, "normal")
        queue += [found for found in same_site_paths(page.evaluate(LINKS), base, "zh-hans") if route_of(found) not in routes]
    crawled = time.monotonic() - started

    # Then in English, and with large text in both languages.
    for size, language in (("normal", "en"), ("large", "zh-hans"), ("large", "en")):
        context.add_cookies([{"name": "linli_text", "value": size, "url": base}])
        for path in seen.values():
            url = path.replace("/zh-hans/", f"/{language}/", 1)
            if page.goto(base + url).status == 200:
                check(url, size)
    context.close()
    print(f"{crawled:.0f} s crawl, {time.monotonic() - started:.0f} s in all, {checked} pages", sorted(seen.items()))

    assert MUST_REACH <= seen.keys(), sorted(MUST_REACH - seen.keys())
    assert checked >= 3 * len(seen)
    assert problems == {}, "\n".join(f"{where}: {found}" for where, found in problems.items())
