"""The API's classes and activities (/api/v1/activities/, /sessions/, /me/bookings/, /me/household/): the pages'
queries (listing.py), forms (forms.py) and services (services.py), answered as JSON. No rule lives here.

The waiting list has no address of its own, as on the pages: booking a full session is joining it (the booking
answers `waitlisted` with its place in line), and cancelling that booking is leaving it."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated

from django.conf import settings
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Path, Query, Router, Schema, Status
from pydantic import ConfigDict, Field
from wagtail.models import Locale

from api.core import (
    ApiError,
    ErrorOut,
    ListParams,
    form_errors,
    invalid,
    json_with_etag,
    optional_resident,
    page_of,
    resident_auth,
    shared_json,
)
from plumbing.parsing import MAX_PK
from plumbing.qr import qr_svg

from . import services
from .forms import HouseholdMemberForm
from .listing import STREET_LIST_DEPTH, Filters, filtered_activities
from .models import BOOKINGS_GENERATION, ActivityIndexPage, ActivityPage, Booking, HouseholdMember, Session

router = Router(tags=["activities"])

Id = Annotated[int, Path(ge=1, le=MAX_PK)]


class SessionOut(Schema):
    id: int
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    place: str
    capacity: int
    seats_left: int
    status: str
    booking_url: str


class ActivitySummary(Schema):
    id: int
    title: str
    summary: str
    kind: str
    category: str
    age_band: str
    community: str | None
    next_starts_at: datetime.datetime | None
    free_seats: int


class ActivityList(Schema):
    items: list[ActivitySummary]
    next: str | None


class ActivityDetail(ActivitySummary):
    organiser: str
    venue: str
    booking_opens: str
    sessions: list[SessionOut]


class BookingOut(Schema):
    id: int
    code: str
    status: str
    status_label: str
    participant: str
    session_id: int
    activity: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    waiting_position: int | None
    late_cancellation: bool


class BookingList(Schema):
    items: list[BookingOut]
    next: str | None


class BookingIn(Schema):
    # A household member (their id, from the household list); empty: the resident themself.
    member: int | None = Field(default=None, ge=1, le=MAX_PK)
    guardian_consent: bool = False


class Ticket(Schema):
    code: str
    display_code: str
    qr_svg: str


def _street_index() -> ActivityIndexPage | None:
    """The street's activity list of the request's language (as the menu's Classes link picks it)."""
    lists = ActivityIndexPage.objects.live().filter(depth__lte=STREET_LIST_DEPTH).order_by("path")
    return lists.filter(locale=Locale.get_active()).first() or lists.first()


def _summary(activity, *, next_starts_at, free_seats) -> dict:
    return {
        "id": activity.pk,
        "title": activity.title,
        "summary": activity.summary,
        "kind": activity.kind,
        "category": activity.category,
        "age_band": activity.age_band,
        "community": activity.community.name if activity.community_id else None,
        "next_starts_at": next_starts_at,
        "free_seats": free_seats,
    }


def _session(session: Session) -> dict:
    return {
        "id": session.pk,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "place": session.place,
        "capacity": session.capacity,
        "seats_left": session.seats_left,
        "status": session.status,
        "booking_url": f"/api/v1/sessions/{session.pk}/bookings/",
    }


# What _booking reads: the list loads only these (an activity page's row is wide: its body, Wagtail's columns).
BOOKING_FIELDS = (
    "code",
    "status",
    "participant_name",
    "queued_at",
    "late_cancellation",
    "session__starts_at",
    "session__ends_at",
    "session__activity__translation_key",
    "session__activity__title",
)


def _titles(bookings: list[Booking]) -> dict:
    """Each booking's activity titled in the request's language (as `.localized` would), in one query."""
    keys = {booking.session.activity.translation_key for booking in bookings}
    translated = ActivityPage.objects.live().filter(translation_key__in=keys, locale=Locale.get_active())
    return dict(translated.values_list("translation_key", "title"))


def _booking(booking: Booking, titles: dict | None = None) -> dict:
    activity = booking.session.activity
    titles = _titles([booking]) if titles is None else titles
    return {
        "id": booking.pk,
        "code": booking.code,
        "status": booking.status,
        "status_label": str(booking.get_status_display()),
        "participant": booking.participant_name,
        "session_id": booking.session_id,
        "activity": titles.get(activity.translation_key, activity.title),
        "starts_at": booking.session.starts_at,
        "ends_at": booking.session.ends_at,
        "waiting_position": booking.waiting_position() if booking.status == Booking.Status.WAITLISTED else None,
        "late_cancellation": booking.late_cancellation,
    }


@router.get("/activities/", response=ActivityList, summary="Activities with their next session and its free seats")
def list_activities(request: HttpRequest, params: Query[ListParams]):
    def build() -> dict:
        index = _street_index()
        if index is None:
            return {"items": [], "next": None}
        activities, following = page_of(filtered_activities(index, Filters()), params.cursor, params.limit)
        items = [_summary(each, next_starts_at=each.next_starts_at, free_seats=each.free_seats) for each in activities]
        return {"items": items, "next": following}

    # The same for everyone, as the anonymous list page: seats left at most LINLI_SEATS_CACHE_SECONDS old.
    return shared_json(request, build, seconds=settings.LINLI_SEATS_CACHE_SECONDS, params=params)


@router.get("/activities/{activity_id}/", response=ActivityDetail, summary="An activity with its sessions and seats")
def get_activity(request: HttpRequest, activity_id: Id):
    activity = ActivityPage.objects.live().filter(pk=activity_id).select_related("community").first()
    if activity is None or not services.is_visible_to(activity=activity, user=optional_resident(request)):
        raise Http404
    page = activity.localized
    now = timezone.now()
    sessions = list(page.sessions().filter(ends_at__gt=now).select_related("activity").order_by("starts_at", "pk")[:60])
    upcoming = [each for each in sessions if each.status == Session.Status.SCHEDULED and each.starts_at > now]
    data = _summary(
        page,
        next_starts_at=upcoming[0].starts_at if upcoming else None,
        free_seats=upcoming[0].seats_left if upcoming else 0,
    )
    data.update(
        organiser=page.organiser,
        venue=page.venue,
        booking_opens=page.booking_window_state(now),
        sessions=[_session(each) for each in sessions],
    )
    return json_with_etag(request, data)


@router.get("/me/bookings/", response=BookingList, auth=resident_auth, summary="The resident's bookings, soonest first")
def my_bookings(request: HttpRequest, params: Query[ListParams]):
    def build() -> dict:
        bookings = (
            Booking.objects.filter(resident=request.auth)
            .select_related("session__activity")
            .only(*BOOKING_FIELDS)
            .order_by("-session__starts_at", "-pk")
        )
        page, following = page_of(bookings, params.cursor, params.limit)
        titles = _titles(page)
        return {"items": [_booking(each, titles) for each in page], "next": following}

    # Kept until any booking or session changes (a waiting place moves when someone ahead leaves), or an hour.
    return shared_json(request, build, seconds=3600, params=params, personal=True, generations=(BOOKINGS_GENERATION,))


def _own_booking(request: HttpRequest, booking_id: int) -> Booking:
    """Another resident's booking is answered 404, as one that does not exist: its id tells nothing."""
    booking = Booking.objects.select_related("session__activity").filter(pk=booking_id, resident=request.auth).first()
    if booking is None:
        raise Http404
    return booking


@router.get("/me/bookings/{booking_id}/", response=BookingOut, auth=resident_auth, summary="One of the resident's bookings")
def get_booking(request: HttpRequest, booking_id: Id):
    return json_with_etag(request, _booking(_own_booking(request, booking_id)))


@router.post(
    "/sessions/{session_id}/bookings/",
    response={200: BookingOut, 201: BookingOut},
    auth=resident_auth,
    summary="Book a place for the resident or a household member",
    description="Send an Idempotency-Key (a UUID) to make the request safe to retry: a replay returns the "
    "booking it made, with 200, and books nothing more.",
)
def book(
    request: HttpRequest,
    session_id: Id,
    payload: BookingIn,
    idempotency_key: Annotated[uuid.UUID | None, Header(alias="Idempotency-Key")] = None,
):
    resident = request.auth
    session = Session.objects.select_related("activity").filter(pk=session_id).first()
    if session is None or not services.is_visible_to(activity=session.activity, user=resident):
        raise Http404
    member = None
    if payload.member is not None:
        member = HouseholdMember.objects.filter(pk=payload.member, resident=resident).first()
        if member is None:
            raise invalid({"member": _("This person is not in your household.")})
    replay = idempotency_key is not None and Booking.objects.filter(request_token=idempotency_key).exists()
    bookings = services.book_session(
        session=session,
        resident=resident,
        actor=resident,
        member=member,
        guardian_consent=payload.guardian_consent,
        request_token=idempotency_key,
    )
    # The service's bookings come with their sessions and activities (read for the decision): nothing to read again.
    chosen = next((each for each in bookings if each.session_id == session.pk), bookings[0])
    return Status(200 if replay else 201, _booking(chosen))


@router.post("/me/bookings/{booking_id}/cancel/", response=BookingOut, auth=resident_auth, summary="Cancel a booking")
def cancel(request: HttpRequest, booking_id: Id):
    booking = _own_booking(request, booking_id)
    services.cancel_booking(booking=booking, actor=request.auth)
    booking.refresh_from_db()
    return _booking(booking)


@router.get("/me/bookings/{booking_id}/ticket/", response=Ticket, auth=resident_auth, summary="The ticket: code and QR (SVG)")
def ticket(request: HttpRequest, booking_id: Id):
    booking = _own_booking(request, booking_id)
    if booking.status != Booking.Status.CONFIRMED:
        raise ApiError(409, "no_ticket", _("Only a confirmed booking has a ticket."))
    svg = qr_svg(booking.ticket_text, title=booking.display_code)  # the My bookings page's QR
    return json_with_etag(request, {"code": booking.code, "display_code": booking.display_code, "qr_svg": svg})


# ---------------------------------------------------------------------------
# My household: the household page's form and services


class HouseholdMemberOut(Schema):
    id: int
    name: str
    birth_year: int
    relation: str
    relation_label: str
    guardian_consent_at: datetime.datetime | None


class HouseholdList(Schema):
    items: list[HouseholdMemberOut]
    next: str | None


class HouseholdMemberIn(Schema):
    model_config = ConfigDict(extra="forbid")
    # Checked by the household page's form (HouseholdMemberForm): its messages, in the request's language.
    name: str
    birth_year: int
    relation: str = Field(description="child, parent, spouse or other")
    guardian_consent: bool = False


class HouseholdMemberPatch(Schema):
    model_config = ConfigDict(extra="forbid")  # a body that is not an object of these fields is refused
    name: str | None = None
    birth_year: int | None = None
    relation: str | None = Field(default=None, description="child, parent, spouse or other")
    guardian_consent: bool | None = None


def _member(member: HouseholdMember) -> dict:
    return {
        "id": member.pk,
        "name": member.name,
        "birth_year": member.birth_year,
        "relation": member.relation,
        "relation_label": str(member.get_relation_display()),
        "guardian_consent_at": member.guardian_consent_at,
    }


def _own_member(request: HttpRequest, member_id: int) -> HouseholdMember:
    """Another resident's household member is answered 404, as one that does not exist."""
    member = HouseholdMember.objects.filter(pk=member_id, resident=request.auth).first()
    if member is None:
        raise Http404
    return member


def _household_form(data: dict) -> dict:
    """The household page's form over the data; its field errors as a 422."""
    form = HouseholdMemberForm({name: value for name, value in data.items() if value is not None})
    if not form.is_valid():
        raise invalid(form_errors(form))
    return form.cleaned_data


def _refused(error: services.BookingError) -> ApiError:
    return ApiError(409, "household_refused", str(error))


@router.get(
    "/me/household/",
    response={200: HouseholdList, 401: ErrorOut, 422: ErrorOut},
    auth=resident_auth,
    summary="The resident's household: the children and relatives they book for",
)
def my_household(request: HttpRequest, params: Query[ListParams]):
    members, following = page_of(request.auth.household_members.all(), params.cursor, params.limit)
    return json_with_etag(request, {"items": [_member(each) for each in members], "next": following})


@router.post(
    "/me/household/",
    response={201: HouseholdMemberOut, 401: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    auth=resident_auth,
    summary="Add a person to the household (a child under 14 needs guardian_consent)",
)
def add_member(request: HttpRequest, payload: HouseholdMemberIn):
    cleaned = _household_form(payload.dict())
    try:
        member = services.add_household_member(resident=request.auth, **cleaned)
    except services.BookingError as error:
        raise _refused(error) from error
    return Status(201, _member(member))


@router.patch(
    "/me/household/{member_id}/",
    response={200: HouseholdMemberOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    auth=resident_auth,
    summary="Correct a household member (the birth year only while they have no bookings to come)",
)
def change_member(request: HttpRequest, member_id: Id, payload: HouseholdMemberPatch):
    member = _own_member(request, member_id)
    current = {"name": member.name, "birth_year": member.birth_year, "relation": member.relation, "guardian_consent": False}
    cleaned = _household_form({**current, **payload.dict(exclude_unset=True)})
    try:
        member = services.update_household_member(member=member, resident=request.auth, **cleaned)
    except services.BookingError as error:
        raise _refused(error) from error
    return _member(member)


@router.delete(
    "/me/household/{member_id}/",
    response={204: None, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=resident_auth,
    summary="Remove a person from the household (once their bookings to come are cancelled)",
)
def remove_member(request: HttpRequest, member_id: Id):
    member = _own_member(request, member_id)
    try:
        services.remove_household_member(member=member, resident=request.auth)
    except services.BookingError as error:
        raise _refused(error) from error
    return Status(204, None)
