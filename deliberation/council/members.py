"""Staff's changes to a council itself: its settings and its members' seats (add, role and term, end of term).

Sessions, agendas, attendance and votes are changed through `deliberation.council.services`; these are the
few changes that API leaves to the admin. Each checks that the actor is the community's staff and is audited.
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from deliberation.council import audit
from deliberation.council.models import Council, CouncilMember
from home.models import Community
from home.scope import for_user


class CouncilAdminError(Exception):
    """A change to a council or its members that breaks a rule; the message says which."""


def _require_staff(actor, community: Community) -> None:
    for_user(actor).require(community, message=_("Only the community's staff manage its council."))


def _check_term(term_start: datetime.date, term_end: datetime.date | None) -> None:
    if term_end is not None and term_end < term_start:
        raise CouncilAdminError(_("A term cannot end before it starts."))


def create_council(*, community: Community, actor, name: str, name_en: str = "", quorum: str = Council.Quorum.MORE_THAN_HALF,
                   notice_days: int = 5) -> Council:  # fmt: skip
    """The community's council (one per community)."""
    _require_staff(actor, community)
    if not name.strip():
        raise CouncilAdminError(_("Please give the council a name."))
    with transaction.atomic():
        if Council.objects.select_for_update().filter(community=community).exists():
            raise CouncilAdminError(_("This community already has a council."))
        council = Council.objects.create(
            community=community, name=name.strip(), name_en=name_en.strip(), quorum=quorum, notice_days=notice_days
        )
        audit.record(council, "council.members", actor=actor, change="create")
    return council


def update_council(*, council: Council, actor, name: str, name_en: str, quorum: str, notice_days: int) -> Council:
    _require_staff(actor, council.community)
    if not name.strip():
        raise CouncilAdminError(_("Please give the council a name."))
    if quorum not in Council.Quorum.values:
        raise CouncilAdminError(_("Unknown quorum rule."))
    with transaction.atomic():
        council.name, council.name_en, council.quorum, council.notice_days = name.strip(), name_en.strip(), quorum, notice_days
        council.save(update_fields=["name", "name_en", "quorum", "notice_days"])
        audit.record(council, "council.members", actor=actor, change="settings", quorum=quorum, notice_days=notice_days)
    return council


def _one_chair_and_secretary(council: Council, member: CouncilMember) -> None:
    """A council has at most one current chair and one current secretary at a time."""
    if member.role == CouncilMember.Role.MEMBER:
        return
    overlapping = council.members.select_for_update().filter(role=member.role).exclude(pk=member.pk)
    for other in overlapping:
        starts_before_other_ends = other.term_end is None or member.term_start <= other.term_end
        ends_after_other_starts = member.term_end is None or member.term_end >= other.term_start
        if starts_before_other_ends and ends_after_other_starts:
            raise CouncilAdminError(
                _("%(name)s is %(role)s for that time already: end that term first.")
                % {"name": other.user.get_username(), "role": other.get_role_display()}
            )


def add_member(*, council: Council, actor, user, role: str, term_start: datetime.date,
               term_end: datetime.date | None = None) -> CouncilMember:  # fmt: skip
    """A new seat (a resident's term on the council)."""
    _require_staff(actor, council.community)
    _check_term(term_start, term_end)
    if role not in CouncilMember.Role.values:
        raise CouncilAdminError(_("Unknown role."))
    with transaction.atomic():
        Council.objects.select_for_update().get(pk=council.pk)
        current = council.members.filter(user=user).exclude(term_end__lt=term_start)
        if current.exists():
            raise CouncilAdminError(_("This resident already has a seat on the council for that time."))
        member = CouncilMember(council=council, user=user, role=role, term_start=term_start, term_end=term_end)
        _one_chair_and_secretary(council, member)
        try:
            with transaction.atomic():
                member.save()
        except IntegrityError:
            raise CouncilAdminError(_("This resident already has a seat on the council for that time.")) from None
        audit.record(council, "council.members", actor=actor, change="add", member=member.pk, role=role)
    return member


def change_member(*, member: CouncilMember, actor, role: str, term_start: datetime.date,
                  term_end: datetime.date | None) -> CouncilMember:  # fmt: skip
    """A seat's role or term."""
    council = member.council
    _require_staff(actor, council.community)
    _check_term(term_start, term_end)
    if role not in CouncilMember.Role.values:
        raise CouncilAdminError(_("Unknown role."))
    with transaction.atomic():
        Council.objects.select_for_update().get(pk=council.pk)
        member.role, member.term_start, member.term_end = role, term_start, term_end
        _one_chair_and_secretary(council, member)
        try:
            with transaction.atomic():
                member.save(update_fields=["role", "term_start", "term_end"])
        except IntegrityError:
            raise CouncilAdminError(_("This resident already has a seat on the council for that time.")) from None
        audit.record(council, "council.members", actor=actor, change="edit", member=member.pk, role=role)
    return member


def end_term(*, member: CouncilMember, actor, on: datetime.date | None = None) -> CouncilMember:
    """The seat ends on `on` (default yesterday: the member no longer votes from today)."""
    council = member.council
    _require_staff(actor, council.community)
    on = on or timezone.localdate() - datetime.timedelta(days=1)
    if on < member.term_start:
        raise CouncilAdminError(_("A term cannot end before it starts."))
    if member.term_end is not None and member.term_end <= on:
        raise CouncilAdminError(_("This term has already ended."))
    with transaction.atomic():
        member.term_end = on
        member.save(update_fields=["term_end"])
        audit.record(council, "council.members", actor=actor, change="end", member=member.pk, on=on.isoformat())
    return member
