"""Home, notices, standard pages, communities and grids, resident profiles."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index
from wagtail_localize.fields import SynchronizedField

from .blocks import BaseStreamBlock
from .i18n import label
from .sections import section_context

# Chinese mainland mobile numbers: 11 digits starting 13-19.
mobile_validator = RegexValidator(r"^1[3-9]\d{9}$", _("Enter a mainland mobile number of 11 digits, e.g. 13812345678."))


class Community(models.Model):
    """A community (社区) of the street, with its own editors and notices subtree: one row, named in both
    languages (`name`, `name_en`; `home.i18n.label` picks the reader's)."""

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    code = models.SlugField(_("code"), max_length=40, unique=True, help_text=_("Short Latin name used in addresses, e.g. liuhe."))
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    root_page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("section page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The community's page; its editors may edit only below it."),
    )
    editors = models.ForeignKey(
        "auth.Group", verbose_name=_("staff group"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    heads = models.ForeignKey(
        "auth.Group", verbose_name=_("heads group"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("name_en")]),
        FieldPanel("code"),
        FieldRowPanel([FieldPanel("description"), FieldPanel("description_en")]),
        FieldPanel("root_page"),
    ]

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["code"]

    def __str__(self) -> str:
        return label(self)


class Grid(models.Model):
    """A grid (网格) of 200-300 households inside a community, looked after by a grid worker."""

    community = models.ForeignKey(Community, verbose_name=_("community"), on_delete=models.CASCADE, related_name="grids")
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    number = models.PositiveSmallIntegerField(_("number"))

    panels = [FieldPanel("community"), FieldRowPanel([FieldPanel("name"), FieldPanel("name_en")]), FieldPanel("number")]

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["community__code", "number"]
        constraints = [models.UniqueConstraint(fields=["community", "number"], name="home_grid_number_unique")]

    def __str__(self) -> str:
        return label(self)


# A phone number as people write it for others to dial: digits, spaces, dashes, "+", brackets and an extension.
contact_phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 ()\-]{3,22}[0-9](?: ?(?:ext\.?|转|-) ?[0-9]{1,6})?$",
    _("Enter a phone number of digits, e.g. 138-0000-1234 or 0571-8888-1234."),
)


