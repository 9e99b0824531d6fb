"""Residents' booking pages: book, cancel, My bookings, household, tickets and calendar files."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from plumbing.links import absolute_url
from plumbing.qr import qr_svg

from . import services
from .calendar import booking_calendar
from .forms import BookingForm, HouseholdMemberForm
from .models import ActivityIndexPage, Booking, CalendarFeed, Draw, HouseholdMember, Session


@require_GET
def classes(request: HttpRequest) -> HttpResponse:
    """The menu's "Classes and activities": the activity list of the language in use, wherever editors put it.

    A fixed address costs every page's menu nothing (looking the page up in the menu would cost a query)."""
    index = ActivityIndexPage.objects.live().filter(locale__language_code=translation.get_language()).order_by("path").first()
    if index is None:
        index = ActivityIndexPage.objects.live().order_by("path").first()
    if index is None:
        raise Http404(_("There are no classes or activities yet."))
    return redirect(index.get_url(request=request))


def _back_to_activity(session: Session | None):
    page = session.activity.localized if session is not None else None
    return redirect(page.url if page is not None and page.live else "events:my_bookings")


@login_required
@require_POST
def book(request: HttpRequest, session_id: int) -> HttpResponse:
    session = services.kept_session(session_id)
    if session is None or session.activity is None or not services.is_visible_to(activity=session.activity, user=request.user):
        # A draft or private activity's sessions are as absent as ids that were never used.
        messages.error(request, _("This session does not exist."))
        return redirect("events:my_bookings")
    form = BookingForm(request.POST, resident=request.user)
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return _back_to_activity(session)
    booked = {
        "member": form.cleaned_data["participant"],
        "guardian_consent": form.cleaned_data["guardian_consent"],
        "request_token": form.cleaned_data["request_token"],
    }
    try:
        if services.takes_requests(session):  # decided with the others booking it now, usually before the answer
            sent = services.request_booking(session=session, resident=request.user, **booked)
            if sent.decided_at is None:
                messages.info(
                    request, _("Your booking is in the queue, in the order it arrived: the answer shows below in a moment.")
                )
                return redirect("events:my_bookings")
            if sent.booking is None:
                raise services.BookingError(sent.refusal)
            bookings = [sent.booking]
        else:
            bookings = services.book_session(session=session, resident=request.user, actor=request.user, **booked)
    except (services.BookingError, PermissionDenied) as error:
        messages.error(request, str(error))
        return _back_to_activity(session)
    first = bookings[0]
    if first.status == Booking.Status.CONFIRMED:
        messages.success(request, _("Booked: your ticket is below."))
    elif first.status == Booking.Status.APPLIED:
        messages.success(request, _("Your application is in. The draw runs when applications close."))
    else:
        messages.success(
            request,
            _("The session is full: you are number %(position)s on the waiting list.") % {"position": first.waiting_position()},
        )
    return redirect("events:my_bookings")


def _own_booking(request: HttpRequest, code: str) -> Booking:
    """A booking of the logged-in resident by its code; anybody else's is 'not found'."""
    booking = Booking.objects.select_related("session__activity").filter(code=code, resident=request.user).first()
    if booking is None:
        raise Http404(_("No booking of yours has this code."))
    return booking


@login_required
@require_POST
def cancel(request: HttpRequest, code: str) -> HttpResponse:
    booking = _own_booking(request, code)
    try:
        cancelled = services.cancel_booking(booking=booking, actor=request.user)
    except services.BookingError as error:
        messages.error(request, str(error))
    else:
        if cancelled[0].late_cancellation:
            messages.warning(request, _("Cancelled. It was after the deadline, so it counts as a late cancellation."))
        elif booking.status == Booking.Status.WAITLISTED:
            messages.success(request, _("You have left the waiting list."))
        else:
            messages.success(request, _("Cancelled. Thank you for freeing the seat."))
    return redirect("events:my_bookings")


def _qr_svg(booking: Booking) -> str:
    return qr_svg(booking.ticket_text, title=booking.display_code)


