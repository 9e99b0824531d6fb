"""Staff pages in the Wagtail admin: sessions, rosters, exports, series, check-in at the door.

Every view is scoped to the staff member's communities by `home.scope` (street-wide activities
are run by all staff, superusers see everything): a session or activity out of scope is refused.
Views bind the input, call one service and show its error; the rules live in services.py.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import TemplateView, View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.models import ModelLogEntry

from home.i18n import source_language
from home.models import ResidentProfile
from home.phone import mobile_matches
from home.scope import StaffScope, for_request, staff_only
from plumbing.audit import history as audit_history
from plumbing.charts import bar_chart
from plumbing.spreadsheets import csv_writer, xlsx_row

from . import services
from .admin_forms import (
    BookResidentForm,
    CancelSessionForm,
    CapacityForm,
    CheckInForm,
    DrawForm,
    EmailParticipantsForm,
    ResidentSearchForm,
    SeriesForm,
    SessionFilterForm,
    WalkInForm,
    fingerprint,
)
from .models import ActivityPage, Booking, HouseholdMember, Session

ERRORS = (services.BookingError, PermissionDenied)


# ---------------------------------------------------------------------------
# Scope


def sessions_for(scope: StaffScope) -> QuerySet[Session]:
    """Sessions of the activities the staff member runs: their communities' and the street-wide ones."""
    return scope.filter(Session.objects.select_related("activity"), "activity__community", street_wide=True)


def activities_for(scope: StaffScope) -> QuerySet[ActivityPage]:
    return scope.filter(ActivityPage.objects.select_related("locale"), "community", street_wide=True)


def residents_for(scope: StaffScope) -> QuerySet[ResidentProfile]:
    """Residents staff may book for: their communities' residents (everyone's for a superuser)."""
    return scope.filter(ResidentProfile.objects.select_related("user").filter(user__is_active=True), "community")


def one_per_activity(pages) -> list[ActivityPage]:
    """An activity once, in the default language where there is one (its copies share sessions)."""
    chosen: dict = {}
    for page in sorted(pages, key=lambda page: (page.locale.language_code != source_language(), page.pk)):
        chosen.setdefault(page.translation_key, page)
    return sorted(chosen.values(), key=lambda page: page.title)


class StaffView(WagtailAdminTemplateMixin):
    """Only staff who run activities (a community's staff or heads, or a superuser)."""

    header_icon = "date"

    @method_decorator(staff_only())
    def dispatch(self, request, *args, **kwargs):
        self.check_scope()
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def scope(self) -> StaffScope:
        return for_request(self.request)

    def check_scope(self) -> None:
        """Refuse (PermissionDenied) an object of another community before doing anything."""

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": reverse("events_admin:sessions"), "label": _("Classes and activities")}]


class SessionMixin(StaffView):
    @cached_property
    def session(self) -> Session:
        session = get_object_or_404(Session.objects.select_related("activity__community"), pk=self.kwargs["session_id"])
        self.scope.require(session.activity.community, street_wide=True, message=_("This session belongs to another community."))
        return session

    def check_scope(self) -> None:
        self.session  # noqa: B018 (loads and checks the session)

    def roster_url(self) -> str:
        return reverse("events_admin:roster", args=[self.session.pk])

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), {"url": self.roster_url(), "label": session_label(self.session)}]

    def get_context_data(self, **kwargs):
        return super().get_context_data(session=self.session, **kwargs)


def session_label(session: Session) -> str:
    local = timezone.localtime(session.starts_at)
    return f"{session.activity.title} · {local:%Y-%m-%d %H:%M}"


# ---------------------------------------------------------------------------
# Sessions list


