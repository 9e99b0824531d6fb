"""Staff pages in the Wagtail admin: the moderation queue, a post, posting for a resident, the dashboard.

Each page is for the staff of a community (and the street office) and shows only their communities' posts and
reports; the services check that again for every change.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Avg, Count, F, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from home.i18n import english_active
from home.phone import mobile_matches
from home.scope import for_request, staff_only
from plumbing.audit import history
from plumbing.charts import bar_chart

from . import services
from .forms import ModerationForm, OnBehalfForm
from .models import Category, Post, Report, Response

neighbours_staff_required = staff_only()
PER_PAGE = 30


def _render(request: HttpRequest, template: str, title: str, context: dict, *, icon: str = "group") -> HttpResponse:
    return render(request, template, {"page_title": title, "header_title": title, "header_icon": icon, **context})


def _posts(request: HttpRequest):
    return for_request(request).filter(Post.objects.all(), "community")


@neighbours_staff_required
def queue(request: HttpRequest) -> HttpResponse:
    """Reports not handled yet, oldest first, then the latest handled ones."""
    reports = (
        for_request(request)
        .filter(Report.objects.all(), "community")
        .select_related("post", "person__profile", "reported_by__profile", "community")
    )
    open_reports = reports.filter(handled_at__isnull=True).order_by("created_at", "pk")
    page = Paginator(open_reports, PER_PAGE).get_page(request.GET.get("page"))
    handled = reports.filter(handled_at__isnull=False).select_related("handled_by").order_by("-handled_at", "-pk")[:20]
    return _render(
        request,
        "neighbours/admin/queue.html",
        _("Neighbour help: reports"),
        {"page_obj": page, "handled": handled, "form": ModerationForm()},
        icon="warning",
    )


@neighbours_staff_required
def moderate(request: HttpRequest, report_id: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("neighbours_admin:queue")
    item = for_request(request).filter(Report.objects.all(), "community").select_related("post", "person", "community")
    item = item.filter(pk=report_id).first()
    if item is None:
        raise Http404(_("This report does not exist."))
    form = ModerationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an action; a suspension needs 1 to 365 days."))
        return redirect("neighbours_admin:queue")
    action, reason = form.cleaned_data["action"], form.cleaned_data["reason"]
    person = item.person or (item.post.author if item.post else None)
    try:
        if action == "hide":
            if item.post is None:
                raise services.NeighbourError(_("This report is about a person, not a post."))
            services.hide_post(post=item.post, actor=request.user, reason=reason)
        elif action == "warn":
            services.warn_resident(resident=person, community=item.community, actor=request.user, reason=reason, report=item)
        elif action == "suspend":
            services.suspend_posting(
                resident=person,
                community=item.community,
                actor=request.user,
                days=form.cleaned_data["days"] or 0,
                reason=reason,
                report=item,
            )
        else:
            services.dismiss_report(report=item, actor=request.user)
    except (services.NeighbourError, PermissionDenied) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Done."))
    return redirect("neighbours_admin:queue")


@neighbours_staff_required
def post_list(request: HttpRequest) -> HttpResponse:
    posts = _posts(request).select_related("grid", "author__profile").order_by("-created_at", "-pk")
    status = request.GET.get("status", "")
    if status in Post.Status.values:
        posts = posts.filter(status=status)
    page = Paginator(posts, PER_PAGE).get_page(request.GET.get("page"))
    return _render(
        request,
        "neighbours/admin/posts.html",
        _("Neighbour help: posts"),
        {"page_obj": page, "status": status, "statuses": Post.Status.choices},
    )


@neighbours_staff_required
def post_page(request: HttpRequest, post_id: int) -> HttpResponse:
    post = _posts(request).select_related("grid", "community", "author__profile", "posted_by").filter(pk=post_id).first()
    if post is None:
        raise Http404(_("This post does not exist."))
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        try:
            if request.POST.get("action") == "hide":
                services.hide_post(post=post, actor=request.user, reason=reason)
            else:
                services.warn_resident(resident=post.author, community=post.community, actor=request.user, reason=reason)
        except (services.NeighbourError, PermissionDenied) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Done."))
        return redirect("neighbours_admin:post", post_id=post.pk)
    responses = post.responses.select_related("responder__profile").order_by("created_at", "pk")
    return _render(
        request,
        "neighbours/admin/post.html",
        post.title,
        {"post": post, "responses": responses, "history": history(post), "reports": post.reports.order_by("-created_at")},
    )


@neighbours_staff_required
def on_behalf(request: HttpRequest) -> HttpResponse:
    """Post for a resident of the staff member's community who has no phone."""
    form = OnBehalfForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        resident = _find_resident(request, form.cleaned_data["resident"])
        if resident is None:
            form.add_error("resident", _("No resident of your communities has this mobile number, e-mail or username."))
        else:
            try:
                post = services.post_on_behalf(
                    actor=request.user,
                    resident=resident,
                    consent_recorded=form.cleaned_data["consent"],
                    photos=form.photo_uploads(),
                    **form.post_fields(),
                )
            except (services.NeighbourError, PermissionDenied) as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Posted for the resident."))
                return redirect("neighbours_admin:post", post_id=post.pk)
    return _render(request, "neighbours/admin/on_behalf.html", _("Post for a resident"), {"form": form}, icon="plus")


