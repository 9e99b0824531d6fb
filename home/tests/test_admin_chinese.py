"""The Chinese Wagtail admin reads as Chinese: "页面" not "分页" for Pages, no English left on the dashboard
and the page explorer, avatars that load (no Gravatar), filter checkboxes drawn as checkboxes."""

import re
from pathlib import Path

from bs4 import BeautifulSoup

from home import factories

REPO = Path(__file__).resolve().parents[2]


def visible_text(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style", "noscript", "template"]):
        hidden.decompose()
    return list(soup.stripped_strings)


def test_the_chinese_dashboard_and_explorer_have_no_english_left(client, site_pages, settings):
    settings.LINLI_STAFF_MFA_REQUIRED = False
    client.force_login(factories.VerifiedUserFactory(is_staff=True, is_superuser=True, username="editor"))

    dashboard = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    explorer = client.get("/admin/pages/2/", HTTP_ACCEPT_LANGUAGE="zh-hans", follow=True)
    html = dashboard.content.decode()

    english = [
        text
        for response in (dashboard, explorer)
        for text in visible_text(response.content.decode())
        if re.search(r"[A-Za-z]{3,}", text) and not re.search(r"[\u4e00-\u9fff]", text)
    ]
    # Names and codes are not words to translate: the user, the locale, the feed, the portal's name.
    assert set(english) <= {"editor", "English", "RSS", "Linli", "Wagtail"}, english
    # The main menu is JSON in the page, its non-ASCII escaped: "页面" (pages), never "分页" (pagination).
    assert '"\\u9875\\u9762"' in html
    assert '"\\u5206\\u9875"' not in html and "分页" not in html
    assert "搜索所有页面" in html and "编辑指南" in html


def test_avatars_load_from_the_portal_not_gravatar(client, site_pages, settings):
    settings.LINLI_STAFF_MFA_REQUIRED = False
    client.force_login(factories.VerifiedUserFactory(is_staff=True, is_superuser=True))

    avatars = BeautifulSoup(client.get("/admin/").content.decode(), "html.parser").select("img.avatar, .avatar img")

    assert avatars and all(image["src"].startswith("/static/wagtailadmin/images/default-user-avatar") for image in avatars)


def test_staff_filter_checkboxes_are_not_stretched_into_text_boxes():
    css = (REPO / "events" / "static" / "events" / "admin.css").read_text()
    stretched = re.search(r"\.events-filters input\s*[,{]", css)
    assert stretched is None, "a min-width on every input draws Wagtail's checkbox as an empty text box"
