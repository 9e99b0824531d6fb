"""The street itself: its communities and grids, residents and staff, notices and pages in both languages.

Idempotent: what exists already (matched by slug, code, grid number or username) is left as it is, so a
second run creates nothing. English pages are made through wagtail-localize from the Chinese ones, so that
editing a Chinese page later shows its English translation as waiting for translation after a sync, as it
would for an editor's own pages. The texts are in demo/content.py.

Demo users are named demo-<login> with e-mail <login>@linli.localhost. With DEBUG on they log in with
DEMO_PASSWORD below; otherwise their password is unusable.
"""

from __future__ import annotations

import dataclasses
import datetime

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from wagtail.models import Page

from home import factories, services
from home.models import (
    Community,
    CommunityPage,
    Grid,
    GridContact,
    GridJoinCode,
    NoticeIndexPage,
    NoticePage,
    PortalSettings,
    StandardPage,
)

from .content import BUILDING_LEADER_HOURS, GRID_CONTACTS, GRID_WORKER_HOURS, SITE, DemoCommunity, DemoNotice, DemoPage, p
from .pages import ensure_translated, fill, is_translated, locale, plain, rich_pairs, stream, text_pairs

# The one password of every demo user, for development only (DEBUG on). Never secret.
DEMO_PASSWORD = "linli-demo-neighbour"
DEMO_EMAIL_DOMAIN = "linli.localhost"


def seed(*, password_hash: str) -> None:
    services.ensure_site()
    # The street notice list comes before the community sections so that it is the
    # home page's "All notices" list (the first notice list of the language).
    seed_home()
    seed_street_notice_list()
    communities = {demo.code: seed_community(demo) for demo in SITE.communities}
    seed_people(communities, password_hash=password_hash)
    for demo in SITE.pages:
        seed_standard_page(demo)
    for demo in SITE.notices:
        seed_notice(demo, communities)
    backdate_notices()
    seed_portal_settings()


# ---------------------------------------------------------------------------
# Pages


def seed_home() -> None:
    home = factories.home_page()
    if not home.intro:
        home.intro = SITE.home_intro
        home.save_revision().publish()
        home = factories.home_page()
    if home.intro != SITE.home_intro or is_translated(home):
        return  # somebody's own introduction: leave it and its translation alone
    english = factories.home_page("en")
    strings = {plain(home.title): plain(english.title), home.slug: english.slug}
    strings.update(rich_pairs(SITE.home_intro, SITE.home_intro_en))
    factories.translate(home, strings=strings)


def seed_street_notice_list() -> NoticeIndexPage:
    home = factories.home_page()
    page = NoticeIndexPage.objects.child_of(home).filter(slug="notices").first()
    if page is None:
        page = factories.add_page(home, NoticeIndexPage(title=SITE.notices_title, slug="notices", intro=SITE.notices_intro))
    strings = {plain(SITE.notices_title): plain(SITE.notices_title_en), "notices": "notices"}
    strings.update(rich_pairs(SITE.notices_intro, SITE.notices_intro_en))
    ensure_translated(page, strings)
    return page


def seed_community(demo: DemoCommunity) -> Community:
    community = services.create_community(name=demo.name, code=demo.code, name_en=demo.name_en, description=demo.description)
    if not community.description_en:
        community.description_en = demo.description_en
        community.save(update_fields=["description_en"])
    for grid in demo.grids:
        seed_grid_contacts(seed_grid(community, number=grid.number, name=grid.name, name_en=grid.name_en))

    section = CommunityPage.objects.get(pk=community.root_page_id)
    intro, intro_en = p(demo.description), p(demo.description_en)
    if not section.intro and not is_translated(section):
        section.intro = intro
        section.save_revision().publish()
    strings = {plain(demo.name): plain(demo.name_en), demo.code: demo.code}
    strings.update(rich_pairs(intro, intro_en))
    ensure_translated(CommunityPage.objects.get(pk=section.pk), strings)

    notices = NoticeIndexPage.objects.child_of(section).filter(slug="notices").first()
    if notices is not None:
        ensure_translated(notices, {plain(notices.title): plain(SITE.notices_title_en), "notices": "notices"})
    services.share_section_with_translations(community=community)
    return community


def seed_grid(community: Community, *, number: int, name: str, name_en: str) -> Grid:
    grid = Grid.objects.filter(community=community, number=number).first()
    if grid is None:
        grid = factories.GridFactory(community=community, number=number, name=name, name_en=name_en)
    return grid


