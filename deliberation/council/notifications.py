"""Council mail: invitations with a calendar file, changes, reminders, cancellations, and "your concern is on
the agenda" to the topics' writers and supporters. Each message is rendered in its recipient's language and
queued in the outbox in the transaction of the change (a rolled-back change mails nobody)."""

from __future__ import annotations

import datetime
import uuid
from email.utils import parseaddr

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event, vCalAddress, vText

from deliberation.council.models import AgendaItem, CouncilMember, CouncilSession
from deliberation.mailbox.models import Letter, Support, Topic
from home.i18n import language_of
from outbox.services import Content, notify
from plumbing.links import absolute_url


def _language(user) -> str:
    return language_of(user)


def _display_name(user) -> str:
    profile = getattr(user, "profile", None)
    return (profile.display_name if profile is not None else "") or user.get_username()


def session_url(session: CouncilSession, language: str) -> str:
    """The member's page of the session (the web layer serves it at /<lang>/me/council/sessions/<pk>/)."""
    return absolute_url(f"/{language}/me/council/sessions/{session.pk}/")


def public_session_url(session: CouncilSession, language: str) -> str:
    return absolute_url(f"/{language}/council/sessions/{session.pk}/")


def _when(session: CouncilSession) -> str:
    starts, ends = timezone.localtime(session.starts_at), timezone.localtime(session.ends_at)
    if starts.date() == ends.date():
        return f"{starts:%Y-%m-%d %H:%M}–{ends:%H:%M}"
    return f"{starts:%Y-%m-%d %H:%M} – {ends:%Y-%m-%d %H:%M}"


def _organizer() -> vCalAddress:
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = vText(name or address)
    return organizer


def session_calendar(session: CouncilSession, *, attendee, method: str = "REQUEST") -> bytes:
    """An iTIP calendar file for one member: REQUEST to invite or update, CANCEL when the session is called off.

    The UID is the same for every message about a session, so calendars update the one entry; SEQUENCE (seconds since
    the session was created) grows so that a later message wins.
    """
    calendar = Calendar()
    calendar.add("prodid", "-//Linli//linli.localhost//")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", f"council-session-{session.pk}@linli")
    event.add("sequence", max(0, int((timezone.now() - session.created_at).total_seconds())))
    event.add("dtstamp", timezone.now())
    event.add("dtstart", session.starts_at)
    event.add("dtend", session.ends_at)
    event.add("summary", f"{session.council}: {session.display_title}")
    if session.display_place:
        event.add("location", session.display_place)
    url = session_url(session, translation.get_language() or settings.LANGUAGE_CODE)
    event.add("description", "\n".join([str(CouncilSession.Mode(session.mode).label), url]))
    event.add("url", url)
    event["organizer"] = _organizer()
    guest = vCalAddress(f"mailto:{attendee.email}")
    guest.params["cn"] = vText(_display_name(attendee))
    guest.params["role"] = vText("REQ-PARTICIPANT")
    guest.params["partstat"] = vText("NEEDS-ACTION")
    guest.params["rsvp"] = vText("FALSE")
    event.add("attendee", guest, encode=0)
    if method == "CANCEL":
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _("Reminder: %(title)s") % {"title": session.display_title})
        alarm.add("trigger", datetime.timedelta(hours=-1))
        event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical()


SUBJECTS = {
    "invitation": lambda title: _("Invitation to the council session: %(title)s") % {"title": title},
    "changed": lambda title: _("Council session changed: %(title)s") % {"title": title},
    "reminder": lambda title: _("Tomorrow: council session %(title)s") % {"title": title},
    "cancelled": lambda title: _("Council session cancelled: %(title)s") % {"title": title},
}


def _session_mail(session: CouncilSession, members: list[CouncilMember], *, kind: str, occasion: str, reason: str = "") -> None:
    """One message per member; `occasion` tells this change apart from an earlier one of the same kind."""
    users = [member.user for member in members if member.user.is_active]
    items = list(AgendaItem.objects.filter(session=session).order_by("position"))
    for user in users:

        def render(user=user) -> Content:
            language = translation.get_language()
            context = {
                "kind": kind,
                "council": str(session.council),
                "title": session.display_title,
                "when": _when(session),
                "mode": str(CouncilSession.Mode(session.mode).label),
                "place": session.display_place,
                "items": [{"position": item.position, "title": item.display_title} for item in items],
                "reason": reason,
                "url": session_url(session, language),
            }
            method = "CANCEL" if kind == "cancelled" else "REQUEST"
            return Content(
                subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{SUBJECTS[kind](session.display_title)}",
                body=render_to_string("council/email/council_session.txt", context),
                params={"title": session.display_title, "time": _when(session)},
                attachments=[
                    {
                        "filename": f"council-session-{session.pk}.ics",
                        "content": session_calendar(session, attendee=user, method=method).decode(),
                        "mimetype": f"text/calendar; method={method}",
                    }
                ],
            )

        notify(
            kind=f"deliberation.council_{kind}",
            recipient=user,
            render=render,
            idempotency_key=f"deliberation.council_{kind}:{session.pk}:{occasion}:{user.pk}",
        )


