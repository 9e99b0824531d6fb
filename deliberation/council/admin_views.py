"""The council in the Wagtail admin: councils and members, sessions and agendas, the live view, the door's QR
code and the results with their hash chain.

Scoped like the mailbox admin: staff see the councils of their communities (street managers all of them);
anything else answers 404. Each POST calls one service; its message is shown and nothing else changes.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from deliberation.council import members as council_admin
from deliberation.council import services as voting
from deliberation.council.forms import CouncilForm, ItemForm, MemberForm, NewMemberForm, OpenVotingForm, SessionForm
from deliberation.council.models import AgendaItem, Attendance, Council, CouncilMember, CouncilSession, Result
from deliberation.mailbox import services
from home.scope import for_request, staff_only
from plumbing import audit
from plumbing.links import absolute_url
from plumbing.parsing import parse_int, parse_pk, required_pk
from plumbing.qr import qr_svg

ERRORS = (voting.CouncilError, council_admin.CouncilAdminError, PermissionDenied)
EDITABLE = (CouncilSession.Status.DRAFT, CouncilSession.Status.ANNOUNCED)


staff_required = staff_only(gettext_lazy("Only community staff manage councils."))


def staff_councils(request: HttpRequest):
    return for_request(request).filter(Council.objects.select_related("community"), "community")


def staff_sessions(request: HttpRequest):
    return CouncilSession.objects.filter(council__in=staff_councils(request)).select_related("council__community")


def _done(request: HttpRequest, message: str | None = None) -> None:
    messages.success(request, message or _("Done."))


# ---------------------------------------------------------------------------
# Councils and members


@staff_required
def council_list(request: HttpRequest) -> HttpResponse:
    """The staff's councils, and a form to create one for a community that has none."""
    communities = for_request(request).communities()
    if request.method == "POST":
        community = get_object_or_404(communities, pk=required_pk(request.POST, "community"))
        try:
            council = council_admin.create_council(
                community=community,
                actor=request.user,
                name=request.POST.get("name", ""),
                name_en=request.POST.get("name_en", ""),
            )
        except ERRORS as error:
            messages.error(request, str(error))
            return redirect("council_admin:councils")
        _done(request)
        return redirect("council_admin:council", pk=council.pk)
    councils = staff_councils(request).annotate(
        member_count=Count(
            "members",
            filter=Q(members__term_start__lte=timezone.localdate())
            & (Q(members__term_end__isnull=True) | Q(members__term_end__gte=timezone.localdate())),
        )
    )
    without = communities.exclude(pk__in=Council.objects.values("community"))
    return render(request, "council/admin/councils.html", {"councils": councils, "without": without})


def _member_action(request: HttpRequest, council: Council) -> None:
    action = request.POST.get("action", "")
    if action == "settings":
        form = CouncilForm(request.POST, instance=Council(community=council.community))
        if not form.is_valid():
            raise council_admin.CouncilAdminError(
                _("Please correct the council's settings: %(errors)s") % {"errors": _errors(form)}
            )
        council_admin.update_council(council=council, actor=request.user, **form.cleaned_data)
    elif action == "add":
        form = NewMemberForm(request.POST)
        if not form.is_valid():
            raise council_admin.CouncilAdminError(_("Please correct the new member: %(errors)s") % {"errors": _errors(form)})
        user = services.verified_user(form.cleaned_data["email"])
        if user is None:
            raise council_admin.CouncilAdminError(_("No resident with this verified mobile number or e-mail address."))
        data = form.cleaned_data
        council_admin.add_member(
            council=council,
            actor=request.user,
            user=user,
            role=data["role"],
            term_start=data["term_start"],
            term_end=data["term_end"],
        )
    elif action in ("change", "end"):
        member = get_object_or_404(council.members, pk=required_pk(request.POST, "member"))
        if action == "end":
            if request.POST.get("confirm") != "yes":
                raise council_admin.CouncilAdminError(_("Please tick the box to confirm that the term ends today."))
            council_admin.end_term(member=member, actor=request.user)
        else:
            form = MemberForm(request.POST, instance=CouncilMember(council=council, user=member.user))
            if not form.is_valid():
                raise council_admin.CouncilAdminError(
                    _("Please correct the member's term: %(errors)s") % {"errors": _errors(form)}
                )
            council_admin.change_member(member=member, actor=request.user, **form.cleaned_data)
    else:
        raise Http404