class SessionListView(StaffView, TemplateView):
    template_name = "events/admin/session_list.html"
    page_title = gettext_lazy("Sessions")
    per_page = 50

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": _("Classes and activities")}]

    def get_context_data(self, **kwargs):
        activities = one_per_activity(activities_for(self.scope))
        form = SessionFilterForm(
            self.request.GET or None, activities=[(str(page.translation_key), page.title) for page in activities]
        )
        filters = form.cleaned_data if form.is_valid() else {}
        now = timezone.now()
        sessions = sessions_for(self.scope).annotate(
            waiting=Count("bookings", filter=Q(bookings__status=Booking.Status.WAITLISTED)),
            applied=Count("bookings", filter=Q(bookings__status=Booking.Status.APPLIED)),
        )
        if filters.get("past"):
            sessions = sessions.filter(ends_at__lte=now).order_by("-starts_at", "-pk")
        else:
            sessions = sessions.filter(ends_at__gt=now).order_by("starts_at", "pk")
        if filters.get("activity"):
            sessions = sessions.filter(activity__translation_key=filters["activity"])
        if filters.get("date_from"):
            sessions = sessions.filter(starts_at__date__gte=filters["date_from"])
        if filters.get("date_to"):
            sessions = sessions.filter(starts_at__date__lte=filters["date_to"])
        page = Paginator(sessions, self.per_page).get_page(self.request.GET.get("p"))
        query = self.request.GET.copy()
        query.pop("p", None)
        today = timezone.localdate().isoformat()
        is_today = self.request.GET.get("date_from") == today and self.request.GET.get("date_to") == today
        return super().get_context_data(
            filter_form=form, page_obj=page, query=query.urlencode(), today=today, is_today=is_today, **kwargs
        )


# ---------------------------------------------------------------------------
# Roster and exports


STATUS_GROUPS = [
    (Booking.Status.CONFIRMED, gettext_lazy("Confirmed")),
    (Booking.Status.WAITLISTED, gettext_lazy("Waiting list, in order")),
    (Booking.Status.APPLIED, gettext_lazy("Applied for the draw")),
    (Booking.Status.ATTENDED, gettext_lazy("Attended")),
    (Booking.Status.NO_SHOW, gettext_lazy("No-show")),
    (Booking.Status.CANCELLED, gettext_lazy("Cancelled")),
]


@dataclass
class RosterGroup:
    status: str
    label: str
    bookings: list[Booking] = field(default_factory=list)


def roster(session: Session) -> list[RosterGroup]:
    """The session's bookings grouped by status; the waiting list in queue order."""
    groups = {status: RosterGroup(status=status, label=str(label)) for status, label in STATUS_GROUPS}
    bookings = (
        Booking.objects.filter(session=session).select_related("resident__profile", "created_by").order_by("queued_at", "pk")
    )
    for booking in bookings:
        groups[booking.status].bookings.append(booking)
    for position, booking in enumerate(groups[Booking.Status.WAITLISTED].bookings, start=1):
        booking.position = position
    return list(groups.values())


def details(entry: ModelLogEntry) -> str:
    """What an audit entry's data says, in the reader's language ("" when nothing beyond the action)."""
    data = entry.data or {}
    parts = []
    if entry.action in ("events.booking.book", "events.booking.book_for_resident", "events.booking.walk_in"):
        if data.get("status") in Booking.Status.values:
            parts.append(str(Booking.Status(data["status"]).label))
    elif entry.action == "events.booking.cancel" and data.get("late"):
        parts.append(_("late cancellation"))
    elif entry.action == "events.booking.check_in" and data.get("points"):
        parts.append(ngettext("%(points)s point", "%(points)s points", data["points"]) % {"points": data["points"]})
    elif entry.action == "events.session.capacity":
        parts.append(_("%(before)s → %(after)s seats") % {"before": data.get("before"), "after": data.get("after")})
    elif entry.action == "events.session.cancel":
        parts.append(data.get("reason", ""))
    elif entry.action == "events.session.draw":
        parts.append(_("seed %(seed)s, %(seats)s confirmed") % {"seed": data.get("seed"), "seats": data.get("seats")})
    elif entry.action == "events.session.email":
        parts.append(data.get("subject", ""))
    if promoted := len(data.get("promoted") or ()):
        parts.append(
            ngettext("%(count)s moved up from the waiting list", "%(count)s moved up from the waiting list", promoted)
            % {"count": promoted}
        )
    return _("; ").join(part for part in parts if part)


