"""iCalendar files: one per booking (with a reminder alarm) and each resident's private feed."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event

from plumbing.links import absolute_url

from .models import Booking


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Linli//linli.localhost//")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    return calendar


def _event(booking: Booking) -> Event:
    session = booking.session
    activity = session.activity.localized
    event = Event()
    event.add("uid", f"booking-{booking.code}@linli")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", session.starts_at)
    event.add("dtend", session.ends_at)
    event.add("summary", activity.title)
    event.add("location", session.place)
    event.add(
        "description",
        "\n".join(
            [
                _("Participant: %(name)s") % {"name": booking.participant_name},
                _("Ticket code: %(code)s") % {"code": booking.display_code},
            ]
        ),
    )
    event.add("url", absolute_url(activity.url))
    if session.is_cancelled:
        event.add("status", "CANCELLED")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", _("Reminder: %(title)s") % {"title": activity.title})
    alarm.add("trigger", datetime.timedelta(hours=-2))
    event.add_component(alarm)
    return event


def booking_calendar(bookings: list[Booking]) -> bytes:
    calendar = _calendar(_("Linli bookings"))
    for booking in bookings:
        calendar.add_component(_event(booking))
    return calendar.to_ical()
