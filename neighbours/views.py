"""Residents' neighbour-help pages: the grid's board, a post, a new post, my posts and help, my skills.

Thin: each binds the input, calls one service and shows its error. Every page is personal (a grid's posts are
for its residents): PrivateResponseMiddleware sends them with `Cache-Control: private, no-store`.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from home.i18n import label

from . import services
from .forms import BoardFilterForm, DoneForm, PostForm, ReportForm, ResponseForm, SkillsForm, ThanksForm
from .models import HelperProfile, Post, PostPhoto, Response

PER_PAGE = 20


def _error_text(error: Exception) -> str:
    return str(error) if str(error) else _("This is not possible.")


def _readable_post(request: HttpRequest, post_id: int) -> Post:
    post = Post.objects.select_related("grid__community", "community", "author__profile").filter(pk=post_id).first()
    if post is None or not services.can_read_post(request.user, post):
        # Another grid's posts are as absent as ids never used.
        raise Http404(_("This post does not exist."))
    return post


def _own_response(request: HttpRequest, post: Post, response_id: int) -> Response:
    response = post.responses.select_related("responder__profile").filter(pk=response_id).first()
    if response is None:
        raise Http404(_("This response does not exist."))
    response.post = post
    return response


def _back(post: Post):
    return redirect("neighbours:post", post_id=post.pk)


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """The open posts of the resident's grid, urgent first; filtered by kind and category."""
    grid = services.grid_of(request.user)
    if grid is None:
        return render(request, "neighbours/no_grid.html", status=200)
    form = BoardFilterForm(request.GET or None)
    posts = services.open_posts(grid).select_related("author__profile")
    if form.is_valid():
        if form.cleaned_data["kind"]:
            posts = posts.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data["category"]:
            posts = posts.filter(category=form.cleaned_data["category"])
    page = Paginator(posts, PER_PAGE).get_page(request.GET.get("page"))
    services.count_answers(page.object_list)
    return render(
        request,
        "neighbours/board.html",
        {"grid": grid, "grid_name": label(grid, mark_missing=True), "page_obj": page, "filter_form": form},
    )


@login_required
@require_GET
def post_detail(request: HttpRequest, post_id: int) -> HttpResponse:
    post = _readable_post(request, post_id)
    user = request.user
    as_poster = services.acts_for_poster(user, post)
    responses = list(post.responses.select_related("responder__profile", "thanks").order_by("created_at", "pk"))
    mine = next((r for r in responses if r.responder_id == user.pk), None)
    rows = []
    for response in responses:
        response.post = post
        if as_poster:
            rows.append(
                {"response": response, "contact": services.contact_for(viewer=user, person=response.responder, response=response)}
            )
    poster_contact = services.contact_for(viewer=user, person=post.author, response=mine) if mine is not None else None
    return render(
        request,
        "neighbours/post.html",
        {
            "post": post,
            "as_poster": as_poster,
            "is_staff": services.is_staff_of(user, post.community),
            # Residents of the grid answer; staff of the community read (and moderate in the admin).
            "can_respond": post.is_open and getattr(services.profile_of(user), "grid_id", None) == post.grid_id,
            "rows": rows,
            "accepted_count": sum(1 for r in responses if r.is_matched),
            "mine": mine,
            "poster_contact": poster_contact,
            "photos": post.photos.only("pk", "width", "height"),
            "response_form": ResponseForm(),
            "done_form": DoneForm(),
            "thanks_form": ThanksForm(),
            "report_form": ReportForm(),
        },
    )


@login_required
@require_GET
def post_photo(request: HttpRequest, post_id: int, pk: int) -> HttpResponse:
    post = _readable_post(request, post_id)
    photo = PostPhoto.objects.filter(pk=pk, post=post).first()
    if photo is None:
        raise Http404(_("This photo does not exist."))
    return HttpResponse(bytes(photo.data), content_type=photo.content_type)


@login_required
@require_http_methods(["GET", "POST"])
def new_post(request: HttpRequest) -> HttpResponse:
    grid = services.grid_of(request.user)
    if grid is None:
        return render(request, "neighbours/no_grid.html")
    form = PostForm(request.POST or None, request.FILES or None, initial={"kind": request.GET.get("kind", "request")})
    if request.method == "POST" and form.is_valid():
        try:
            post = services.create_post(author=request.user, grid=grid, photos=form.photo_uploads(), **form.post_fields())
        except (services.NeighbourError, PermissionDenied) as error:
            form.add_error(None, _error_text(error))
        else:
            messages.success(request, _("Posted. Neighbours in your grid can see it now."))
            return _back(post)
    return render(
        request,
        "neighbours/new_post.html",
        {"form": form, "grid_name": label(grid, mark_missing=True)},
        status=400 if request.method == "POST" else 200,
    )


