"""State changes for residents, communities and their editors."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    Locale,
    Page,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from . import audit
from .i18n import source_language
from .models import (  # noqa: F401 - verified_phone re-exported
    Community,
    CommunityPage,
    Grid,
    GridContact,
    GridJoinCode,
    HomePage,
    MiniProgramLogin,
    NoticeIndexPage,
    ResidentProfile,
    verified_phone,
)
from .scope import for_user, staff_communities

User = get_user_model()


class ProfileError(Exception):
    """A resident's profile change that breaks a rule; the message is shown to them."""


class WeChatLinkError(Exception):
    """The mini-program's WeChat cannot be linked to this account; the message is shown to the resident."""


class NotVerified(PermissionDenied):
    """The resident has proven neither a mobile number nor an e-mail address yet."""


def has_verified_email(user) -> bool:
    """The resident proved an e-mail address (the link in the verification mail)."""
    if not user.is_authenticated:
        return False
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, verified=True).exists()


def is_verified_resident(user) -> bool:
    """The one check every committing action (booking, spending, letters, votes) relies on: the resident
    proved a mobile number (SMS code) or an e-mail address."""
    return bool(verified_phone(user)) or has_verified_email(user)


# Shown wherever an unverified resident tries to commit to something (every app uses this one sentence).
VERIFY_FIRST = gettext_lazy("Please verify your mobile number or e-mail address first.")


def require_verified_resident(user) -> None:
    if not is_verified_resident(user):
        raise NotVerified(str(VERIFY_FIRST))


def verified_resident(identifier: str):
    """The active resident who proved this mobile number (written any way) or e-mail address, else None."""
    from allauth.account.models import EmailAddress

    from .phone import mobile_or_none

    identifier = (identifier or "").strip()
    number = mobile_or_none(identifier) if "@" not in identifier else None
    if number is not None:
        profile = (
            ResidentProfile.objects.filter(mobile=number, mobile_verified=True, user__is_active=True)
            .select_related("user")
            .first()
        )
        return profile.user if profile else None
    if not identifier:
        return None
    match = (
        EmailAddress.objects.filter(email__iexact=identifier, verified=True, user__is_active=True).select_related("user").first()
    )
    return match.user if match else None


def pages_visible_in_admin(pages: QuerySet[Page], *, user) -> QuerySet[Page]:
    """The pages whose titles `user` may see in the admin: live pages, and drafts only in their own sections.

    Own sections are the sections of their communities (in every language) and any page their
    groups hold page permissions on. Superusers (the street office) see every page.
    """
    if user.is_superuser:
        return pages
    sections = Page.objects.filter(
        Q(translation_key__in=staff_communities(user).exclude(root_page=None).values("root_page__translation_key"))
        | Q(pk__in=GroupPagePermission.objects.filter(group__user=user).values("page"))
    )
    visible = Q(live=True)
    for path in sections.values_list("path", flat=True):
        visible |= Q(path__startswith=path)
    return pages.filter(visible)


def get_or_create_profile(*, user) -> ResidentProfile:
    profile, _created = ResidentProfile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def register_resident(*, user, consent_given: bool, language: str, join_code: GridJoinCode | None = None) -> ResidentProfile:
    """Create the profile of a new resident and record their consent to the privacy notice; signed up through a
    grid's QR code (`join_code`, still current), the profile is in that grid and its community."""
    if not consent_given:
        raise ProfileError(_("You must agree to the privacy notice to register."))
    languages = dict(settings.LANGUAGES)
    profile = get_or_create_profile(user=user)
    profile.privacy_notice_version = settings.LINLI_PRIVACY_NOTICE_VERSION
    profile.privacy_consented_at = timezone.now()
    profile.preferred_language = language if language in languages else settings.LANGUAGE_CODE
    profile.save()
    if join_code is not None and join_code.retired_at is None:
        profile = join_grid(profile=profile, code=join_code, actor=user)
    return profile


