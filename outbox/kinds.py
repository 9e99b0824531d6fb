"""What Linli tells people, in residents' words: each message kind, the topic a resident chooses channels
for, and the short text that goes by SMS or WeChat.

The short text is the same text as the SMS template approved at the provider for that kind (README:
Messages to people), filled with the message's `template_params`; it is what the console backend prints,
what staff read, and what a WeChat subscribe message carries field by field.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Topic:
    """A group of message kinds that a resident chooses channels for (`outbox.ChannelPreference.kind`)."""

    key: str
    label: Promise
    help: Promise
    # Time-critical: by SMS as well by default when the resident has a verified mobile number.
    urgent: bool = False
    # Only staff receive these: the page shows the topic only to staff.
    staff: bool = False


@dataclass(frozen=True)
class Kind:
    code: str
    label: Promise
    topic: str
    # SMS / WeChat text with %(name)s placeholders; the names are the kind's template parameters.
    short: Promise
    params: tuple[str, ...] = ()


TOPICS = [
    Topic("bookings", _("Booking confirmations"), _("Bookings, applications, draw results and your cancellations.")),
    Topic("waiting_list", _("A seat from the waiting list"), _("A seat became free and is now yours."), urgent=True),
    Topic("reminders", _("Tomorrow's reminder"), _("The day before a session you booked."), urgent=True),
    Topic("session_cancelled", _("A session is cancelled"), _("The organisers cancelled a session you booked."), urgent=True),
    Topic("organisers", _("Messages from organisers"), _("What the organisers of your activities write to participants.")),
    Topic("points", _("Points warnings"), _("Points about to expire.")),
    Topic("rewards", _("Reward pick-ups"), _("Your pick-up code after an exchange, and a reward not collected in time.")),
    Topic("letters", _("Letter progress"), _("Each step of your letters, answers to your objections.")),
    Topic("council", _("Council invitations and results"), _("Council sessions (for members) and the council's decisions.")),
    Topic(
        "neighbours",
        _("Neighbour help"),
        _("Answers to your posts, acceptances, thanks, staff notes, and the weekly digest of requests you asked for."),
    ),
    Topic(
        "staff",
        _("Overdue work (staff)"),
        _("Letters and follow-up actions past their deadline, and writers' replies by e-mail."),
        staff=True,
    ),
]
TOPICS_BY_KEY = {topic.key: topic for topic in TOPICS}

KINDS = [
    Kind(
        "events.booking_made",
        _("Booking made"),
        "bookings",
        _("%(activity)s, %(time)s: %(status)s. Details on My bookings."),
        ("activity", "time", "status"),
    ),
    Kind(
        "events.booking_cancelled",
        _("Booking cancelled"),
        "bookings",
        _("Your booking for %(activity)s, %(time)s is cancelled."),
        ("activity", "time"),
    ),
    Kind(
        "events.draw_won",
        _("Draw won"),
        "bookings",
        _("The draw gave you a place at %(activity)s, %(time)s. Ticket code %(code)s."),
        ("activity", "time", "code"),
    ),
    Kind(
        "events.draw_waiting",
        _("Draw: on the waiting list"),
        "bookings",
        _("No place in the draw for %(activity)s; you are number %(position)s on the waiting list."),
        ("activity", "position"),
    ),
    Kind(
        "events.promoted",
        _("Seat from the waiting list"),
        "waiting_list",
        _("A seat is yours: %(activity)s, %(time)s, %(place)s. If you cannot come, please cancel."),
        ("activity", "time", "place"),
    ),
    Kind(
        "events.reminder",
        _("Reminder for tomorrow"),
        "reminders",
        _("Tomorrow %(time)s, %(activity)s at %(place)s. If you cannot come, please cancel."),
        ("activity", "time", "place"),
    ),
    Kind(
        "events.session_cancelled",
        _("Session cancelled"),
        "session_cancelled",
        _("%(activity)s on %(time)s is cancelled. We are sorry."),
        ("activity", "time"),
    ),
    Kind(
        "events.message_to_participants",
        _("Message from the organisers"),
        "organisers",
        _("The organisers of %(activity)s write: %(subject)s"),
        ("activity", "subject"),
    ),
    Kind(
        "points.expiry_warning",
        _("Points about to expire"),
        "points",
        _("%(points)s of your points expire on %(date)s. Rewards on My points."),
        ("points", "date"),
    ),
    Kind(
        "points.reward_reserved",
        _("Reward reserved"),
        "rewards",
        _("%(reward)s is kept for you: pick-up code %(code)s, collect by %(date)s at %(place)s."),
        ("reward", "code", "date", "place"),
    ),
    Kind(
        "points.reservation_expired",
        _("Reward not collected"),
        "rewards",
        _("%(reward)s was not collected by %(date)s; your %(points)s points are back."),
        ("reward", "date", "points"),
    ),
    Kind(
        "deliberation.letter_event",
        _("Letter progress"),
        "letters",
        _("Your letter %(number)s: %(step)s."),
        ("number", "step"),
    ),
    Kind(
        "deliberation.objection_answered",
        _("Objection answered"),
        "letters",
        _("Your objection to a council decision has been answered; see the decision on Linli."),
    ),
    Kind(
        "deliberation.decision_result",
        _("Council vote on a concern"),
        "council",
        _("The council has voted on %(topic)s."),
        ("topic",),
    ),
    Kind(
        "deliberation.decision_completed",
        _("Council decision carried out"),
        "council",
        _("%(topic)s has been carried out. Are you satisfied?"),
        ("topic",),
    ),
    Kind(
        "deliberation.council_topic_on_agenda",
        _("Concern on the council's agenda"),
        "council",
        _("Your concern is on the council's agenda, %(time)s."),
        ("time",),
    ),
    Kind(
        "deliberation.council_invitation",
        _("Council session invitation"),
        "council",
        _("Invitation to the council session %(title)s, %(time)s."),
        ("title", "time"),
    ),
    Kind(
        "deliberation.council_changed",
        _("Council session changed"),
        "council",
        _("The council session %(title)s has changed: now %(time)s."),
        ("title", "time"),
    ),
    Kind(
        "deliberation.council_reminder",
        _("Council session tomorrow"),
        "council",
        _("Tomorrow %(time)s, council session %(title)s."),
        ("title", "time"),
    ),
    Kind(
        "deliberation.council_cancelled",
        _("Council session cancelled"),
        "council",
        _("The council session %(title)s on %(time)s is cancelled."),
        ("title", "time"),
    ),
    Kind(
        "deliberation.minutes_confirm",
        _("Minutes to confirm"),
        "council",
        _("Please confirm the minutes of %(title)s in the members' portal."),
        ("title",),
    ),
    Kind(
        "deliberation.minutes_reconfirm",
        _("Minutes changed: confirm again"),
        "council",
        _("The minutes of %(title)s changed after you confirmed them; please confirm them again in the members' portal."),
        ("title",),
    ),
    Kind(
        "deliberation.council_results",
        _("Council session results"),
        "council",
        _("The council session %(title)s has ended; its results are on its page in the members' portal."),
        ("title",),
    ),
    Kind(
        "deliberation.letter_writer_replied",
        _("The writer replied"),
        "staff",
        _("The writer of letter %(number)s replied by e-mail. See the letter's timeline."),
        ("number",),
    ),
    Kind(
        "deliberation.letter_overdue",
        _("Overdue letter"),
        "staff",
        _("Letter %(number)s is past its deadline."),
        ("number",),
    ),
    Kind(
        "deliberation.action_overdue",
        _("Overdue follow-up action"),
        "staff",
        _("A follow-up action is past its due date: %(action)s."),
        ("action",),
    ),
    Kind(
        "neighbours.response",
        _("A neighbour answered your post"),
        "neighbours",
        _("A neighbour answered your post %(post)s. See it on Linli."),
        ("post",),
    ),
    Kind(
        "neighbours.accepted",
        _("Your offer was accepted"),
        "neighbours",
        _("Your offer on %(post)s was accepted: the contact is on the post's page."),
        ("post",),
    ),
    Kind(
        "neighbours.confirm",
        _("Please confirm the help"),
        "neighbours",
        _("Your neighbour marked %(post)s done. Please confirm on Linli."),
        ("post",),
    ),
    Kind(
        "neighbours.done",
        _("Help done"),
        "neighbours",
        _("%(post)s is done. Thank you, neighbour."),
        ("post",),
    ),
    Kind(
        "neighbours.thanked",
        _("A neighbour thanked you"),
        "neighbours",
        _("A neighbour thanked you for %(post)s."),
        ("post",),
    ),
    Kind(
        "neighbours.moderation",
        _("A note from community staff"),
        "neighbours",
        _("Community staff about your neighbour-help posts: %(note)s"),
        ("note",),
    ),
    Kind(
        "neighbours.digest",
        _("Requests you could help with"),
        "neighbours",
        _("%(count)s neighbours' requests match what you can help with. See them on Linli."),
        ("count",),
    ),
    Kind(
        "neighbours.unanswered",
        _("Unanswered request in your grid"),
        "staff",
        _("A request in %(grid)s has had no answer for 48 hours: %(post)s."),
        ("grid", "post"),
    ),
]
KINDS_BY_CODE = {kind.code: kind for kind in KINDS}


def kind_label(code: str) -> str:
    """The kind in readable words in the active language; an unknown kind as it is stored."""
    kind = KINDS_BY_CODE.get(code)
    return str(kind.label) if kind else code


def topic_of(code: str) -> Topic | None:
    kind = KINDS_BY_CODE.get(code)
    return TOPICS_BY_KEY[kind.topic] if kind else None
