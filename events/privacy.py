"""What the events app holds about a resident: their bookings and household (export, erasure)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from .models import Booking, BookingRequest, CalendarFeed, HouseholdMember


def export(user) -> dict[str, Any]:
    bookings = Booking.objects.filter(resident=user).select_related("session__activity").order_by("session__starts_at", "pk")
    return {
        "household_members": [
            {
                "name": member.name,
                "birth_year": member.birth_year,
                "relation": member.relation,
                "guardian_consent_at": member.guardian_consent_at.isoformat() if member.guardian_consent_at else None,
            }
            for member in HouseholdMember.objects.filter(resident=user).order_by("pk")
        ],
        "bookings": [
            {
                "activity": booking.session.activity.title,
                "starts_at": timezone.localtime(booking.session.starts_at).isoformat(),
                "participant": booking.participant_name,
                "status": booking.status,
                "ticket_code": booking.code,
                "late_cancellation": booking.late_cancellation,
                "checked_in_at": booking.checked_in_at.isoformat() if booking.checked_in_at else None,
            }
            for booking in bookings
        ],
        # Bookings sent from a page in the last week (kept that long), and whether they were made.
        "booking_requests": [
            {
                "activity": sent.session.activity.title,
                "starts_at": timezone.localtime(sent.session.starts_at).isoformat(),
                "sent_at": sent.created_at.isoformat(),
                "booked": sent.decided_at is not None and not sent.refusal,
                "refusal": sent.refusal,
            }
            for sent in BookingRequest.objects.filter(resident=user).select_related("session__activity").order_by("pk")
        ],
    }


def erase(user) -> None:
    """Cancel what is still to come, keep past bookings for attendance figures without names."""
    from . import services

    for booking in Booking.objects.active().filter(resident=user, session__starts_at__gt=timezone.now()):
        booking.refresh_from_db()
        if booking.is_active:
            services.cancel_booking(booking=booking, actor=user)
    Booking.objects.filter(resident=user).update(participant_name="—", participant_birth_year=None, phone="", member=None)
    BookingRequest.objects.filter(resident=user).delete()
    HouseholdMember.objects.filter(resident=user).delete()
    CalendarFeed.objects.filter(resident=user).delete()
