"""The council on the web: members' portal under /me/council/ (roll call, voting, recusal, the chair's and
the secretary's controls) and the public session pages under /council/.

Every POST calls one service of `deliberation.council.services` and shows its message; the services decide
who may do what. While voting on an item is open no page shows any count of votes, to anyone.
"""

from __future__ import annotations

from collections import defaultdict
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from deliberation.council import chain
from deliberation.council import services as voting
from deliberation.council.forms import MemberChoiceForm, OpenVotingForm, RecusalForm, VoteForm
from deliberation.council.models import (
    PUBLIC_SESSION_STATUSES,
    AgendaItem,
    Attendance,
    Choice,
    CouncilMember,
    CouncilSession,
    Participation,
    Recusal,
    Vote,
)
from deliberation.council.sections import COUNCIL_LIST_SECTIONS, COUNCIL_SESSION_SECTIONS
from home.scope import for_user
from home.sections import rendered_sections
from plumbing.middleware import StaffMfaMiddleware
from plumbing.parsing import parse_pk

RECEIPT_SALT = "deliberation.council.receipt"
RECEIPT_MAX_AGE = 14 * 24 * 3600
PUBLIC_SESSIONS_PER_COUNCIL = 10
# An action's refusal about one item, kept in the session for the next page to show at that item.
ITEM_ERROR_KEY = "deliberation.council.item_error"


def must_have_totp(user) -> bool:
    """Council members (of any council, any term) and staff, where LINLI_STAFF_MFA_REQUIRED asks them for TOTP."""
    return (
        user.is_staff
        or user.is_superuser
        or user.has_perm("wagtailadmin.access_admin")
        or CouncilMember.objects.filter(user=user).exists()
        or for_user(user).any
    )


def totp_missing(user) -> bool:
    """Whether `user` must set up TOTP before using the members' portal or the council's API."""
    return settings.LINLI_STAFF_MFA_REQUIRED and must_have_totp(user) and not StaffMfaMiddleware.has_totp(user)


def council_portal(view):
    """Every view of the members' portal (under /<lang>/me/council/), applied once by `deliberation.urls` so a
    new view cannot forget it: log in first; then, where required, council members and staff set up TOTP
    before they read minutes, vote or check in."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if totp_missing(request.user):
            return redirect("mfa_activate_totp")
        return view(request, *args, **kwargs)

    return login_required(wrapper)


# ---------------------------------------------------------------------------
# Secret-ballot receipts: on the member's device only, in a signed cookie per item, never in the database (its
# digest is sealed inside the ballot until the vote closes; after that it matches nothing). Signed for one
# user: on a shared phone another member's receipt counts as none.


def receipt_cookie(item: AgendaItem, language: str | None = None) -> str:
    return f"council_receipt_{language or translation.get_language()}_{item.pk}"


def _receipt_salt(user) -> str:
    return f"{RECEIPT_SALT}:{user.pk}"


def sign_receipt(receipt: str, user) -> str:
    """A receipt as the API hands it to a phone app: signed for the member, as the cookie is, so that on a shared
    phone another member's receipt counts as none. Deterministic: a repeated vote answers the same text."""
    return signing.Signer(salt=_receipt_salt(user)).sign(receipt)


def unsign_receipt(value: str, user) -> str:
    """The receipt in a phone app's signed copy (`sign_receipt`), or "" if it is not this member's."""
    try:
        return signing.Signer(salt=_receipt_salt(user)).unsign(value or "")
    except signing.BadSignature:
        return ""


def read_receipt(request: HttpRequest, item: AgendaItem) -> str:
    return request.get_signed_cookie(receipt_cookie(item), default="", salt=_receipt_salt(request.user), max_age=RECEIPT_MAX_AGE)


def keep_receipt(response: HttpResponse, item: AgendaItem, receipt: str, user) -> None:
    """The portal lives under each language's prefix and a cookie's path matches one of them: one cookie per
    language (a name per language, as a response holds one cookie per name), so a change of language keeps it."""
    for language, _name in settings.LANGUAGES:
        response.set_signed_cookie(
            receipt_cookie(item, language),
            receipt,
            salt=_receipt_salt(user),
            max_age=RECEIPT_MAX_AGE,
            path=f"/{language}/me/council/",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )


# ---------------------------------------------------------------------------
# Members' portal