def history(session: Session, bookings: dict[int, Booking]) -> list[ModelLogEntry]:
    """Who did what to the session and its bookings, newest first, from the audit log (one query).

    Each entry about a booking gets `.booking` (from `bookings`, the roster's rows, by pk), and each booking
    its own entries as `.history`.
    """
    booking_type = ContentType.objects.get_for_model(Booking, for_concrete_model=False)
    entries = audit_history(session, (Booking, Booking.objects.filter(session=session)))
    for booking in bookings.values():
        booking.history = []
    for entry in entries:
        entry.details = details(entry)
        entry.booking = bookings.get(int(entry.object_id)) if entry.content_type_id == booking_type.pk else None
        if entry.booking is not None:
            entry.booking.history.append(entry)
    return entries


def contact(booking: Booking) -> tuple[str, str]:
    """The participant's phone and e-mail as staff reach them."""
    if booking.resident is None:
        return booking.phone, ""
    profile = getattr(booking.resident, "profile", None)
    return booking.phone or (profile.mobile if profile else ""), booking.resident.email


class RosterView(SessionMixin, TemplateView):
    template_name = "events/admin/roster.html"

    def get_page_title(self):
        return session_label(self.session)

    def get_breadcrumbs_items(self):
        return [*StaffView.get_breadcrumbs_items(self), {"url": "", "label": session_label(self.session)}]

    def get_context_data(self, **kwargs):
        groups = roster(self.session)
        for group in groups:
            for booking in group.bookings:
                booking.contact_phone, booking.contact_email = contact(booking)
        entries = history(self.session, {booking.pk: booking for group in groups for booking in group.bookings})
        return super().get_context_data(
            groups=groups,
            history=entries,
            capacity_form=CapacityForm(initial={"capacity": self.session.capacity}),
            walk_in_form=WalkInForm(),
            search_form=ResidentSearchForm(),
            can_draw=self.session.activity.is_draw and not self.session.drawn_at and not self.session.is_cancelled,
            **kwargs,
        )


def export_rows(session: Session) -> list[list]:
    header = [
        _("Status"),
        _("Place in the waiting list"),
        _("Participant"),
        _("Birth year"),
        _("Phone"),
        _("E-mail"),
        _("Ticket code"),
        _("Booked at"),
        _("Checked in at"),
    ]
    rows = [header]
    for group in roster(session):
        for booking in group.bookings:
            phone, email = contact(booking)
            rows.append(
                [
                    booking.get_status_display(),
                    getattr(booking, "position", ""),
                    booking.participant_name,
                    booking.participant_birth_year or "",
                    phone,
                    email,
                    booking.display_code,
                    f"{timezone.localtime(booking.created_at):%Y-%m-%d %H:%M}",
                    f"{timezone.localtime(booking.checked_in_at):%Y-%m-%d %H:%M}" if booking.checked_in_at else "",
                ]
            )
    return rows


def _export_name(session: Session, extension: str) -> str:
    return f"roster-{session.pk}-{timezone.localtime(session.starts_at):%Y%m%d-%H%M}.{extension}"


class ExportCsvView(SessionMixin, View):
    def get(self, request: HttpRequest, session_id: int) -> HttpResponse:
        buffer = io.StringIO()
        csv_writer(buffer).writerows(export_rows(self.session))
        # A byte-order mark, so that Excel reads the Chinese names as UTF-8.
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{_export_name(self.session, "csv")}"'
        return response