@transaction.atomic
def update_profile(*, profile: ResidentProfile, **changes: Any) -> ResidentProfile:
    """Save a resident's own changes; the grid must belong to the chosen community."""
    # The mobile number changes only with an SMS code (allauth's change-phone pages).
    allowed = {
        "display_name",
        "community",
        "grid",
        "building_unit",
        "birth_year",
        "preferred_language",
        "large_text",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ProfileError(_("These fields cannot be changed here: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    for name, value in changes.items():
        setattr(profile, name, value)
    if profile.grid_id and profile.grid.community_id != profile.community_id:
        raise ProfileError(_("The grid you chose is not in your community."))
    profile.full_clean()
    profile.save()
    return profile


@transaction.atomic
def set_preferences(*, profile: ResidentProfile, language: str | None = None, large_text: bool | None = None) -> ResidentProfile:
    """Save the language or text size a resident switched to; touches nothing else in the profile."""
    changed = []
    if language is not None:
        if language not in dict(settings.LANGUAGES):
            raise ProfileError(_("Unknown language."))
        profile.preferred_language = language
        changed.append("preferred_language")
    if large_text is not None:
        profile.large_text = bool(large_text)
        changed.append("large_text")
    if changed:
        profile.save(update_fields=changed)
    return profile


def export_personal_data(*, user) -> dict[str, Any]:
    """Everything Linli holds about one resident, as JSON-ready data (PIPL right of access).

    Two-factor methods are listed by kind and date, never with their secrets.
    """
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    profile = getattr(user, "profile", None)
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "account": {
            "email": user.email,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
        },
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in EmailAddress.objects.filter(user=user).order_by("pk")
        ],
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "two_factor": [
            {
                "type": authenticator.type,
                "created_at": authenticator.created_at.isoformat(),
                "last_used_at": authenticator.last_used_at.isoformat() if authenticator.last_used_at else None,
            }
            for authenticator in Authenticator.objects.filter(user=user).order_by("pk")
        ],
        "profile": None,
        "wechat_mini_program": [
            {"openid": link.openid, "linked_at": link.linked_at.isoformat()}
            for link in MiniProgramLogin.objects.filter(user=user)
        ],
        "grid_contact_listings": [
            {"grid": contact.grid.name, "role": contact.role, "name": contact.name, "phone": contact.phone}
            for contact in GridContact.objects.filter(user=user).select_related("grid").order_by("pk")
        ],
    }
    if profile is not None:
        data["profile"] = {
            "display_name": profile.display_name,
            "mobile": profile.mobile,
            "mobile_verified": profile.mobile_verified,
            "community": profile.community.name if profile.community else None,
            "grid": profile.grid.name if profile.grid else None,
            "building_unit": profile.building_unit,
            "birth_year": profile.birth_year,
            "preferred_language": profile.preferred_language,
            "large_text": profile.large_text,
            "privacy_notice_version": profile.privacy_notice_version,
            "privacy_consented_at": profile.privacy_consented_at.isoformat() if profile.privacy_consented_at else None,
        }
    for module in _privacy_modules():
        data.update(module.export(user))
    return data


def _privacy_modules() -> list:
    """Each app's `<app>/privacy.py` (`export(user) -> dict`, `erase(user)`): what it holds about a resident."""
    from .domains import app_modules

    return app_modules("privacy")


@transaction.atomic
def erase_account(*, user, actor) -> None:
    """Delete a resident's personal data; records others need keep the (now anonymous) user row.

    The user row stays so that later bookings, ledger entries and letters keep their
    integrity, but it no longer says who the person was and can never log in again.
    """
    if actor.pk != user.pk and not actor.is_superuser:
        raise PermissionDenied(_("You may only delete your own account."))
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    for module in _privacy_modules():
        module.erase(user)
    GridContact.objects.filter(user=user).delete()  # a building leader's name and number leave the grid's page
    ResidentProfile.objects.filter(user=user).delete()
    MiniProgramLogin.objects.filter(user=user).delete()
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    user.username = f"erased-{user.pk}"
    user.email = ""
    user.first_name = ""
    user.last_name = ""
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()


def link_mini_program(*, user, openid: str) -> MiniProgramLogin:
    """Let the mini-program's WeChat (its OpenID) log this account in from now on.

    Linking again the OpenID the account already has changes nothing; another OpenID replaces the account's
    old one. An OpenID linked to another active account is refused: one account per WeChat. A deactivated
    (or erased) account lets go of it, as of a mobile number.
    """
    try:
        with transaction.atomic():
            MiniProgramLogin.objects.filter(openid=openid, user__is_active=False).exclude(user=user).delete()
            current = MiniProgramLogin.objects.select_for_update().filter(user=user).first()
            if current is not None and current.openid == openid:
                return current
            if MiniProgramLogin.objects.filter(openid=openid).exclude(user=user).exists():
                raise WeChatLinkError(_("This WeChat already logs in another account. Unlink it there first."))
            if current is not None:
                current.delete()
            return MiniProgramLogin.objects.create(user=user, openid=openid)
    except IntegrityError:
        # Another account linked the same OpenID between the check and now (the unique constraint held).
        raise WeChatLinkError(_("This WeChat already logs in another account. Unlink it there first.")) from None


def unlink_mini_program(*, user) -> bool:
    """The mini-program no longer logs this account in; whether there was a link."""
    deleted, _rows = MiniProgramLogin.objects.filter(user=user).delete()
    return bool(deleted)


@transaction.atomic
def create_community(*, name: str, code: str, name_en: str = "", description: str = "") -> Community:
    """A community with its section page, notice list, staff and heads groups and workflow.

    Its staff may add and edit pages below the section page and submit them for
    moderation; its heads approve and publish. Neither may touch other communities.
    """
    zh = Locale.objects.get(language_code=source_language())
    community = Community.objects.filter(code=code).first()
    if community is not None:
        return community
    community = Community.objects.create(name=name, name_en=name_en, code=code, description=description)
    home = HomePage.objects.get(locale=zh, depth=2)
    section = home.add_child(instance=CommunityPage(title=name, slug=code, community=community))
    section.save_revision().publish()
    notices = section.add_child(instance=NoticeIndexPage(title="通知公告", slug="notices"))
    notices.save_revision().publish()

    editors, _created = Group.objects.get_or_create(name=f"{name} · staff")
    heads, _created = Group.objects.get_or_create(name=f"{name} · heads")
    admin_access = Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    for group in (editors, heads):
        group.permissions.add(admin_access)
    # Pictures and documents for their notices: add and choose in the root collection.
    root_collection = Collection.get_first_root_node()
    for app_label, codenames in (
        ("wagtailimages", ("add_image", "choose_image")),
        ("wagtaildocs", ("add_document", "choose_document")),
    ):
        for codename in codenames:
            permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for group in (editors, heads):
                GroupCollectionPermission.objects.get_or_create(group=group, collection=root_collection, permission=permission)

    task, _created = GroupApprovalTask.objects.get_or_create(name=f"{name} · head approval")
    task.groups.set([heads])
    workflow, _created = Workflow.objects.get_or_create(name=f"{name} · moderation")
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    community.root_page, community.editors, community.heads = section, editors, heads
    community.save()
    _grant_section(section=section, editors=editors, heads=heads, workflow=workflow)
    return community


def _grant_section(*, section: Page, editors: Group, heads: Group, workflow: Workflow) -> None:
    page_permission = {
        codename: Permission.objects.get(codename=codename, content_type__app_label="wagtailcore")
        for codename in ("add_page", "change_page", "publish_page", "lock_page", "unlock_page")
    }
    for group, codenames in ((editors, ("add_page", "change_page")), (heads, tuple(page_permission))):
        for codename in codenames:
            GroupPagePermission.objects.get_or_create(group=group, page=section, permission=page_permission[codename])
    WorkflowPage.objects.get_or_create(page=section, defaults={"workflow": workflow})


@transaction.atomic
def share_section_with_translations(*, community: Community) -> None:
    """Give the community's groups and workflow the translated section pages too (e.g. English)."""
    section = community.root_page
    workflow_page = WorkflowPage.objects.filter(page=section).select_related("workflow").first()
    if section is None or workflow_page is None:
        return
    for translated in section.get_translations(inclusive=False):
        _grant_section(section=translated, editors=community.editors, heads=community.heads, workflow=workflow_page.workflow)


@transaction.atomic
def ensure_site() -> HomePage:
    """The two locales, a home page per language and the default site (idempotent).

    Replaces Wagtail's placeholder welcome page on a fresh database.
    """
    from wagtail.models import Site

    zh, _created = Locale.objects.get_or_create(language_code=source_language())
    en, _created = Locale.objects.get_or_create(language_code="en")
    home = HomePage.objects.filter(locale=zh, depth=2).first()
    if home is None:
        # Wagtail's migrations make the tree root and root collection; a flushed database has neither.
        root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root", locale=zh))
        if Collection.get_first_root_node() is None:
            Collection.add_root(name="Root")
        placeholder = Page.objects.filter(depth=2, content_type__model="page", content_type__app_label="wagtailcore").first()
        home = root.add_child(instance=HomePage(title="邻里", slug="home-zh", locale=zh))
        home.save_revision().publish()
        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            Site.objects.create(hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="邻里 Linli")
        else:
            site.root_page = home
            site.site_name = "邻里 Linli"
            site.save()
        if placeholder is not None:
            placeholder.delete()
    if not HomePage.objects.filter(locale=en, translation_key=home.translation_key).exists():
        english = home.copy_for_translation(en)
        english.title = "Linli"
        english.slug = "home-en"
        english.save_revision().publish()
    return home


# ---------------------------------------------------------------------------
# Grids: their QR codes (扫码入格)


class GridJoinError(Exception):
    """A resident cannot join a grid by this code; the message is shown to them."""


def _new_token() -> str:
    import secrets

    return secrets.token_urlsafe(18)  # 24 characters, 144 random bits: not guessable, short enough for a QR code


def current_join_code(*, grid: Grid) -> GridJoinCode:
    """The grid's current join code, made on first use (a poster printed, the demo)."""
    code = GridJoinCode.objects.filter(grid=grid, retired_at__isnull=True).first()
    if code is not None:
        return code
    try:
        with transaction.atomic():
            return GridJoinCode.objects.create(grid=grid, token=_new_token())
    except IntegrityError:
        # Another request made the grid's first code at the same moment (one current code per grid).
        return GridJoinCode.objects.get(grid=grid, retired_at__isnull=True)


@transaction.atomic
def rotate_join_code(*, grid: Grid, actor) -> GridJoinCode:
    """Retire the grid's code and make a new one: posters printed with the old code stop working (a scan says
    the code was replaced). Staff of the grid's community only."""
    for_user(actor).require(grid.community, message=_("Only the staff of this grid's community may replace its QR code."))
    Grid.objects.select_for_update().filter(pk=grid.pk).first()  # one rotation of a grid at a time
    now = timezone.now()
    retired = GridJoinCode.objects.filter(grid=grid, retired_at__isnull=True).update(retired_at=now)
    code = GridJoinCode.objects.create(grid=grid, token=_new_token(), created_at=now)
    audit.record(grid, "home.grid.rotate_code", actor=actor, replaced=retired)
    return code


@transaction.atomic
def join_grid(*, profile: ResidentProfile, code: GridJoinCode, actor) -> ResidentProfile:
    """Move a resident into the grid of a join code (and its community); recorded in the audit log."""

    if code.retired_at is not None:
        raise GridJoinError(_("This QR code was replaced. Ask your grid worker for the new one."))
    profile = ResidentProfile.objects.select_for_update().get(pk=profile.pk)
    grid = code.grid
    if profile.grid_id == grid.pk:
        return profile
    previous = profile.grid_id
    profile.community_id, profile.grid_id = grid.community_id, grid.pk
    profile.save(update_fields=["community", "grid"])
    audit.record(grid, "home.grid.join", actor=actor, previous_grid=previous)
    return profile