class GridContact(models.Model):
    """Who looks after a grid and how to reach them: its grid worker (网格员) and building leaders (楼栋长), shown on
    the grid's page to its residents and its community's staff only. Entered by the community's staff."""

    class Role(models.TextChoices):
        WORKER = "worker", _("Grid worker")
        BUILDING_LEADER = "building_leader", _("Building leader")

    grid = models.ForeignKey(Grid, verbose_name=_("grid"), on_delete=models.CASCADE, related_name="contacts")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.WORKER)
    building = models.CharField(
        _("building"), max_length=40, blank=True, help_text=_("For a building leader: the building, e.g. 3幢.")
    )
    building_en = models.CharField(_("building (English)"), max_length=40, blank=True)
    name = models.CharField(_("name"), max_length=60)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Optional: the person's own account on Linli."),
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True, validators=[contact_phone_validator])
    hours = models.CharField(_("when to reach them"), max_length=120, blank=True, help_text=_("E.g. 工作日 9:00–17:00."))
    hours_en = models.CharField(_("when to reach them (English)"), max_length=120, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("grid contact")
        verbose_name_plural = _("grid contacts")
        ordering = ["grid", "role", "order", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"

    @property
    def dial(self) -> str:
        """The number for a tel: link (digits and a leading +)."""
        number = self.phone.split("ext")[0].split("转")[0]
        return "".join(c for c in number if c.isdigit() or c == "+")


class GridJoinCode(models.Model):
    """The token in a grid's QR code (扫码入格): scanning it opens sign-up or a move into the grid. Staff rotate it
    (a printed poster lost or misused); a rotated code is kept, retired, so a scan of it says it was replaced."""

    grid = models.ForeignKey(Grid, verbose_name=_("grid"), on_delete=models.CASCADE, related_name="join_codes")
    token = models.CharField(_("token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    retired_at = models.DateTimeField(_("replaced at"), null=True, blank=True)

    class Meta:
        verbose_name = _("grid join code")
        verbose_name_plural = _("grid join codes")
        constraints = [
            models.UniqueConstraint(
                fields=["grid"], condition=models.Q(retired_at__isnull=True), name="home_gridjoincode_one_current_per_grid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.grid} · {self.token[:6]}…"

    @property
    def is_current(self) -> bool:
        return self.retired_at is None


class ResidentProfile(models.Model):
    """What a resident tells us about themselves; an account needs only a mobile number or an e-mail (PIPL)."""

    class TextSize(models.TextChoices):
        NORMAL = "normal", _("Normal text")
        LARGE = "large", _("Large text")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    mobile = models.CharField(_("mobile number"), max_length=11, blank=True, validators=[mobile_validator])
    # Set only when the resident proved the number with an SMS code (allauth's phone verification).
    mobile_verified = models.BooleanField(_("mobile number verified"), default=False)
    # The resident's OpenID under the portal's WeChat official account, once linked: subscribe messages go there.
    wechat_openid = models.CharField(_("WeChat OpenID"), max_length=64, blank=True)
    community = models.ForeignKey(
        Community, verbose_name=_("community"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grid = models.ForeignKey(Grid, verbose_name=_("grid"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    building_unit = models.CharField(_("building and unit"), max_length=40, blank=True)
    birth_year = models.PositiveSmallIntegerField(
        _("birth year"), null=True, blank=True, validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    large_text = models.BooleanField(_("large text"), default=False)
    privacy_notice_version = models.CharField(_("privacy notice version"), max_length=20, blank=True)
    privacy_consented_at = models.DateTimeField(_("privacy consent given at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("resident profile")
        verbose_name_plural = _("resident profiles")
        constraints = [
            # A proven number logs one account in (allauth's phone login); typed, unproven numbers may repeat.
            models.UniqueConstraint(
                fields=["mobile"],
                condition=models.Q(mobile_verified=True) & ~models.Q(mobile=""),
                name="home_profile_verified_mobile_unique",
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()


class MiniProgramLogin(models.Model):
    """The resident's OpenID under the portal's WeChat mini-program: opening the mini-program logs this account
    in (home/api_auth.py). Another OpenID than the official account's (ResidentProfile.wechat_openid), though
    WeChat gives both to the same person: one logs in, the other receives subscribe messages."""

    # One OpenID per account and one account per OpenID.
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mini_program_login")
    openid = models.CharField(_("mini-program OpenID"), max_length=64, unique=True)
    linked_at = models.DateTimeField(_("linked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("WeChat mini-program log-in")
        verbose_name_plural = _("WeChat mini-program log-ins")

    def __str__(self) -> str:
        return f"{self.user} (mini-program)"


def verified_phone(user) -> str:
    """The resident's mobile number if they proved it with an SMS code, else ""."""
    if not user.is_authenticated:
        return ""
    profile = getattr(user, "profile", None)
    return profile.mobile if profile is not None and profile.mobile_verified and profile.mobile else ""


def display_name(user) -> str:
    """How a person is named to others: the display name of their profile, else their username."""
    profile = getattr(user, "profile", None)
    return (profile.display_name if profile is not None else "") or user.get_username()


class HomePage(Page):
    """The home page of one language: pinned and current notices, and what later parts add."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = [
        "home.NoticeIndexPage",
        "home.CommunityPage",
        "home.StandardPage",
        "events.ActivityIndexPage",
        "followup.MinutesIndexPage",
    ]
    max_count_per_parent = None

    class Meta:
        verbose_name = _("home page")

    def notices(self):
        """Live notices of this language, not expired, newest first."""
        return NoticePage.current(self.locale)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        notices = list(self.notices()[:12])
        context["pinned_notices"] = [n for n in notices if n.pinned]
        context["current_notices"] = [n for n in notices if not n.pinned][:8]
        context["notice_index"] = NoticeIndexPage.objects.live().filter(locale=self.locale).first()
        context.update(section_context(self))  # classes, the council: home/sections.py
        context["community_pages"] = CommunityPage.objects.live().child_of(self).order_by("path")
        return context

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        response.shared_with_residents = True  # nothing on it is personal but the messages (plumbing/personal.py)
        return response


class CommunityPage(Page):
    """A community's section: its editors' permissions are granted here."""

    community = models.ForeignKey(
        Community, verbose_name=_("community"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])

    content_panels = Page.content_panels + [FieldPanel("community"), FieldPanel("intro")]
    parent_page_types = ["home.HomePage"]
    subpage_types = ["home.NoticeIndexPage", "home.StandardPage", "events.ActivityIndexPage", "followup.MinutesIndexPage"]
    search_fields = Page.search_fields + [index.SearchField("intro")]

    class Meta:
        verbose_name = _("community page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["notices"] = NoticePage.current(self.locale).descendant_of(self)[:10]
        context["street_notices"] = NoticeIndexPage.objects.live().filter(locale=self.locale, depth=3).first()
        return context


class NoticeIndexPage(Page):
    """A list of notices (通知公告), paginated, with its RSS feed."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["home.HomePage", "home.CommunityPage"]
    subpage_types = ["home.NoticePage"]
    search_fields = Page.search_fields + [index.SearchField("intro")]
    per_page = 20

    class Meta:
        verbose_name = _("notice list")

    def get_context(self, request, *args, **kwargs):
        from django.core.paginator import Paginator

        context = super().get_context(request, *args, **kwargs)
        notices = NoticePage.listed()
        category = request.GET.get("category", "")
        if category in NoticePage.Category.values:
            notices = notices.filter(category=category)
        if self.is_street_wide():
            notices, context["where"], context["places"] = self.notices_for_place(
                request, notices.filter(locale_id=self.locale_id)
            )
        else:
            notices = notices.descendant_of(self)
        paginator = Paginator(notices, self.per_page)
        context["page_obj"] = paginator.get_page(request.GET.get("page"))
        context["category"] = category
        context["categories"] = NoticePage.Category.choices
        context["today"] = timezone.localdate()
        return context

    def is_street_wide(self) -> bool:
        """The street's notice list (under a home page) shows every community's notices too."""
        return self.depth <= 3

    def notices_for_place(self, request, notices):
        """Filter by where a notice applies: the street, one community, or (the default for a resident
        of a community) the street and their community together; one query for the communities."""
        names = {community.code: label(community, mark_missing=True) for community in Community.objects.order_by("code")}
        places = [("all", _("All communities")), ("street", _("Whole street")), *names.items()]
        profile = getattr(request.user, "profile", None) if request.user.is_authenticated else None
        own = profile.community if profile is not None and profile.community_id else None
        if own is not None:
            places.insert(0, ("mine", _("My community and the street")))
        where = request.GET.get("where") or ("mine" if own is not None else "all")
        if where == "mine" and own is not None:
            notices = NoticePage.street_and(notices, own)
        elif where == "street":
            notices = notices.filter(community__isnull=True)
        elif where in names:
            notices = notices.filter(community__code=where)
        else:
            where = "all"
        return notices, where, places


class NoticePage(Page):
    """A notice (通知公告): dated, categorised, optionally pinned, expiring and aimed at one community."""

    class Category(models.TextChoices):
        GENERAL = "general", _("Community affairs")
        ACTIVITY = "activity", _("Classes and activities")
        GARBAGE = "garbage", _("Garbage sorting")
        VOLUNTEER = "volunteer", _("Volunteering")
        HEALTH = "health", _("Health")
        SAFETY = "safety", _("Safety")

    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.GENERAL)
    publication_date = models.DateField(_("publication date"), default=datetime.date.today)
    pinned = models.BooleanField(_("pinned"), default=False, help_text=_("Pinned notices stay at the top of the home page."))
    expires_on = models.DateField(
        _("expires on"),
        null=True,
        blank=True,
        help_text=_("From this day the notice leaves the home page and is marked expired."),
    )
    community = models.ForeignKey(
        Community,
        verbose_name=_("for community"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Leave empty for notices that concern the whole street."),
    )
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("for grid"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Optional: a notice for one grid of the community; it comes first on that grid's page."),
    )
    summary = models.CharField(_("summary"), max_length=240, blank=True)
    body = StreamField(BaseStreamBlock(), verbose_name=_("body"), blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        MultiFieldPanel(
            [
                FieldPanel("category"),
                FieldPanel("publication_date"),
                FieldPanel("pinned"),
                FieldPanel("expires_on"),
                FieldPanel("community"),
                FieldPanel("grid"),
            ],
            heading=_("Notice details"),
        ),
        FieldPanel("body"),
    ]
    parent_page_types = ["home.NoticeIndexPage"]
    subpage_types: list[str] = []
    search_fields = Page.search_fields + [index.SearchField("summary"), index.SearchField("body"), index.FilterField("category")]
    override_translatable_fields = [
        SynchronizedField("category"),
        SynchronizedField("publication_date"),
        SynchronizedField("pinned"),
        SynchronizedField("expires_on"),
        SynchronizedField("community"),
        SynchronizedField("grid"),
    ]

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")

    def clean(self) -> None:
        super().clean()
        # A notice for a grid is for that grid's community (filled in when left empty).
        if self.grid_id is not None:
            if self.community_id is None:
                self.community_id = self.grid.community_id
            elif self.grid.community_id != self.community_id:
                raise ValidationError({"grid": _("The grid is not in the community chosen for this notice.")})

    @property
    def is_expired(self) -> bool:
        return self.expires_on is not None and self.expires_on <= timezone.localdate()

    @classmethod
    def listed(cls):
        """The order of every list of notices (the notice list pages, the API): pinned first, then the newest."""
        return cls.objects.live().select_related("community").order_by("-pinned", "-publication_date", "-pk")

    @staticmethod
    def street_and(notices, community: Community):
        """Of the notices, those for the whole street and those for one community (a resident's own)."""
        return notices.filter(models.Q(community__isnull=True) | models.Q(community__code=community.code))

    @classmethod
    def current(cls, locale):
        today = timezone.localdate()
        return (
            cls.objects.live()
            .filter(locale=locale)
            .filter(models.Q(expires_on__isnull=True) | models.Q(expires_on__gt=today))
            .select_related("community")
            .order_by("-pinned", "-publication_date", "-pk")
        )


class StandardPage(Page):
    """A plain page: About, Privacy, Contact."""

    intro = models.CharField(_("introduction"), max_length=300, blank=True)
    body = StreamField(BaseStreamBlock(), verbose_name=_("body"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    parent_page_types = ["home.HomePage", "home.CommunityPage"]
    subpage_types: list[str] = []
    search_fields = Page.search_fields + [index.SearchField("intro"), index.SearchField("body")]

    class Meta:
        verbose_name = _("standard page")


@register_setting(icon="site")
class PortalSettings(BaseGenericSetting):
    """Contact details shown in every page's footer, in both languages."""

    hotline = models.CharField(_("hotline"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address (Chinese)"), max_length=200, blank=True)
    address_en = models.CharField(_("address (English)"), max_length=200, blank=True)
    footer = models.CharField(_("footer note (Chinese)"), max_length=300, blank=True)
    footer_en = models.CharField(_("footer note (English)"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("portal settings")

    def localized_address(self) -> str:
        return self.address_en if get_language() == "en" and self.address_en else self.address

    def localized_footer(self) -> str:
        return self.footer_en if get_language() == "en" and self.footer_en else self.footer


class PeriodicRun(models.Model):
    """When a periodic background task was last enqueued: the clock every scheduler shares (plumbing/periodic.py).

    A scheduler enqueues a task only after winning a conditional UPDATE of its row, so two
    schedulers on two machines enqueue it once per period between them.
    """

    name = models.CharField(max_length=200, unique=True)
    enqueued_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return self.name