def _find_resident(request: HttpRequest, text: str):
    text = text.strip()
    residents = for_request(request).filter(
        get_user_model().objects.filter(is_active=True, profile__isnull=False), "profile__community"
    )
    found = residents.filter(Q(username=text) | Q(email__iexact=text) | mobile_matches(text, "profile__mobile"))[:2]
    return found[0] if len(found) == 1 else None


def dashboard_figures(request: HttpRequest, *, now: datetime.datetime | None = None) -> dict:
    """Requests by grid and category, time to first offer, completion rate, requests unanswered for 48 hours."""
    now = now or timezone.now()
    posts = _posts(request)
    requests = posts.filter(kind__in=["request", "donation"])
    by_grid = list(
        requests.values("grid__pk", "grid__name", "grid__name_en", "grid__community__name")
        .annotate(total=Count("pk"), done=Count("pk", filter=Q(status=Post.Status.DONE)))
        .order_by("grid__community__name", "grid__pk")
    )
    by_category = dict(requests.values_list("category").annotate(total=Count("pk")).order_by())
    first_offer = requests.filter(first_response_at__isnull=False).aggregate(
        average=Avg(F("first_response_at") - F("created_at"))
    )["average"]
    finished = requests.filter(status__in=[Post.Status.DONE, Post.Status.CLOSED, Post.Status.EXPIRED]).aggregate(
        total=Count("pk"), done=Count("pk", filter=Q(status=Post.Status.DONE))
    )
    unanswered = list(
        requests.filter(
            status=Post.Status.OPEN,
            expires_at__gt=now,
            first_response_at__isnull=True,
            created_at__lte=now - services.UNANSWERED_AFTER,
        )
        .select_related("grid")
        .order_by("created_at")[:50]
    )
    for row in by_grid:
        row["label"] = row["grid__name_en"] if (english_active() and row["grid__name_en"]) else row["grid__name"]
    categories = [(str(name), by_category.get(code, 0)) for code, name in Category.choices]
    return {
        "by_grid": by_grid,
        "by_category": categories,
        "first_offer_hours": round(first_offer.total_seconds() / 3600, 1) if first_offer is not None else None,
        "completion_rate": round(100 * finished["done"] / finished["total"]) if finished["total"] else None,
        "finished": finished,
        "unanswered": unanswered,
        "helped": Response.objects.filter(post__in=posts, status=Response.Status.DONE).count(),
    }


@neighbours_staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    figures = dashboard_figures(request)
    charts = {
        "grid": bar_chart(
            [(row["label"], row["total"]) for row in figures["by_grid"]],
            title=_("Requests by grid"),
            desc=_("The table below gives the same numbers."),
            key="neighbours-grid",
        )
        if figures["by_grid"]
        else "",
        "category": bar_chart(
            figures["by_category"],
            title=_("Requests by category"),
            desc=_("The table below gives the same numbers."),
            key="neighbours-category",
        ),
    }
    return _render(
        request,
        "neighbours/admin/dashboard.html",
        _("Neighbour help dashboard"),
        {"figures": figures, "charts": charts},
        icon="table",
    )