def _acting(request: HttpRequest, post: Post, action, success: str):
    try:
        action()
    except (services.NeighbourError, PermissionDenied) as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, success)
    return _back(post)


@login_required
@require_POST
def respond(request: HttpRequest, post_id: int) -> HttpResponse:
    """Offer help, or claim the item."""
    post = _readable_post(request, post_id)
    form = ResponseForm(request.POST)
    message = form.cleaned_data["message"] if form.is_valid() else ""
    if not form.is_valid():
        messages.error(request, _("The message is too long."))
        return _back(post)
    success = _("Claimed: you can now see the poster's contact.") if post.is_item else _("Sent. The poster will answer.")
    return _acting(request, post, lambda: services.offer_help(post=post, responder=request.user, message=message), success)


@login_required
@require_POST
def answer(request: HttpRequest, post_id: int, response_id: int) -> HttpResponse:
    """The poster accepts or declines a response."""
    post = _readable_post(request, post_id)
    response = _own_response(request, post, response_id)
    if request.POST.get("action") == "accept":
        return _acting(
            request,
            post,
            lambda: services.accept(response=response, actor=request.user),
            _("Accepted. You can now see each other's contact."),
        )
    return _acting(request, post, lambda: services.decline(response=response, actor=request.user), _("Declined."))


@login_required
@require_POST
def withdraw(request: HttpRequest, post_id: int, response_id: int) -> HttpResponse:
    post = _readable_post(request, post_id)
    response = _own_response(request, post, response_id)
    return _acting(request, post, lambda: services.withdraw(response=response, actor=request.user), _("Withdrawn."))


@login_required
@require_POST
def done(request: HttpRequest, post_id: int, response_id: int) -> HttpResponse:
    post = _readable_post(request, post_id)
    response = _own_response(request, post, response_id)
    form = DoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please check the hours and the amount."))
        return _back(post)

    def confirm():
        services.confirm_done(
            response=response,
            actor=request.user,
            hours=services.parse_hours(form.cleaned_data["hours"]),
            amount=services.parse_amount(form.cleaned_data["amount"]),
            amount_note=form.cleaned_data["amount_note"],
        )

    return _acting(request, post, confirm, _("Thank you. It is done once both of you confirmed."))


@login_required
@require_POST
def thank(request: HttpRequest, post_id: int, response_id: int) -> HttpResponse:
    post = _readable_post(request, post_id)
    response = _own_response(request, post, response_id)
    form = ThanksForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write a few words of thanks (at most 300 characters)."))
        return _back(post)
    return _acting(
        request,
        post,
        lambda: services.thank(response=response, actor=request.user, text=form.cleaned_data["text"]),
        _("Thanks sent."),
    )


@login_required
@require_POST
def close(request: HttpRequest, post_id: int) -> HttpResponse:
    post = _readable_post(request, post_id)
    return _acting(request, post, lambda: services.close_post(post=post, actor=request.user), _("Closed."))


@login_required
@require_POST
def report(request: HttpRequest, post_id: int) -> HttpResponse:
    post = _readable_post(request, post_id)
    form = ReportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a reason."))
        return _back(post)
    about_person = form.cleaned_data["about"] == "person"

    def file_report():
        services.report(
            reporter=request.user,
            reason=form.cleaned_data["reason"],
            text=form.cleaned_data["text"],
            post=None if about_person else post,
            person=post.author if about_person else None,
        )

    return _acting(request, post, file_report, _("Thank you. Community staff will look at it."))


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """My posts and the help I offered or received, newest first."""
    user = request.user
    posts = (
        Post.objects.filter(author=user)
        .annotate(offers=Count("responses", filter=Q(responses__status__in=["offered", "accepted"])))
        .order_by("-created_at", "-pk")[:50]
    )
    responses = Response.objects.filter(responder=user).select_related("post").order_by("-created_at", "-pk")[:50]
    return render(request, "neighbours/mine.html", {"posts": posts, "responses": responses})


@login_required
@require_http_methods(["GET", "POST"])
def skills(request: HttpRequest) -> HttpResponse:
    """What I can help with and when; open requests that match."""
    helper = HelperProfile.objects.filter(user=request.user).first()
    initial = (
        {
            "categories": helper.categories,
            "availability": helper.availability,
            "note": helper.note,
            "weekly_digest": helper.weekly_digest,
        }
        if helper
        else {}
    )
    form = SkillsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_helper_profile(user=request.user, **form.cleaned_data)
        except services.NeighbourError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Saved."))
            return redirect("neighbours:skills")
    return render(
        request,
        "neighbours/skills.html",
        {"form": form, "suggestions": services.suggestions_for(request.user)},
        status=400 if request.method == "POST" else 200,
    )
