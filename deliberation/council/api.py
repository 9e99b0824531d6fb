"""The API of the residents' councils for their members (/api/v1/council/): sessions with their agendas, roll
call and votes. The members' portal's queries and services (services.py, views.py's receipts), answered as JSON.
No rule lives here.

Who may see a session or an item: who may follow it on its live page (`services.may_follow`: a member on the
session's day, the chair, the secretary or the community's staff). Anyone else gets 404, as on the live page: ids
are sequential, and a 403 would tell a stranger which sessions exist. Checking in and voting are then the services'
decision (a staff member who sits on no council is refused with 403, their message).

Secret ballots: the receipt a first vote returns is the member's only way to change that ballot or to see its
choice while voting is open. The API hands it signed for the member (as the page's cookie is) and never stores it;
the app keeps it and sends it back in the `X-Ballot-Receipt` header.
"""

from __future__ import annotations

import datetime
from typing import Annotated

from django.db.models import Case, F, IntegerField, Value, When
from django.http import Http404, HttpRequest
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from ninja import Header, Path, Query, Router, Schema

from api.core import ApiError, ErrorOut, ListParams, json_with_etag, page_of, resident_auth
from plumbing.parsing import MAX_PK

from . import services as voting
from .models import (
    PUBLIC_SESSION_STATUSES,
    AgendaItem,
    Attendance,
    Choice,
    CouncilMember,
    CouncilSession,
    Participation,
    Recusal,
    Result,
    Vote,
)
from .views import sign_receipt, totp_missing, unsign_receipt

router = Router(tags=["council"], auth=resident_auth)

Id = Annotated[int, Path(ge=1, le=MAX_PK)]
Receipt = Annotated[str | None, Header(alias="X-Ballot-Receipt", max_length=200)]
UPCOMING = (CouncilSession.Status.ANNOUNCED, CouncilSession.Status.IN_SESSION)

# Every operation may answer these; each adds its own.
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}


class QuorumOut(Schema):
    members: int
    present: int
    needed: int
    met: bool


class ResultOut(Schema):
    item_id: int
    outcome: str
    outcome_label: str
    passed: bool
    yes: int
    no: int
    abstain: int
    members: int
    present: int
    recused: int
    quorum_needed: int
    rule: str
    ballot: str
    threshold: str
    closed_at: datetime.datetime
    sequence: int
    digest: str


class ItemOut(Schema):
    id: int
    position: int
    title: str
    motion: str
    rule: str
    rule_label: str
    ballot: str
    ballot_label: str
    public_notice: bool
    status: str
    status_label: str
    closes_at: datetime.datetime | None
    recused: bool
    voted: bool
    # The member's choice on an open ballot; a secret ballot's is shown only with its receipt (GET .../vote/).
    my_choice: str | None
    result: ResultOut | None
    vote_url: str
    result_url: str


class SessionSummary(Schema):
    id: int
    council: str
    title: str
    place: str
    mode: str
    mode_label: str
    status: str
    status_label: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    role: str | None
    role_label: str | None
    checked_in: bool


class SessionList(Schema):
    items: list[SessionSummary]
    next: str | None


class SessionDetail(SessionSummary):
    quorum: QuorumOut
    items: list[ItemOut]
    check_in_url: str


class CheckInOut(Schema):
    session_id: int
    checked_in: bool
    method: str
    checked_in_at: datetime.datetime


class VoteIn(Schema):
    choice: Choice


class VoteOut(Schema):
    item_id: int
    ballot: str
    item_status: str
    voted: bool
    recused: bool
    choice: str | None
    choice_label: str | None
    # A secret ballot's receipt, signed for the member (POST only): send it as X-Ballot-Receipt to change the
    # vote or see it while voting is open. Kept by the app alone; lost, the vote stands but cannot be changed.
    receipt: str | None = None


def _member(request: HttpRequest):
    """The resident, once they have TOTP where the portal asks council members for it (LINLI_STAFF_MFA_REQUIRED)."""
    user = request.auth
    if totp_missing(user):
        raise ApiError(
            403,
            "totp_required",
            _("Set up two-step verification (an authenticator app) first: council members need it to take part."),
        )
    return user


def _followed_session(request: HttpRequest, session_id: int) -> CouncilSession:
    user = _member(request)
    session = (
        CouncilSession.objects.select_related("council__community")
        .filter(pk=session_id, status__in=PUBLIC_SESSION_STATUSES)
        .first()
    )
    if session is None or not voting.may_follow(session=session, user=user):
        raise Http404
    return session