def _errors(form) -> str:
    return "; ".join(
        f"{form.fields[name].label if name in form.fields else ''}: {' '.join(errors)}".lstrip(": ")
        for name, errors in form.errors.items()
    )


@staff_required
def council_detail(request: HttpRequest, pk: int) -> HttpResponse:
    council = get_object_or_404(staff_councils(request), pk=pk)
    if request.method == "POST":
        try:
            _member_action(request, council)
        except ERRORS as error:
            messages.error(request, str(error))
        else:
            _done(request)
        return redirect("council_admin:council", pk=council.pk)
    today = timezone.localdate()
    members = list(council.members.select_related("user__profile").order_by("-term_start", "role", "pk"))
    for member in members:
        member.current = member.is_current(today)
        member.form = MemberForm(instance=member, prefix=f"m{member.pk}")
    context = {
        "council": council,
        "form": CouncilForm(instance=council),
        "new_member_form": NewMemberForm(initial={"term_start": today}),
        "members": members,
        "sessions": council.sessions.order_by("-starts_at", "-pk")[:20],
    }
    return render(request, "council/admin/council.html", context)


# ---------------------------------------------------------------------------
# Sessions


@staff_required
def session_list(request: HttpRequest) -> HttpResponse:
    sessions = staff_sessions(request).annotate(item_count=Count("items")).order_by("-starts_at", "-pk")[:100]
    return render(request, "council/admin/sessions.html", {"sessions": sessions, "councils": staff_councils(request)})


@staff_required
def session_new(request: HttpRequest, council_pk: int) -> HttpResponse:
    council = get_object_or_404(staff_councils(request), pk=council_pk)
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = voting.create_session(council=council, actor=request.user, **form.cleaned_data)
        except ERRORS as error:
            form.add_error(None, str(error))
        else:
            _done(request, _("Session created: now add its agenda."))
            topic = parse_pk(request.GET.get("topic"))  # from a topic's "add to a session"
            if topic:
                return redirect(f"{reverse('council_admin:session', args=[session.pk])}?topic={topic}#add-item")
            return redirect("council_admin:session", pk=session.pk)
    return render(request, "council/admin/session_form.html", {"form": form, "council": council})