def seed_grid_contacts(grid: Grid) -> None:
    """The grid's worker and building leaders (demo/content.py GRID_CONTACTS) and its QR join code: once, so that
    what staff changed later stays."""
    services.current_join_code(grid=grid)
    demo = GRID_CONTACTS.get((grid.community.code, grid.number))
    if demo is None or GridContact.objects.filter(grid=grid).exists():
        return
    GridContact.objects.create(
        grid=grid,
        role=GridContact.Role.WORKER,
        name=demo.worker,
        phone=demo.worker_phone,
        hours=GRID_WORKER_HOURS[0],
        hours_en=GRID_WORKER_HOURS[1],
    )
    for order, leader in enumerate(demo.leaders):
        GridContact.objects.create(
            grid=grid,
            role=GridContact.Role.BUILDING_LEADER,
            building=leader.building,
            building_en=leader.building_en,
            name=leader.name,
            phone=leader.phone,
            hours=BUILDING_LEADER_HOURS[0],
            hours_en=BUILDING_LEADER_HOURS[1],
            order=order,
        )


def seed_standard_page(demo: DemoPage) -> StandardPage:
    version = {"{version}": settings.LINLI_PRIVACY_NOTICE_VERSION}
    zh, en = fill(demo.zh, version), fill(demo.en, version)
    home = factories.home_page()
    page = StandardPage.objects.child_of(home).filter(slug=demo.slug).first()
    if page is None:
        page = factories.add_page(
            home, StandardPage(title=zh.title, slug=demo.slug, intro=zh.summary, body=stream(zh), show_in_menus=True)
        )
    ensure_translated(page, text_pairs(zh, en, slug=demo.slug))
    return page


def seed_notice(demo: DemoNotice, communities: dict[str, Community]) -> NoticePage:
    community = communities[demo.community] if demo.community else None
    if community is not None:
        parent = NoticeIndexPage.objects.child_of(Page.objects.get(pk=community.root_page_id)).get(slug="notices")
    else:
        parent = NoticeIndexPage.objects.child_of(factories.home_page()).get(slug="notices")
    page = NoticePage.objects.child_of(parent).filter(slug=demo.slug).first()
    if page is None:
        today = timezone.localdate()
        expires_on = None if demo.expires_in_days is None else today + datetime.timedelta(days=demo.expires_in_days)
        page = factories.notice(
            parent,
            title=demo.zh.title,
            slug=demo.slug,
            summary=demo.zh.summary,
            body=stream(demo.zh),
            category=demo.category,
            publication_date=today - datetime.timedelta(days=demo.days_ago),
            pinned=demo.pinned,
            expires_on=expires_on,
            community=community,
        )
    ensure_translated(page, text_pairs(demo.zh, demo.en, slug=demo.slug))
    return page


def backdate_notices() -> None:
    """Demo notices appear first published on their publication date (the RSS feed shows it)."""
    slugs = [demo.slug for demo in SITE.notices]
    for notice in NoticePage.objects.filter(slug__in=slugs).only("pk", "publication_date", "first_published_at"):
        published = datetime.datetime.combine(notice.publication_date, datetime.time(9), tzinfo=timezone.get_current_timezone())
        if notice.first_published_at is not None and notice.first_published_at > published:
            Page.objects.filter(pk=notice.pk).update(first_published_at=published)


# ---------------------------------------------------------------------------
# People and settings


def seed_people(communities: dict[str, Community], *, password_hash: str) -> None:
    for person in SITE.people:
        community = communities[person.community]
        grid = Grid.objects.get(community=community, number=person.grid) if person.grid else None
        user = factories.VerifiedUserFactory(
            username=f"demo-{person.login}",
            email=f"{person.login}@{DEMO_EMAIL_DOMAIN}",
            password=factory.Transformer.Force(password_hash),
        )
        factories.ResidentProfileFactory(
            user=user,
            display_name=person.display_name,
            community=community,
            grid=grid,
            birth_year=person.birth_year,
            mobile=person.mobile,
            # Proven, so that a tester can log in with the number and the code printed by `make run`.
            mobile_verified=bool(person.mobile),
            building_unit=person.building_unit,
            preferred_language=person.language,
            large_text=person.large_text,
        )
        if person.role == "staff":
            user.groups.add(community.editors)
        elif person.role == "head":
            user.groups.add(community.heads)


def seed_portal_settings() -> None:
    portal = PortalSettings.load()
    changed = False
    for name, value in dataclasses.asdict(SITE.contact).items():
        if not getattr(portal, name):
            setattr(portal, name, value)
            changed = True
    if changed:
        portal.save()


def summary() -> str:
    zh, en = locale(settings.LANGUAGE_CODE), locale("en")
    demo_users = get_user_model().objects.filter(username__startswith="demo-")
    staff = demo_users.filter(groups__isnull=False).distinct().count()
    return (
        f"Demo content: {Community.objects.count()} communities, "
        f"{Grid.objects.count()} grids ({GridContact.objects.count()} contacts, "
        f"{GridJoinCode.objects.filter(retired_at__isnull=True).count()} QR codes), "
        f"{demo_users.count() - staff} residents and {staff} staff, "
        f"notices {NoticePage.objects.filter(locale=zh).count()} zh-hans / {NoticePage.objects.filter(locale=en).count()} en, "
        f"pages {Page.objects.filter(locale=zh, depth__gt=1).count()} zh-hans / {Page.objects.filter(locale=en).count()} en."
    )