def _followed_item(request: HttpRequest, item_id: int) -> AgendaItem:
    user = _member(request)
    item = (
        AgendaItem.objects.select_related("session__council__community", "result")
        .filter(pk=item_id, session__status__in=PUBLIC_SESSION_STATUSES)
        .first()
    )
    if item is None or not voting.may_follow(session=item.session, user=user):
        raise Http404
    return item


def _seat(session: CouncilSession, user) -> CouncilMember | None:
    return voting.member_of(council=session.council, user=user, on=voting.session_day(session))


def _summary(session: CouncilSession, *, seat: CouncilMember | None, checked_in: bool) -> dict:
    return {
        "id": session.pk,
        "council": str(session.council),
        "title": session.display_title,
        "place": session.display_place,
        "mode": session.mode,
        "mode_label": str(session.get_mode_display()),
        "status": session.status,
        "status_label": str(session.get_status_display()),
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "role": seat.role if seat else None,
        "role_label": str(seat.get_role_display()) if seat else None,
        "checked_in": checked_in,
    }


def _result(result: Result) -> dict:
    return {
        "item_id": result.item_id,
        "outcome": result.outcome,
        "outcome_label": str(result.get_outcome_display()),
        "passed": result.passed,
        "yes": result.yes,
        "no": result.no,
        "abstain": result.abstain,
        "members": result.members,
        "present": result.present,
        "recused": result.recused,
        "quorum_needed": result.quorum_needed,
        "rule": result.rule,
        "ballot": result.ballot,
        "threshold": result.threshold,
        "closed_at": result.closed_at,
        "sequence": result.sequence,
        "digest": result.digest,
    }


def _item(item: AgendaItem, *, votes: dict, participated: set, recused: set) -> dict:
    secret = item.ballot == AgendaItem.Ballot.SECRET
    result = voting.shown_result(item)
    return {
        "id": item.pk,
        "position": item.position,
        "title": item.display_title,
        "motion": item.display_motion,
        "rule": item.rule,
        "rule_label": str(item.get_rule_display()),
        "ballot": item.ballot,
        "ballot_label": str(item.get_ballot_display()),
        "public_notice": item.public_notice,
        "status": item.status,
        "status_label": str(item.get_status_display()),
        "closes_at": item.closes_at,
        "recused": item.pk in recused,
        "voted": item.pk in (participated if secret else votes),
        "my_choice": None if secret else votes.get(item.pk),
        "result": _result(result) if result else None,
        "vote_url": f"/api/v1/council/items/{item.pk}/vote/",
        "result_url": f"/api/v1/council/items/{item.pk}/result/",
    }


def _vote(item: AgendaItem, user, *, receipt: str = "") -> dict:
    """The member's own vote on the item: an open ballot's choice; a secret one's only with its receipt, while
    voting is open (`services.my_secret_choice`), as the page shows it on the device that holds the receipt."""
    if item.ballot == AgendaItem.Ballot.SECRET:
        choice = voting.my_secret_choice(item=item, receipt=receipt)
    else:
        choice = voting.my_choice(item=item, user=user)
    return {
        "item_id": item.pk,
        "ballot": item.ballot,
        "item_status": item.status,
        "voted": voting.has_voted(item=item, user=user),
        "recused": Recusal.objects.filter(item=item, member__user=user).exists(),
        "choice": choice,
        "choice_label": str(Choice(choice).label) if choice else None,
    }


@router.get(
    "/sessions/",
    response={200: SessionList, 304: None, **ERRORS},
    summary="Sessions of the councils the member sits on, upcoming first",
    description="Announced and running sessions first, soonest first; then the past ones, latest first.",
)
def list_sessions(request: HttpRequest, params: Query[ListParams]):
    user = _member(request)
    seats = {seat.council_id: seat for seat in voting.current_seats(user)}
    upcoming = Case(When(status__in=UPCOMING, then=Value(0)), default=Value(1), output_field=IntegerField())
    soon = Case(When(status__in=UPCOMING, then=F("starts_at")), default=None)
    sessions = (
        voting.member_sessions(user)
        .annotate(past=upcoming, soon=soon)
        .order_by("past", F("soon").asc(nulls_last=True), "-starts_at", "-pk")
    )
    page, following = page_of(sessions, params.cursor, params.limit)
    present = set(
        Attendance.objects.filter(session__in=[each.pk for each in page], member__user=user).values_list("session_id", flat=True)
    )
    # The seat of today (the list is of the councils the member sits on now); on a past session's own page, that day's.
    items = [_summary(each, seat=seats.get(each.council_id), checked_in=each.pk in present) for each in page]
    return json_with_etag(request, {"items": items, "next": following})


