"""Mail to participants, in each recipient's language, queued in the outbox with the change that causes it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from outbox.services import Content, notify
from plumbing.links import absolute_url

from .models import Booking, Session


def _when(session: Session) -> str:
    starts, ends = timezone.localtime(session.starts_at), timezone.localtime(session.ends_at)
    return f"{starts:%Y-%m-%d %H:%M}–{ends:%H:%M}"


def _send(user, build, *, kind: str, key: str, ics_for: Booking | None = None, params=None) -> None:
    """Tell the user on the channels they chose, in their language; `build()` returns (subject, lines) and
    `params(booking)` the short text's parameters (`outbox.kinds`). `key` names the change."""
    if user is None:
        return

    def render() -> Content:
        subject, lines = build()
        attachments = []
        if ics_for is not None:
            from .calendar import booking_calendar

            attachments.append(
                {
                    "filename": f"linli-{ics_for.code}.ics",
                    "content": booking_calendar([ics_for]).decode(),
                    "mimetype": "text/calendar",
                }
            )
        return Content(
            subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
            body="\n\n".join([*lines, _("My bookings: %(url)s") % {"url": absolute_url(reverse("events:my_bookings"))}]),
            params=params() if params else {},
            attachments=attachments,
        )

    notify(kind=f"events.{kind}", recipient=user, render=render, idempotency_key=f"events.{kind}:{key}")


def _about(booking: Booking, **extra) -> dict:
    """The short text's parameters: the activity, its time and place (`outbox.kinds`)."""
    starts = timezone.localtime(booking.session.starts_at)
    return {"activity": _title(booking), "time": f"{starts:%m-%d %H:%M}", "place": booking.session.place, **extra}


def _title(booking: Booking) -> str:
    return booking.session.activity.localized.title


def _course_note(bookings: list[Booking]) -> list[str]:
    if len(bookings) < 2:
        return []
    return [
        ngettext(
            "This course has %(count)s session; your place is for it.",
            "This course has %(count)s sessions; your place is for all of them.",
            len(bookings),
        )
        % {"count": len(bookings)}
    ]


def booking_made(bookings: list[Booking]) -> None:
    first = bookings[0]
    positions: list[int] = []

    def position() -> int:  # counted once, for the e-mail and the short text alike
        if not positions:
            positions.append(first.waiting_position())
        return positions[0]

    def build():
        title = _title(first)
        details = [
            _("Participant: %(name)s") % {"name": first.participant_name},
            _("When: %(when)s") % {"when": _when(first.session)},
            _("Where: %(place)s") % {"place": first.session.place},
        ]
        if first.status == Booking.Status.CONFIRMED:
            return _("Booked: %(title)s") % {"title": title}, [
                _("Your place is confirmed."),
                *details,
                _("Ticket code: %(code)s — show the QR code on My bookings at the door.") % {"code": first.display_code},
                *_course_note(bookings),
            ]
        if first.status == Booking.Status.APPLIED:
            return _("Application received: %(title)s") % {"title": title}, [
                _("Places are given by a draw when applications close. We will write to you with the result."),
                *details,
            ]
        return _("On the waiting list: %(title)s") % {"title": title}, [
            _("The session is full. You are number %(position)s on the waiting list.") % {"position": position()},
            _("If a seat frees up, it is given to you automatically and we write to you."),
            *details,
        ]

    def status() -> str:
        if first.status == Booking.Status.CONFIRMED:
            return _("confirmed, ticket code %(code)s") % {"code": first.display_code}
        if first.status == Booking.Status.APPLIED:
            return _("application received, places by draw")
        return _("number %(position)s on the waiting list") % {"position": position()}

    _send(
        first.resident,
        build,
        kind="booking_made",
        key=str(first.pk),
        ics_for=first if first.status == Booking.Status.CONFIRMED else None,
        params=lambda: _about(first, status=status()),
    )