@never_cache
@login_required
@require_safe
def my_councils(request: HttpRequest) -> HttpResponse:
    """The councils the resident sits on now, with their sessions (drafts and cancelled ones left out)."""
    seats = list(voting.current_seats(request.user))
    councils = {seat.council_id: seat.council for seat in seats}
    roles = {seat.council_id: seat.get_role_display() for seat in seats}
    sessions = defaultdict(list)
    for session in voting.member_sessions(request.user).order_by("-starts_at", "-pk"):
        sessions[session.council_id].append(session)
    entries = [(council, roles[pk], sessions[pk]) for pk, council in councils.items()]
    return render(request, "council/my_councils.html", {"entries": entries})


def _member_session(request: HttpRequest, pk: int) -> CouncilSession | None:
    """The session if the user may see its live page (a current member, the chair, the secretary or staff)."""
    session = get_object_or_404(
        CouncilSession.objects.select_related("council__community"), pk=pk, status__in=PUBLIC_SESSION_STATUSES
    )
    return session if voting.may_follow(session=session, user=request.user) else None


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def session_live(request: HttpRequest, pk: int) -> HttpResponse:
    """A session as a member lives it: roll call, the agenda, voting; the chair's and secretary's controls."""
    session = _member_session(request, pk)
    if request.method == "POST":
        return _session_action(request, pk, session)
    if session is None:
        raise Http404
    council = session.council
    member = voting.member_of(council=council, user=request.user, on=voting.session_day(session))
    can_chair, can_clerk = voting.can_chair(request.user, session), voting.can_clerk(request.user, session)
    items = voting.agenda_with_results(session)
    votes, participated, recused = {}, set(), {}
    if member is not None:
        votes = dict(Vote.objects.filter(member=member, item__session=session).values_list("item_id", "choice"))
        participated = set(Participation.objects.filter(member=member, item__session=session).values_list("item_id", flat=True))
        recused = dict(Recusal.objects.filter(member=member, item__session=session).values_list("item_id", "pk"))
    choices = dict(Choice.choices)
    open_item = None
    item_error = request.session.pop(ITEM_ERROR_KEY, None)
    recusals = defaultdict(list)
    if can_clerk:
        for recusal in Recusal.objects.filter(item__session=session).select_related("member__user__profile").order_by("pk"):
            recusals[recusal.item_id].append(recusal)
    for item in items:
        item.recused = item.pk in recused
        item.my_recusal = recused.get(item.pk)
        item.recusal_list = recusals[item.pk]
        item.error = item_error["message"] if item_error and item_error.get("item") == item.pk else ""
        item.my_choice = choices.get(votes.get(item.pk)) if item.ballot == AgendaItem.Ballot.OPEN else None
        item.voted_secretly = item.pk in participated
        receipt = read_receipt(request, item) if item.ballot == AgendaItem.Ballot.SECRET and item.voted_secretly else ""
        item.has_receipt = bool(receipt)
        item.my_secret_choice = None
        if item.status == AgendaItem.Status.OPEN:
            open_item = item
            item.quorum = voting.quorum(item=item)
            # Only to the voter, on the device that holds the receipt, until the close makes it unreadable.
            item.my_secret_choice = choices.get(voting.my_secret_choice(item=item, receipt=receipt))
            item.has_receipt = item.my_secret_choice is not None
            if can_clerk:
                item.voted, item.eligible = voting.votes_cast(item=item)
    present_members = set(Attendance.objects.filter(session=session).values_list("member_id", flat=True))
    roll = []
    if can_clerk:
        roll = [
            (m, m.pk in present_members)
            for m in council.current_members(voting.session_day(session)).select_related("user__profile")
        ]
        for item in items:
            recused_here = {recusal.member_id for recusal in item.recusal_list}
            item.may_recuse = [seat for seat, is_present in roll if is_present and seat.pk not in recused_here]
    context = {
        "session": session,
        "council": council,
        "member": member,
        "present": member is not None and member.pk in present_members,
        "quorum": voting.session_quorum(session=session),
        "items": items,
        "open_item": open_item,
        "can_chair": can_chair,
        "can_clerk": can_clerk,
        "roll": roll,
        "online": session.mode in (CouncilSession.Mode.ONLINE, CouncilSession.Mode.HYBRID),
        "in_room": session.mode in (CouncilSession.Mode.IN_PERSON, CouncilSession.Mode.HYBRID),
        "in_session": session.status == CouncilSession.Status.IN_SESSION,
        "vote_form": VoteForm(),
        "recusal_form": RecusalForm(),
        "open_form": OpenVotingForm(),
    }
    return render(request, "council/session_live.html", context)