def session_invitation(*, session: CouncilSession, members: list[CouncilMember]) -> None:
    _session_mail(session, members, kind="invitation", occasion="announced")


def session_changed(*, session: CouncilSession, members: list[CouncilMember]) -> None:
    _session_mail(session, members, kind="changed", occasion=uuid.uuid4().hex)


def session_reminder(*, session: CouncilSession, members: list[CouncilMember]) -> None:
    _session_mail(session, members, kind="reminder", occasion=str(session.reminded_at.timestamp()))


def session_cancelled(*, session: CouncilSession, members: list[CouncilMember], reason: str) -> None:
    _session_mail(session, members, kind="cancelled", occasion="cancelled", reason=reason)


def topic_followers(topics: list[Topic]) -> dict[str, tuple[str, list[Topic]]]:
    """address → (language, topics) for every letter writer and supporter of `topics`: one message per person."""
    from deliberation.mailbox.notifications import _recipient, _writer_language

    followers: dict[str, tuple[str, list[Topic]]] = {}

    def add(address: str, language: str, topic: Topic) -> None:
        key = address.strip().lower()
        if not key:
            return
        language_then, listed = followers.setdefault(key, (language, []))
        if topic not in listed:
            listed.append(topic)

    for topic in topics:
        for letter in Letter.objects.filter(topic=topic).select_related("writer").order_by("pk"):
            address = _recipient(letter)
            if address:
                add(address, _writer_language(letter), topic)
        for support in Support.objects.filter(topic=topic).select_related("resident__profile").order_by("pk"):
            if support.resident.is_active and support.resident.email:
                add(support.resident.email, _language(support.resident), topic)
    return followers


def topics_on_agenda(*, session: CouncilSession, topics: list[Topic]) -> None:
    """Tell each writer and supporter of `topics`, once, that their concern is on the session's agenda."""
    if not topics:
        return
    followers = topic_followers(topics)
    occasion = uuid.uuid4().hex  # a topic taken off the agenda and put back is announced again
    for address, (language, listed) in followers.items():

        def render(listed=listed) -> Content:
            context = {
                "council": str(session.council),
                "topics": listed,
                "title": session.display_title,
                "when": _when(session),
                "place": session.display_place,
                "url": public_session_url(session, translation.get_language()),
            }
            return Content(
                subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}"
                + _("Your concern is on the council's agenda: %(title)s") % {"title": session.display_title},
                body=render_to_string("council/email/council_topic_on_agenda.txt", context),
                params={"time": _when(session)},
            )

        notify(
            kind="deliberation.council_topic_on_agenda",
            address=address,
            language=language,
            render=render,
            idempotency_key=f"deliberation.council_topic_on_agenda:{session.pk}:{occasion}:{address}",
        )


def session_results(*, session: CouncilSession, members: list[CouncilMember]) -> None:
    """When a session ends, the members who were not present get its results, with what each item needed, and
    the chain's head after the session (a copy of the tamper-evidence code outside the database, in every
    member's mailbox). Those present get the same in the request to confirm the minutes: one message each."""
    from deliberation.council.chain import session_head
    from deliberation.council.models import Attendance

    head = session_head(session)
    items = list(AgendaItem.objects.filter(session=session).select_related("result").order_by("position"))
    present = set(Attendance.objects.filter(session=session).values_list("member_id", flat=True))
    for user in [member.user for member in members if member.user.is_active and member.pk not in present]:

        def render() -> Content:
            language = translation.get_language()
            context = {
                "council": str(session.council),
                "title": session.display_title,
                "when": _when(session),
                "items": [
                    {"position": item.position, "title": item.display_title, "result": getattr(item, "result", None)}
                    for item in items
                ],
                "head": head,
                "url": public_session_url(session, language),
            }
            return Content(
                subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}"
                + _("Results of the council session %(title)s") % {"title": session.display_title},
                body=render_to_string("council/email/council_results.txt", context),
                params={"title": session.display_title},
            )

        notify(
            kind="deliberation.council_results",
            recipient=user,
            render=render,
            idempotency_key=f"deliberation.council_results:{session.pk}:{user.pk}",
        )