def booking_cancelled(bookings: list[Booking], *, late: bool) -> None:
    first = bookings[0]

    def build():
        lines = [
            _("Your booking for %(name)s on %(when)s is cancelled.")
            % {"name": first.participant_name, "when": _when(first.session)}
        ]
        if late:
            lines.append(_("It was cancelled after the deadline, so it counts as a late cancellation."))
        return _("Cancelled: %(title)s") % {"title": _title(first)}, lines

    _send(first.resident, build, kind="booking_cancelled", key=str(first.pk), params=lambda: _about(first))


def promoted(bookings: list[Booking]) -> None:
    first = bookings[0]

    def build():
        return _("A seat is yours: %(title)s") % {"title": _title(first)}, [
            _("A seat became free and is now confirmed for %(name)s.") % {"name": first.participant_name},
            _("When: %(when)s") % {"when": _when(first.session)},
            _("Where: %(place)s") % {"place": first.session.place},
            _("Ticket code: %(code)s — show the QR code on My bookings at the door.") % {"code": first.display_code},
            _("If you cannot come, please cancel on My bookings so that the next person gets the seat."),
        ]

    _send(first.resident, build, kind="promoted", key=str(first.pk), ics_for=first, params=lambda: _about(first))


def session_cancelled(session: Session, bookings: list[Booking], *, reason: str) -> None:
    for booking in bookings:

        def build(booking=booking):
            return _("Session cancelled: %(title)s") % {"title": _title(booking)}, [
                _("The session on %(when)s is cancelled.") % {"when": _when(session)},
                _("Reason: %(reason)s") % {"reason": reason},
                _("We are sorry for the inconvenience."),
            ]

        _send(
            booking.resident, build, kind="session_cancelled", key=str(booking.pk), params=lambda booking=booking: _about(booking)
        )


def message_to_participants(session: Session, bookings: list[Booking], *, subject: str, message: str) -> int:
    recipients = {booking.resident_id: booking for booking in bookings}
    sending = uuid.uuid4().hex  # staff may write to the same participants again
    for booking in recipients.values():

        def build(booking=booking):
            return subject, [
                message,
                _("— sent by the organisers of %(title)s, %(when)s") % {"title": _title(booking), "when": _when(session)},
            ]

        _send(
            booking.resident,
            build,
            kind="message_to_participants",
            key=f"{sending}:{booking.resident_id}",
            params=lambda booking=booking: _about(booking, subject=subject),
        )
    return len(recipients)


def draw_results(winners: list[list[Booking]], waiting: list[list[Booking]]) -> None:
    for group in winners:
        first = group[0]

        def build(first=first):
            return _("You have a place: %(title)s") % {"title": _title(first)}, [
                _("The draw gave %(name)s a place (number %(rank)s in the draw).")
                % {"name": first.participant_name, "rank": first.draw_rank},
                _("When: %(when)s") % {"when": _when(first.session)},
                _("Ticket code: %(code)s — show the QR code on My bookings at the door.") % {"code": first.display_code},
            ]

        _send(
            first.resident,
            build,
            kind="draw_won",
            key=str(first.pk),
            ics_for=first,
            params=lambda first=first: _about(first, code=first.display_code),
        )
    for position, group in enumerate(waiting, start=1):
        first = group[0]

        def build(first=first, position=position):
            return _("Draw result: %(title)s") % {"title": _title(first)}, [
                _("The draw did not give %(name)s a place this time.") % {"name": first.participant_name},
                _("You are number %(position)s on the waiting list; a freed seat is given to you automatically.")
                % {"position": position},
            ]

        _send(
            first.resident,
            build,
            kind="draw_waiting",
            key=str(first.pk),
            params=lambda first=first, position=position: _about(first, position=position),
        )


def reminder(booking: Booking) -> None:
    def build():
        return _("Reminder: %(title)s tomorrow") % {"title": _title(booking)}, [
            _("A reminder of your place for %(name)s.") % {"name": booking.participant_name},
            _("When: %(when)s") % {"when": _when(booking.session)},
            _("Where: %(place)s") % {"place": booking.session.place},
            _("Ticket code: %(code)s — show the QR code on My bookings at the door.") % {"code": booking.display_code},
            _("If you cannot come, please cancel so that someone on the waiting list gets the seat."),
        ]

    _send(booking.resident, build, kind="reminder", key=str(booking.pk), params=lambda: _about(booking))