def _item(session: CouncilSession, request: HttpRequest) -> AgendaItem:
    pk = parse_pk(request.POST.get("item"))
    item = AgendaItem.objects.filter(session=session, pk=pk).select_related("session__council").first() if pk else None
    if item is None:
        raise voting.CouncilError(_("This item is not on the agenda of this session."))
    return item


def _session_action(request: HttpRequest, pk: int, viewable: CouncilSession | None) -> HttpResponse:
    """One action on a session or one of its items; every refusal is the service's message, nothing changes."""
    session = viewable or get_object_or_404(CouncilSession.objects.select_related("council__community"), pk=pk)
    action = request.POST.get("action", "")
    user = request.user
    receipt = ""
    item = None
    anchor = ""
    try:
        if action == "here":
            voting.check_in(session=session, user=user, method=Attendance.Method.ONLINE)
            messages.success(request, _("You are checked in."))
        elif action == "vote":
            item = _item(session, request)
            form = VoteForm(request.POST)
            if not form.is_valid():
                raise voting.CouncilError(_("Please choose: in favour, against or abstain."))
            receipt = voting.cast_vote(
                item=item, user=user, choice=form.cleaned_data["choice"], receipt=read_receipt(request, item)
            )
            messages.success(request, _("Your vote has been recorded."))
        elif action == "recuse":
            item = _item(session, request)
            form = RecusalForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            voting.declare_recusal(item=item, user=user, reason=reason)
            messages.success(request, _("Your conflict of interest is recorded: you do not vote on this item."))
        elif action == "record_recusal":
            item = _item(session, request)
            form = MemberChoiceForm(request.POST, council=session.council)
            if not form.is_valid():
                raise voting.CouncilError(_("Please choose a current member of this council."))
            member = form.cleaned_data["member"]
            reason = RecusalForm(request.POST)
            voting.record_recusal(
                item=item, member=member, actor=user, reason=reason.cleaned_data["reason"] if reason.is_valid() else ""
            )
            messages.success(
                request,
                _("The conflict of interest of %(name)s is recorded: they do not vote on this item.")
                % {"name": member_name(member)},
            )
        elif action == "withdraw_recusal":
            item = _item(session, request)
            recusal = Recusal.objects.filter(item=item, pk=parse_pk(request.POST.get("recusal"))).first()
            if recusal is None:
                raise voting.CouncilError(_("This recusal has already been withdrawn."))
            voting.withdraw_recusal(recusal=recusal, actor=user)
            messages.success(request, _("The recusal is withdrawn: the member votes on this item."))
        elif action == "start":
            voting.start_session(session=session, actor=user)
            messages.success(request, _("The session has started."))
        elif action == "open":
            item = _item(session, request)
            form = OpenVotingForm(request.POST)
            if not form.is_valid():
                raise voting.CouncilError(_("Please give a valid closing time, or none."))
            voting.open_voting(item=item, actor=user, closes_at=form.cleaned_data["closes_at"])
            messages.success(request, _("Voting is open."))
        elif action == "close":
            item = _item(session, request)
            result = voting.close_voting(item=item, actor=user)
            messages.success(request, _("Voting is closed: %(outcome)s.") % {"outcome": result.get_outcome_display()})
        elif action == "end":
            if request.POST.get("confirm") != "yes":
                raise voting.CouncilError(_("Please tick the box to confirm that the session ends."))
            voting.end_session(session=session, actor=user)
            messages.success(request, _("The session has ended."))
        elif action in ("present", "record"):
            form = MemberChoiceForm(request.POST, council=session.council)
            if not form.is_valid():
                raise voting.CouncilError(_("Please choose a current member of this council."))
            member = form.cleaned_data["member"]
            if action == "present":
                voting.check_in(session=session, user=member.user, method=Attendance.Method.SECRETARY, actor=user)
                messages.success(request, _("%(name)s is marked present.") % {"name": member_name(member)})
            else:
                item = _item(session, request)
                if form.cleaned_data["choice"] not in Choice.values:
                    raise voting.CouncilError(_("Please choose: in favour, against or abstain."))
                voting.record_vote(item=item, member=member, choice=form.cleaned_data["choice"], actor=user)
                messages.success(request, _("The vote of %(name)s is recorded.") % {"name": member_name(member)})
        else:
            raise voting.CouncilError(_("Unknown action."))
    except (voting.CouncilError, PermissionDenied) as error:
        messages.error(request, str(error) or _("You may not do this."))
        if item is not None and viewable is not None:
            # Said at the item too, where the page lands: on a phone the top of the page is out of sight.
            request.session[ITEM_ERROR_KEY] = {"item": item.pk, "message": str(error) or _("You may not do this.")}
            anchor = f"item-{item.pk}-error"
    if viewable is None and _member_session(request, pk) is None:
        response = redirect("council:my_councils")
    else:
        anchor = anchor or (f"item-{item.pk}" if item else "top")
        response = redirect(f"{reverse('council:council_session_live', args=[session.pk])}#{anchor}")
    if receipt and item is not None:
        keep_receipt(response, item, receipt, user)
    return response