@login_required
@require_GET
def my_bookings(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    bookings = list(
        Booking.objects.filter(resident=request.user)
        .select_related("session__activity", "session__draw")
        .order_by("session__starts_at", "pk")
    )
    upcoming = [b for b in bookings if b.session.ends_at > now and b.status != Booking.Status.CANCELLED]
    past = [b for b in bookings if b not in upcoming][-30:][::-1]
    feed, _created = CalendarFeed.objects.get_or_create(resident=request.user)
    requests = services.requests_to_show(request.user, now=now)
    return render(
        request,
        "events/my_bookings.html",
        {
            "pending": [sent for sent in requests if sent.decided_at is None],
            "refused": [sent for sent in requests if sent.decided_at is not None],
            "upcoming": [{"booking": b, "qr": _qr_svg(b) if b.status == Booking.Status.CONFIRMED else ""} for b in upcoming],
            "past": past,
            "suspension": services.suspension_of(request.user, now=now),
            "feed_url": absolute_url(f"/calendar/{feed.token}.ics"),
        },
    )


@login_required
@require_GET
def booking_ics(request: HttpRequest, code: str) -> HttpResponse:
    booking = _own_booking(request, code)
    response = HttpResponse(booking_calendar([booking]), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="linli-{booking.code}.ics"'
    return response


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A resident's private feed of upcoming and recent bookings, for their phone's calendar app."""
    feed = CalendarFeed.objects.select_related("resident__profile").filter(token=token).first()
    if feed is None:
        raise Http404
    profile = getattr(feed.resident, "profile", None)
    bookings = (
        Booking.objects.filter(resident=feed.resident, status__in=(*Booking.HOLDING_SEAT, Booking.Status.CANCELLED))
        .filter(session__ends_at__gt=timezone.now() - datetime.timedelta(days=60))
        .select_related("session__activity")
        .order_by("session__starts_at")[:200]
    )
    with translation.override(profile.preferred_language if profile else None):
        body = booking_calendar(list(bookings))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def reset_calendar_feed(request: HttpRequest) -> HttpResponse:
    CalendarFeed.objects.filter(resident=request.user).delete()
    CalendarFeed.objects.create(resident=request.user)
    messages.success(request, _("Your calendar address has been changed; the old one no longer works."))
    return redirect("events:my_bookings")


@login_required
def household(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = HouseholdMemberForm(request.POST)
        if form.is_valid():
            try:
                services.add_household_member(resident=request.user, **form.cleaned_data)
            except services.BookingError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("%(name)s has been added to your household.") % {"name": form.cleaned_data["name"]})
                return redirect("events:household")
    else:
        form = HouseholdMemberForm()
    return render(request, "events/household.html", {"form": form, "members": request.user.household_members.all()})


@login_required
@require_POST
def remove_household_member(request: HttpRequest, member_id: int) -> HttpResponse:
    member = get_object_or_404(HouseholdMember, pk=member_id, resident=request.user)
    try:
        services.remove_household_member(member=member, resident=request.user)
    except services.BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Removed from your household."))
    return redirect("events:household")


@require_GET
def draw_result(request: HttpRequest, session_id: int) -> HttpResponse:
    """The published draw: seed, entrants and order, and how to re-run it."""
    draw = get_object_or_404(Draw.objects.select_related("session__activity"), session_id=session_id)
    if not services.is_visible_to(activity=draw.session.activity, user=request.user):
        raise Http404
    ranked = [{"rank": rank, "number": number, "won": rank <= draw.seats} for rank, number in enumerate(draw.order, start=1)]
    first_timers = sorted(entrant["number"] for entrant in draw.entrants if entrant["first_timer"])
    numbers = sorted(entrant["number"] for entrant in draw.entrants)
    check_code = f"import random\nnumbers = {numbers!r}\nrandom.Random({draw.seed!r}).shuffle(numbers)\n"
    if draw.first_timer_priority:
        check_code += f"first = set({first_timers!r})\nnumbers = [n for n in numbers if n in first] + [n for n in numbers if n not in first]\n"
    check_code += "print(numbers)"
    return render(
        request,
        "events/draw.html",
        {
            "draw": draw,
            "activity": draw.session.activity.localized,
            "ranked": ranked,
            "first_timers": set(first_timers),
            "check_code": check_code,
        },
    )