class ExportXlsxView(SessionMixin, View):
    def get(self, request: HttpRequest, session_id: int) -> HttpResponse:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(_("Roster"))
        for row in export_rows(self.session):
            sheet.append(xlsx_row(row))
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(
            buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="{_export_name(self.session, "xlsx")}"'
        return response


# ---------------------------------------------------------------------------
# Actions on a session or a booking (POST, then back to the roster)


class ActionView(SessionMixin, View):
    """Binds one form, calls one service; its error is shown on the roster and nothing changes."""

    http_method_names = ["post"]
    form_class = None

    def post(self, request: HttpRequest, **kwargs) -> HttpResponse:
        form = self.form_class(request.POST) if self.form_class else None
        if form is not None and not form.is_valid():
            messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
            return redirect(self.roster_url())
        try:
            message = self.act(form.cleaned_data if form is not None else {})
        except ERRORS as error:
            messages.error(request, str(error))
        else:
            messages.success(request, message)
        return redirect(self.roster_url())

    def act(self, data: dict) -> str:
        raise NotImplementedError


class BookingActionView(ActionView):
    @cached_property
    def booking(self) -> Booking:
        return get_object_or_404(
            Booking.objects.select_related("session__activity"), pk=self.kwargs["booking_id"], session=self.session
        )


class WalkInView(ActionView):
    form_class = WalkInForm

    def act(self, data: dict) -> str:
        booking = services.book_walk_in(
            session=self.session, actor=self.request.user, name=data["name"], phone=data["phone"], birth_year=data["birth_year"]
        )
        return booked_message(booking)


def booked_message(booking: Booking) -> str:
    if booking.status == Booking.Status.CONFIRMED:
        return _("%(name)s is booked; ticket code %(code)s.") % {"name": booking.participant_name, "code": booking.display_code}
    if booking.status == Booking.Status.APPLIED:
        return _("%(name)s has applied for the draw.") % {"name": booking.participant_name}
    return _("The session is full: %(name)s is number %(position)s on the waiting list.") % {
        "name": booking.participant_name,
        "position": booking.waiting_position(),
    }


class CapacityView(ActionView):
    form_class = CapacityForm

    def act(self, data: dict) -> str:
        session = services.change_capacity(session=self.session, capacity=data["capacity"], actor=self.request.user)
        return ngettext("The session now has %(count)s seat.", "The session now has %(count)s seats.", session.capacity) % {
            "count": session.capacity
        }


class DrawView(ActionView):
    form_class = DrawForm

    def act(self, data: dict) -> str:
        draw = services.run_draw(session=self.session, actor=self.request.user)
        return _("The draw has run with seed %(seed)s: %(seats)s confirmed.") % {"seed": draw.seed, "seats": draw.seats}


class PromoteView(BookingActionView):
    def act(self, data: dict) -> str:
        services.promote_from_waitlist(booking=self.booking, actor=self.request.user)
        return _("%(name)s now has a seat and has been told by e-mail.") % {"name": self.booking.participant_name}


def checked_in_message(checked: services.CheckIn) -> str:
    """The door's answer, with the points the resident just earned (staff tell them)."""
    name = checked.booking.participant_name
    if checked.points:
        return ngettext(
            "Checked in: %(name)s, %(points)s point awarded", "Checked in: %(name)s, %(points)s points awarded", checked.points
        ) % {"name": name, "points": checked.points}
    return _("Checked in: %(name)s") % {"name": name}


class CheckInBookingView(BookingActionView):
    """Check in from the roster, one tap per row: for a resident without their phone or ticket."""

    def act(self, data: dict) -> str:
        return checked_in_message(services.check_in(session=self.session, code=self.booking.code, actor=self.request.user))


class UndoCheckInView(BookingActionView):
    def act(self, data: dict) -> str:
        services.undo_check_in(booking=self.booking, actor=self.request.user)
        return _("Check-in of %(name)s undone.") % {"name": self.booking.participant_name}


class CancelBookingView(BookingActionView):
    def act(self, data: dict) -> str:
        services.cancel_booking(booking=self.booking, actor=self.request.user)
        return _("The booking of %(name)s is cancelled.") % {"name": self.booking.participant_name}


# ---------------------------------------------------------------------------
# Pages with their own form: book a resident, cancel the session, e-mail everyone


class BookResidentView(SessionMixin, TemplateView):
    """Find a resident by e-mail, mobile or name, then book a place for them."""

    template_name = "events/admin/book_resident.html"
    page_title = gettext_lazy("Book for a resident")

    def get_context_data(self, **kwargs):
        form = ResidentSearchForm(self.request.GET or None)
        found = []
        if form.is_valid():
            q = form.cleaned_data["q"].strip()
            found = list(
                residents_for(self.scope)
                .filter(Q(user__email__istartswith=q) | mobile_matches(q) | Q(display_name__icontains=q))
                .prefetch_related("user__household_members")
                .order_by("display_name", "pk")[:20]
            )
        return super().get_context_data(search_form=form, found=found, book_form=BookResidentForm(), **kwargs)

    def post(self, request: HttpRequest, session_id: int) -> HttpResponse:
        form = BookResidentForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a resident from the search results."))
            return redirect(request.path)
        profile = residents_for(self.scope).filter(user_id=form.cleaned_data["resident"]).first()
        if profile is None:
            messages.error(request, _("Choose a resident from the search results."))
            return redirect(request.path)
        member = None
        if form.cleaned_data["member"]:
            member = HouseholdMember.objects.filter(pk=form.cleaned_data["member"], resident=profile.user).first()
            if member is None:
                messages.error(request, _("This person is not in the resident's household."))
                return redirect(request.get_full_path())
        try:
            (booking, *_rest) = services.book_session(
                session=self.session,
                resident=profile.user,
                actor=request.user,
                member=member,
                age_override=form.cleaned_data["age_override"],
            )
        except ERRORS as error:
            messages.error(request, str(error))
            return redirect(request.get_full_path())
        messages.success(request, booked_message(booking))
        return redirect(self.roster_url())


class SessionFormView(SessionMixin, TemplateView):
    """A session page with one form: GET shows it, POST calls the service or shows its error."""

    template_name = "events/admin/session_form.html"
    form_class = None
    submit_label = ""
    danger = False

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", self.form_class())
        return super().get_context_data(submit_label=self.submit_label, danger=self.danger, **kwargs)

    def post(self, request: HttpRequest, session_id: int) -> HttpResponse:
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                message = self.act(form.cleaned_data)
            except ERRORS as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, message)
                return redirect(self.roster_url())
        return self.render_to_response(self.get_context_data(form=form))


