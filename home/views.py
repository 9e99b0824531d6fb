"""Views of the resident portal: thin, each binds input and calls one service."""

from __future__ import annotations

import json
import sys

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.syndication.views import Feed
from django.db import InterfaceError, OperationalError, connection
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.feedgenerator import Rss201rev2Feed
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe
from wagtail.models import Locale, Page

from plumbing.middleware import TEXT_SIZE_COOKIE

from . import grids, parts, services
from .forms import DeleteAccountForm, ProfileForm
from .i18n import label
from .models import Grid, NoticePage, StandardPage
from .sections import grid_sections

ONE_YEAR = 365 * 24 * 3600


def _preferred_language(request: HttpRequest) -> str:
    """The language chosen on this device (the switcher's cookie), else the profile's, else the browser's."""
    languages = dict(settings.LANGUAGES)
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen in languages:
        return chosen
    profile = getattr(request.user, "profile", None) if request.user.is_authenticated else None
    if profile is not None and profile.preferred_language in languages:
        return profile.preferred_language
    return translation.get_language_from_request(request, check_path=False)


@never_cache
@require_safe
def root(request: HttpRequest) -> HttpResponse:
    """`/` sends the visitor to the language chosen on this device, else their profile's, else their browser's."""
    return redirect(f"/{_preferred_language(request)}/")


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database that cannot be reached is "unavailable, try again" (503), not a fault.

    Rendered from static templates without a context: nothing here may need the database.
    """
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = "30"
    else:
        response = HttpResponse(loader.get_template("500.html").render(), status=500)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001  (any database failure means unhealthy; say nothing more)
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def healthz_outbox(request: HttpRequest) -> HttpResponse:
    """A separate readiness check for messages to people: 503 when the oldest undelivered message has
    waited longer than LINLI_OUTBOX_STALLED_MINUTES (no worker running, or the mail server down)."""
    from outbox.services import oldest_pending_age

    try:
        age = oldest_pending_age()
    except Exception:  # noqa: BLE001  (any database failure means unhealthy; say nothing more)
        return JsonResponse({"status": "unavailable"}, status=503)
    waited = 0 if age is None else int(age.total_seconds())
    if waited > settings.LINLI_OUTBOX_STALLED_MINUTES * 60:
        return JsonResponse({"status": "stalled", "oldest_pending_seconds": waited}, status=503)
    return JsonResponse({"status": "ok", "oldest_pending_seconds": waited})


def _admin_login(request: HttpRequest, *, may_enter: bool, admin_home: str) -> HttpResponse:
    """Both admins log in through allauth, so its rate limits and TOTP guard them too.

    Someone already logged in is only sent here by an admin that refused them: they are
    told so, rather than bounced between the admin and allauth's login for ever.
    """
    if request.user.is_authenticated:
        if may_enter:
            return redirect(admin_home)
        message = _("Your account has no access to the administration.")
        return render(request, "home/too_many_attempts.html", {"message": message}, status=403)
    query = request.META.get("QUERY_STRING", "")
    return redirect(reverse("account_login") + (f"?{query}" if query else ""))


@never_cache
def wagtail_admin_login(request: HttpRequest) -> HttpResponse:
    return _admin_login(request, may_enter=request.user.has_perm("wagtailadmin.access_admin"), admin_home="wagtailadmin_home")


@never_cache
def django_admin_login(request: HttpRequest) -> HttpResponse:
    return _admin_login(request, may_enter=request.user.is_active and request.user.is_staff, admin_home="admin:index")


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /django-admin/"]
    # Accounts and the resident's own pages live under each language's prefix.
    for code, _name in settings.LANGUAGES:
        lines += [f"Disallow: /{code}/accounts/", f"Disallow: /{code}/me/"]
    lines.append(f"Sitemap: {request.build_absolute_uri('/sitemap.xml')}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


@require_safe
def sitemap_xml(request: HttpRequest) -> HttpResponse:
    """All live pages of both languages, each with hreflang links to its translations."""
    pages = list(
        Page.objects.live()
        .public()
        .filter(depth__gte=2)
        .select_related("locale")
        .only("url_path", "translation_key", "locale__language_code", "last_published_at")
    )
    by_key: dict = {}
    for page in pages:
        by_key.setdefault(page.translation_key, []).append(page)
    site_root = request.build_absolute_uri("/").rstrip("/")
    entries = []
    for page in pages:
        url = page.get_url(request=request)
        if not url:
            continue
        alternates = [
            (other.locale.language_code, site_root + other.get_url(request=request)) for other in by_key[page.translation_key]
        ]
        entries.append({"loc": site_root + url, "lastmod": page.last_published_at, "alternates": alternates})
    return render(request, "sitemap.xml", {"entries": entries}, content_type="application/xml")


class NoticeFeed(Feed):
    """RSS of the newest notices in the active language."""

    feed_type = Rss201rev2Feed
    description = gettext_lazy("Notices of the neighbourhood")

    @method_decorator(require_safe)
    def __call__(self, request, *args, **kwargs):
        return super().__call__(request, *args, **kwargs)

    def title(self):
        return _("Linli notices")

    def link(self):
        return f"/{translation.get_language()}/"

    def items(self):
        return NoticePage.objects.live().filter(locale=Locale.get_active()).order_by("-publication_date", "-pk")[:30]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.summary

    def item_link(self, item):
        return item.get_url()

    def item_pubdate(self, item):
        return item.first_published_at


@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    page = StandardPage.objects.live().filter(slug="privacy", locale=Locale.get_active()).first()
    if page is None:
        raise Http404(_("The privacy notice has not been published yet."))
    return redirect(page.get_url(request=request))


SEARCH_RESULTS = 30


def _search_pages(query: str) -> list[Page]:
    """Live pages of the active language matching the query, best first.

    The full-text index splits words at spaces, so a Chinese phrase is one long "word" and
    "停水" would not find "六和社区停水通知"; matches of the query inside titles, summaries
    and introductions are therefore added after the full-text results.
    """
    pages = Page.objects.live().public().filter(locale=Locale.get_active(), depth__gte=2)
    results = list(pages.specific().search(query)[:SEARCH_RESULTS])
    found = {page.pk for page in results}
    contains = (
        Q(title__icontains=query)
        | Q(search_description__icontains=query)
        | Q(noticepage__summary__icontains=query)
        | Q(standardpage__intro__icontains=query)
    )
    extra = pages.filter(contains).exclude(pk__in=found).order_by("-first_published_at", "pk")
    if len(results) < SEARCH_RESULTS:
        results += extra.specific()[: SEARCH_RESULTS - len(results)]
    return results


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    results = _search_pages(query) if query else []
    return render(request, "home/search.html", {"query": query, "results": results})


@csrf_exempt  # harmless preference; cached pages must not carry a CSRF token
@require_POST
def set_text_size(request: HttpRequest) -> HttpResponse:
    """Large-text mode: a cookie for everybody, saved in the profile for residents. Works without JS."""
    large = request.POST.get("size") == "large"
    if request.user.is_authenticated:
        services.set_preferences(profile=services.get_or_create_profile(user=request.user), large_text=large)
    next_url = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    response.set_cookie(
        TEXT_SIZE_COOKIE, "large" if large else "normal", max_age=ONE_YEAR, samesite="Lax", secure=request.is_secure()
    )
    return response


@require_GET
def set_language(request: HttpRequest, language: str) -> HttpResponse:
    """Switch language with a plain link (no form, so cached pages carry no CSRF token).

    The choice is kept in a cookie only: a link from another site must not change the language
    of a resident's mail, so the profile's language changes only through the profile form.
    """
    if language not in dict(settings.LANGUAGES):
        raise Http404(_("Unknown language."))
    next_url = request.GET.get("next", f"/{language}/")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = f"/{language}/"
    response = HttpResponseRedirect(next_url)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=ONE_YEAR, samesite="Lax", secure=request.is_secure())
    return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    resident = parts.resident_of(request)
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=resident)
        if form.is_valid():
            try:
                changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
                resident.refresh_from_db()
                services.update_profile(profile=resident, **changes)
            except services.ProfileError as error:
                form.add_error(None, str(error))
            else:
                with translation.override(resident.preferred_language):  # the page it leads to
                    messages.success(request, _("Your profile has been saved."))
                response = redirect(f"/{resident.preferred_language}/me/")
                secure = request.is_secure()
                response.set_cookie(
                    TEXT_SIZE_COOKIE,
                    "large" if resident.large_text else "normal",
                    max_age=ONE_YEAR,
                    samesite="Lax",
                    secure=secure,
                )
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME, resident.preferred_language, max_age=ONE_YEAR, samesite="Lax", secure=secure
                )
                return response
        request.my_page = parts.my_page_context(request, resident, form=form)
        return render(request, "home/profile.html")
    request.my_page = parts.my_page_context(request, resident)
    response = render(request, "home/profile.html")
    # Shared with residents: everything personal is in its two personal parts (home/parts.py), which read
    # request.my_page when this view made it, the same context otherwise.
    response.shared_with_residents = True
    return response


@login_required
@require_GET
def export_data(request: HttpRequest) -> HttpResponse:
    data = services.export_personal_data(user=request.user)
    response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="linli-my-data.json"'
    return response


@login_required
def delete_account(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST if request.method == "POST" else None)  # an empty POST is an error too
    if request.method == "POST" and form.is_valid():
        user = request.user
        services.erase_account(user=user, actor=user)
        logout(request)
        messages.success(request, _("Your account and personal data have been deleted."))
        return redirect(f"/{translation.get_language()}/")
    return render(request, "home/delete_account.html", {"form": form})


# ---------------------------------------------------------------------------
# The grid page and joining a grid by its QR code (home/grids.py)


@login_required
@require_safe
def grid_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A grid's page, for its residents and its community's staff; anybody else: 404 (ids tell nothing)."""
    grid = Grid.objects.select_related("community").filter(pk=pk).first()
    if grid is None or not grids.may_see(request.user, grid):
        raise Http404(_("There is no such grid, or it is not yours."))
    workers, leaders = grids.contacts(grid)
    context = {
        "grid": grid,
        "workers": workers,
        "leaders": leaders,
        "notices": list(grids.notices(grid, Locale.get_active())),
        "sections": grid_sections(request, grid),
    }
    return render(request, "home/grid_page.html", context)


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def join_grid(request: HttpRequest, token: str) -> HttpResponse:
    """What a scan of a grid's QR code opens: sign-up or log-in for a visitor (the code waits in the session and
    the new profile gets the grid), "move to this grid?" for a resident of another grid or none."""
    code = grids.find_code(token)
    if code is None:
        return render(request, "home/grid_join_unknown.html", status=404)
    grid = code.grid
    if code.retired_at is not None:
        if request.session.get(grids.PENDING_JOIN) == code.token:
            del request.session[grids.PENDING_JOIN]
        return render(request, "home/grid_join_replaced.html", {"grid": grid}, status=410)
    here = request.path
    if not request.user.is_authenticated:
        if request.method != "GET":
            return redirect(_with_next("account_login", here))
        request.session[grids.PENDING_JOIN] = code.token  # sign-up puts the new profile in the grid (forms.SignupForm)
        context = {"grid": grid, "signup_url": _with_next("account_signup", here), "login_url": _with_next("account_login", here)}
        return render(request, "home/grid_join.html", context)
    request.session.pop(grids.PENDING_JOIN, None)
    profile = services.get_or_create_profile(user=request.user)
    if profile.grid_id == grid.pk:
        return render(request, "home/grid_join.html", {"grid": grid, "already": True})
    if request.method == "POST":
        try:
            services.join_grid(profile=profile, code=code, actor=request.user)
        except services.GridJoinError as error:
            messages.error(request, str(error))
            return redirect(here)
        messages.success(request, _("You are now in %(grid)s.") % {"grid": label(grid)})
        return redirect("home:grid", pk=grid.pk)
    current = profile.grid if profile.grid_id else None
    return render(request, "home/grid_join.html", {"grid": grid, "current": current, "move": True})