@staff_required
def session_edit(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(staff_sessions(request), pk=pk)
    form = SessionForm.for_session(session, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            voting.update_session(session=session, actor=request.user, **form.cleaned_data)
        except ERRORS as error:
            form.add_error(None, str(error))
        else:
            _done(request)
            return redirect("council_admin:session", pk=session.pk)
    return render(request, "council/admin/session_form.html", {"form": form, "council": session.council, "session": session})


def _item_of(session: CouncilSession, request: HttpRequest) -> AgendaItem:
    return get_object_or_404(session.items, pk=required_pk(request.POST, "item"))


def _session_action(request: HttpRequest, session: CouncilSession) -> None:
    action, actor = request.POST.get("action", ""), request.user
    if action == "add_item":
        form = ItemForm(request.POST, council=session.council)
        if not form.is_valid():
            raise voting.CouncilError(_("Please correct the item: %(errors)s") % {"errors": _errors(form)})
        voting.add_item(session=session, actor=actor, **form.cleaned_data)
    elif action == "move":
        item = _item_of(session, request)
        position = parse_int(request.POST.get("position"), min=1, max=1000)
        if position is None:
            raise voting.CouncilError(_("Please give a position."))
        voting.move_item(item=item, actor=actor, position=position)
    elif action == "remove":
        voting.remove_item(item=_item_of(session, request), actor=actor)
    elif action == "announce":
        voting.announce_session(session=session, actor=actor)
    elif action == "cancel":
        if request.POST.get("confirm") != "yes":
            raise voting.CouncilError(_("Please tick the box to confirm that the session is cancelled."))
        voting.cancel_session(session=session, actor=actor, reason=request.POST.get("reason", ""))
    elif action == "start":
        voting.start_session(session=session, actor=actor)
    elif action == "end":
        if request.POST.get("confirm") != "yes":
            raise voting.CouncilError(_("Please tick the box to confirm that the session ends."))
        voting.end_session(session=session, actor=actor)
    elif action == "open":
        form = OpenVotingForm(request.POST)
        if not form.is_valid():
            raise voting.CouncilError(_("Please give a valid closing time, or none."))
        voting.open_voting(item=_item_of(session, request), actor=actor, closes_at=form.cleaned_data["closes_at"])
    elif action == "close":
        voting.close_voting(item=_item_of(session, request), actor=actor)
    elif action == "present":
        member = get_object_or_404(
            session.council.current_members(timezone.localdate(session.starts_at)), pk=required_pk(request.POST, "member")
        )
        voting.check_in(session=session, user=member.user, method=Attendance.Method.SECRETARY, actor=actor)
    else:
        raise Http404


@staff_required
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The session's page for staff: agenda (editable before the start), announce or cancel, the live view."""
    session = get_object_or_404(staff_sessions(request), pk=pk)
    if request.method == "POST":
        try:
            _session_action(request, session)
        except ERRORS as error:
            messages.error(request, str(error))
        else:
            _done(request)
        return redirect("council_admin:session", pk=session.pk)
    items = voting.agenda_with_results(session)
    present = set(session.attendances.values_list("member_id", flat=True))
    roll = [
        (member, member.pk in present)
        for member in session.council.current_members(timezone.localdate(session.starts_at)).select_related("user__profile")
    ]
    context = {
        "session": session,
        "items": items,
        "editable": session.status in EDITABLE,
        "agenda_editable": session.status in EDITABLE,
        "item_form": _item_form(request, session),
        "open_form": OpenVotingForm(),
        "roll": roll,
        "quorum": voting.session_quorum(session=session),
        "any_open": any(item.status == AgendaItem.Status.OPEN for item in items),
        "live": session.status == CouncilSession.Status.IN_SESSION,
        # Who did what to the session, its agenda and its results (the audit log, newest first).
        "history": audit.history(
            session, (AgendaItem, session.items.all()), (Result, Result.objects.filter(item__session=session))
        ),
    }
    return render(request, "council/admin/session.html", context)


def _item_form(request: HttpRequest, session: CouncilSession) -> ItemForm:
    """The empty "add an item" form; from a topic's "add to a session" link, with that topic and its title."""
    form = ItemForm(council=session.council)
    topic = form.fields["topic"].queryset.filter(pk=parse_pk(request.GET.get("topic")) or 0).first()
    if topic is not None:
        form.initial.update(topic=topic.pk, title=topic.title)
    return form


@staff_required
def item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(
        AgendaItem.objects.filter(session__in=staff_sessions(request)).select_related("session__council"), pk=pk
    )
    form = ItemForm.for_item(item, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            voting.update_item(item=item, actor=request.user, **form.cleaned_data)
        except ERRORS as error:
            form.add_error(None, str(error))
        else:
            _done(request)
            return redirect("council_admin:session", pk=item.session_id)
    return render(request, "council/admin/item_form.html", {"form": form, "item": item, "session": item.session})


def door_url(request: HttpRequest, session: CouncilSession) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return absolute_url(reverse("council:council_door", args=[session.pk, session.door_key]))


@staff_required
def door_qr(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable page with the door's QR code: members scan it to check in."""
    session = get_object_or_404(staff_sessions(request), pk=pk)
    url = door_url(request, session)
    qr = qr_svg(url, title=session.display_title, scale=8, border=4)
    context = {
        "session": session,
        "qr": qr,
        "url": url,
        "started": session.status not in voting.PREPARING,
        "day": voting.session_day(session).isoformat(),
    }
    response = render(request, "council/admin/door_qr.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


@staff_required
def result_list(request: HttpRequest) -> HttpResponse:
    """Stored results, newest first, with the state of each council's hash chain."""
    councils = list(staff_councils(request))
    chains = []
    for council in councils:
        problems = voting.verify_results(council=council)
        chains.append((council, problems))
    results = (
        Result.objects.filter(council__in=councils).select_related("item__session", "council").order_by("-closed_at", "-pk")[:200]
    )
    return render(request, "council/admin/results.html", {"chains": chains, "results": results})