class CancelSessionView(SessionFormView):
    form_class = CancelSessionForm
    page_title = gettext_lazy("Cancel the session")
    submit_label = gettext_lazy("Cancel the session and tell everyone")
    danger = True

    def act(self, data: dict) -> str:
        affected = services.cancel_session(session=self.session, actor=self.request.user, reason=data["reason"])
        mailed = sum(1 for booking in affected if booking.resident is not None and booking.resident.email)
        message = ngettext(
            "The session is cancelled; %(count)s participant is being told by e-mail.",
            "The session is cancelled; %(count)s participants are being told by e-mail.",
            mailed,
        ) % {"count": mailed}
        if unreachable := len(affected) - mailed:
            message += " " + ngettext(
                "%(count)s participant has no e-mail address: please phone them (see the roster).",
                "%(count)s participants have no e-mail address: please phone them (see the roster).",
                unreachable,
            ) % {"count": unreachable}
        return message


class EmailParticipantsView(SessionFormView):
    form_class = EmailParticipantsForm
    page_title = gettext_lazy("E-mail all participants")
    submit_label = gettext_lazy("Send")

    def act(self, data: dict) -> str:
        count = services.email_participants(
            session=self.session, actor=self.request.user, subject=data["subject"], message=data["message"]
        )
        return ngettext(
            "Your message is being sent to %(count)s participant.", "Your message is being sent to %(count)s participants.", count
        ) % {"count": count}


# ---------------------------------------------------------------------------
# Check-in at the door