def member_name(member: CouncilMember) -> str:
    profile = getattr(member.user, "profile", None)
    return getattr(profile, "display_name", "") or member.user.get_username()


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def door(request: HttpRequest, session_pk: int, door_key: str) -> HttpResponse:
    """The QR code at the door: a confirmation page; the POST checks the member in.

    An online session has no door: the page says so and links the session's page, where members check in."""
    session = get_object_or_404(
        CouncilSession.objects.select_related("council"), pk=session_pk, status__in=PUBLIC_SESSION_STATUSES
    )
    context = {"session": session, "online": session.mode == CouncilSession.Mode.ONLINE}
    if context["online"]:
        return render(request, "council/door.html", context)
    try:
        if request.method == "POST":
            voting.check_in(session=session, user=request.user, method=Attendance.Method.QR, door_key=door_key)
        else:
            voting.check_door_key(session=session, door_key=door_key, now=timezone.now())
    except (voting.CouncilError, PermissionDenied) as error:
        # Said on the page, once, before the tap where possible: an old photo of the code offers no button.
        context["refusal"] = str(error) or _("You may not do this.")
        return render(request, "council/door.html", context, status=403)
    if request.method == "POST":
        messages.success(request, _("You are checked in."))
        return redirect("council:council_session_live", pk=session.pk)
    return render(request, "council/door.html", context)


# ---------------------------------------------------------------------------
# Public pages


@require_safe
def public_sessions(request: HttpRequest) -> HttpResponse:
    """Announced and recent sessions, per council, newest first (one query however many there are)."""
    sessions = (
        CouncilSession.objects.filter(status__in=PUBLIC_SESSION_STATUSES)
        .select_related("council")
        .order_by("council__community__code", "-starts_at", "-pk")
    )
    grouped: dict[int, tuple] = {}
    for session in sessions:
        council_sessions = grouped.setdefault(session.council_id, (session.council, []))[1]
        if len(council_sessions) < PUBLIC_SESSIONS_PER_COUNCIL:
            council_sessions.append(session)
    # Who sits on each council today (one query), chair and secretary first.
    today, roles = timezone.localdate(), list(CouncilMember.Role.values)
    members = defaultdict(list)
    current = CouncilMember.objects.filter(council_id__in=list(grouped), term_start__lte=today).filter(
        Q(term_end__isnull=True) | Q(term_end__gte=today)
    )
    for seat in sorted(current.select_related("user__profile"), key=lambda seat: (roles.index(seat.role), seat.pk)):
        members[seat.council_id].append((member_name(seat), seat.get_role_display()))
    context = {
        "councils": [(council, sessions, members[council.pk]) for council, sessions in grouped.values()],
        "council_sections": rendered_sections(COUNCIL_LIST_SECTIONS, request),
    }
    return render(request, "council/public_list.html", context)


@require_safe
def public_session(request: HttpRequest, pk: int) -> HttpResponse:
    """A session's public page: agenda, time, place, mode; each result with its chart once voting closed."""
    session = get_object_or_404(CouncilSession.objects.select_related("council"), pk=pk, status__in=PUBLIC_SESSION_STATUSES)
    items = voting.agenda_with_results(session)
    response = render(
        request,
        "council/public_session.html",
        {
            "session": session,
            "items": items,
            "session_sections": rendered_sections(COUNCIL_SESSION_SECTIONS, request, session),  # e.g. the minutes
            "language": translation.get_language(),
            # The chain's head after this session (short form), and whether this session's links still verify.
            "chain_head": chain.session_head(session),
            "chain_broken": bool(chain.verify_session(session=session)),
        },
    )
    if session.status == CouncilSession.Status.IN_SESSION:
        add_never_cache_headers(response)  # results appear as soon as voting closes: no cached copy
    return response