@router.get(
    "/sessions/{session_id}/",
    response={200: SessionDetail, 304: None, **ERRORS},
    summary="A session with its agenda, whether the member checked in, and each closed item's result",
)
def get_session(request: HttpRequest, session_id: Id):
    session = _followed_session(request, session_id)
    user = request.auth
    seat = _seat(session, user)
    votes, participated, recused = {}, set(), set()
    if seat is not None:
        votes = dict(Vote.objects.filter(member=seat, item__session=session).values_list("item_id", "choice"))
        participated = set(Participation.objects.filter(member=seat, item__session=session).values_list("item_id", flat=True))
        recused = set(Recusal.objects.filter(member=seat, item__session=session).values_list("item_id", flat=True))
    checked_in = seat is not None and Attendance.objects.filter(session=session, member=seat).exists()
    counted = voting.session_quorum(session=session)
    data = _summary(session, seat=seat, checked_in=checked_in)
    data.update(
        quorum={"members": counted.members, "present": counted.present, "needed": counted.needed, "met": counted.met},
        items=[
            _item(item, votes=votes, participated=participated, recused=recused) for item in voting.agenda_with_results(session)
        ],
        check_in_url=f"/api/v1/council/sessions/{session.pk}/check-in/",
    )
    return json_with_etag(request, data)


@router.post(
    "/sessions/{session_id}/check-in/",
    response={200: CheckInOut, **ERRORS, 409: ErrorOut},
    summary="Check in online (“I am here”) during an online or hybrid session",
    description="As the session page's button; a second check-in is harmless and answers the first one. "
    "In the room, members check in with the QR code at the door (a page of the portal).",
)
def check_in(request: HttpRequest, session_id: Id):
    session = _followed_session(request, session_id)
    attendance = voting.check_in(session=session, user=request.auth, method=Attendance.Method.ONLINE)
    return {
        "session_id": session.pk,
        "checked_in": True,
        "method": attendance.method,
        "checked_in_at": attendance.checked_in_at,
    }


@router.post(
    "/items/{item_id}/vote/",
    response={200: VoteOut, **ERRORS, 409: ErrorOut},
    summary="Vote, or change one's vote, while the item's vote is open",
    description="A secret ballot's first vote answers a receipt; send it as X-Ballot-Receipt to change that vote. "
    "Sending the same vote again changes nothing and answers the same.",
)
def vote(request: HttpRequest, item_id: Id, payload: VoteIn, x_ballot_receipt: Receipt = None):
    item = _followed_item(request, item_id)
    user = request.auth
    held = unsign_receipt(x_ballot_receipt, user) if item.ballot == AgendaItem.Ballot.SECRET else ""
    receipt = voting.cast_vote(item=item, user=user, choice=payload.choice.value, receipt=held)
    item.refresh_from_db()
    data = _vote(item, user, receipt=receipt)
    data["receipt"] = sign_receipt(receipt, user) if receipt else None
    return data


@router.get(
    "/items/{item_id}/vote/",
    response={200: VoteOut, 304: None, **ERRORS},
    summary="The member's own vote on an item",
    description="On a secret ballot the choice is shown only with the receipt (X-Ballot-Receipt), while voting is open.",
)
def my_vote(request: HttpRequest, item_id: Id, x_ballot_receipt: Receipt = None):
    item = _followed_item(request, item_id)
    user = request.auth
    response = json_with_etag(request, _vote(item, user, receipt=unsign_receipt(x_ballot_receipt, user)))
    patch_vary_headers(response, ["X-Ballot-Receipt"])  # a secret ballot's choice shows only with its receipt
    return response


@router.get(
    "/items/{item_id}/result/",
    response={200: ResultOut, 304: None, **ERRORS, 409: ErrorOut},
    summary="An item's result, once its vote has closed",
    description="409 while the item is not voted on yet or its vote is open: no count is shown before the close.",
)
def result(request: HttpRequest, item_id: Id):
    item = _followed_item(request, item_id)
    stored = voting.shown_result(item)
    if stored is None:
        raise ApiError(409, "vote_not_closed", _("Voting on this item has not closed yet: there is no result to show."))
    return json_with_etag(request, _result(stored))