class CheckInView(SessionMixin, TemplateView):
    """Type a ticket code (or let the camera read the QR code); fits a phone's screen."""

    template_name = "events/admin/check_in.html"
    page_title = gettext_lazy("Check-in")

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", CheckInForm())
        counts = Booking.objects.filter(session=self.session).aggregate(
            attended=Count("pk", filter=Q(status=Booking.Status.ATTENDED)),
            expected=Count("pk", filter=Q(status__in=Booking.HOLDING_SEAT)),
        )
        return super().get_context_data(counts=counts, **kwargs)

    def post(self, request: HttpRequest, session_id: int) -> HttpResponse:
        form = CheckInForm(request.POST)
        result = None
        if form.is_valid():
            try:
                checked = services.check_in(session=self.session, code=form.cleaned_data["code"], actor=request.user)
            except ERRORS as error:
                result = {"outcome": "refused", "message": str(error)}
            else:
                booking = checked.booking
                if checked.repeated:
                    message = _("Already checked in at %(time)s: %(name)s. Not counted again.") % {
                        "time": f"{timezone.localtime(booking.checked_in_at):%H:%M}",
                        "name": booking.participant_name,
                    }
                else:
                    message = checked_in_message(checked)
                result = {"outcome": "repeated" if checked.repeated else "checked_in", "message": message}
        scanning = request.POST.get("scan") == "1"
        context = self.get_context_data(
            form=CheckInForm() if result else form,
            result=result,
            scanning=scanning,
            # The camera comes back on for the next ticket and must not read this one again at once.
            last_code=services.normalise_code(form.cleaned_data["code"]) if scanning and form.is_valid() else "",
        )
        return self.render_to_response(context)


# ---------------------------------------------------------------------------
# Adding a series of sessions to an activity


class ActivityListView(StaffView, TemplateView):
    """Activities the staff member runs, each with a link to add sessions."""

    template_name = "events/admin/activity_list.html"
    page_title = gettext_lazy("Add sessions")

    def get_context_data(self, **kwargs):
        activities = activities_for(self.scope)
        q = self.request.GET.get("q", "").strip()
        if q:
            activities = activities.filter(title__icontains=q)
        page = Paginator(one_per_activity(activities), 50).get_page(self.request.GET.get("p"))
        return super().get_context_data(page_obj=page, q=q, **kwargs)


class AddSessionsView(StaffView, TemplateView):
    """A weekly rule, a preview with public holidays flagged, then the sessions saved."""

    template_name = "events/admin/add_sessions.html"
    page_title = gettext_lazy("Add sessions")

    @cached_property
    def activity(self) -> ActivityPage:
        activity = get_object_or_404(ActivityPage.objects.select_related("community"), pk=self.kwargs["page_id"])
        self.scope.require(activity.community, street_wide=True, message=_("This activity belongs to another community."))
        return activity

    def check_scope(self) -> None:
        self.activity  # noqa: B018 (loads and checks the activity)

    def get_page_title(self):
        return _("Add sessions: %(title)s") % {"title": self.activity.title}

    def get_context_data(self, **kwargs):
        kwargs.setdefault(
            "form",
            SeriesForm(
                initial={
                    "first_day": timezone.localdate() + datetime.timedelta(days=7),
                    "last_day": timezone.localdate() + datetime.timedelta(days=7 * 8),
                    "venue": "",
                    "skip_holidays": True,
                }
            ),
        )
        return super().get_context_data(activity=self.activity, **kwargs)

    def post(self, request: HttpRequest, page_id: int) -> HttpResponse:
        form = SeriesForm(request.POST)
        preview = None
        if form.is_valid():
            try:
                preview = services.preview_series(**form.rule())
            except services.BookingError as error:
                form.add_error(None, str(error))
        if preview is None:
            return self.render_to_response(self.get_context_data(form=form))
        shown = fingerprint([each.starts_at for each in preview.to_create])
        if "save" in request.POST and form.cleaned_data["previewed"] == shown:
            try:
                sessions = services.add_series(
                    activity=self.activity,
                    actor=request.user,
                    capacity=form.cleaned_data["capacity"],
                    venue=form.cleaned_data["venue"],
                    venue_en=form.cleaned_data["venue_en"],
                    **form.rule(),
                )
            except ERRORS as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    ngettext("%(count)s session added.", "%(count)s sessions added.", len(sessions)) % {"count": len(sessions)},
                )
                return redirect(f"{reverse('events_admin:sessions')}?activity={self.activity.translation_key}")
        elif "save" in request.POST:
            messages.warning(request, _("The dates have changed since the preview. Check them and save again."))
        duplicates = services.duplicate_sessions(activity=self.activity, planned=preview.to_create)
        context = self.get_context_data(form=form, preview=preview, fingerprint=shown, duplicates=duplicates)
        return self.render_to_response(context)


# ---------------------------------------------------------------------------
# Dashboard figures


@dataclass
class Figures:
    label: str
    sessions: int
    capacity: int
    taken: int
    attended: int
    no_shows: int

    @property
    def fill_rate(self) -> int:
        return round(100 * self.taken / self.capacity) if self.capacity else 0

    @property
    def attendance_rate(self) -> int:
        """Of the seats taken, how many were used (unmarked confirmed bookings count as not attending)."""
        return round(100 * self.attended / self.taken) if self.taken else 0


def attendance_figures(scope: StaffScope, *, months: int = 6, now: datetime.datetime | None = None) -> dict[str, list[Figures]]:
    """Fill rate, attendance rate and no-shows of the ended sessions the staff member runs."""
    now = now or timezone.now()
    first_month = timezone.localdate(now).replace(day=1)
    for _step in range(months - 1):
        first_month = (first_month - datetime.timedelta(days=1)).replace(day=1)
    since = timezone.make_aware(datetime.datetime.combine(first_month, datetime.time()))
    ended = sessions_for(scope).filter(status=Session.Status.SCHEDULED, ends_at__lte=now, starts_at__gte=since)
    bookings = Booking.objects.filter(session__in=ended.values("pk"))
    counts = {
        "attended": Count("pk", filter=Q(status=Booking.Status.ATTENDED)),
        "no_shows": Count("pk", filter=Q(status=Booking.Status.NO_SHOW)),
    }
    seats = {"sessions": Count("pk"), "capacity": Sum("capacity"), "taken": Sum("seats_taken")}

    by_month = {row["month"]: row for row in ended.annotate(month=TruncMonth("starts_at")).values("month").annotate(**seats)}
    for row in bookings.annotate(month=TruncMonth("session__starts_at")).values("month").annotate(**counts):
        by_month.setdefault(row["month"], {}).update(row)
    per_month = [
        Figures(
            label=f"{month:%Y-%m}",
            sessions=row.get("sessions", 0),
            capacity=row.get("capacity") or 0,
            taken=row.get("taken") or 0,
            attended=row.get("attended", 0),
            no_shows=row.get("no_shows", 0),
        )
        for month, row in sorted(by_month.items())
    ]

    by_activity = {
        row["activity__translation_key"]: row
        for row in ended.values("activity__translation_key").annotate(title=Min("activity__title"), **seats)
    }
    for row in bookings.values("session__activity__translation_key").annotate(**counts):
        by_activity.setdefault(row["session__activity__translation_key"], {}).update(row)
    per_activity = sorted(
        (
            Figures(
                label=row.get("title", ""),
                sessions=row.get("sessions", 0),
                capacity=row.get("capacity") or 0,
                taken=row.get("taken") or 0,
                attended=row.get("attended", 0),
                no_shows=row.get("no_shows", 0),
            )
            for row in by_activity.values()
        ),
        key=lambda figures: (-figures.sessions, figures.label),
    )[:12]
    return {"per_month": per_month, "per_activity": per_activity}


FILL_COLOUR = "#007d7e"
ATTENDANCE_COLOUR = "#e9b04d"


def rates_chart(rows: list[Figures], *, key: str, title: str) -> SafeString:
    """Fill and attendance rates (%) as two bars per row (plumbing.charts; the figures table is its text alternative)."""
    bars = []
    for figures in rows:
        label = Truncator(figures.label).chars(14)
        bars.append((f"{label} · {_('Fill rate')}", figures.fill_rate, FILL_COLOUR))
        bars.append((f"{label} · {_('Attendance rate')}", figures.attendance_rate, ATTENDANCE_COLOUR))
    desc = _("Fill rate: seats taken of seats offered; attendance rate: checked in of seats taken; in per cent.")
    return bar_chart(bars, title=title, desc=desc, key=key, label_width=220, css_class="events-chart")
