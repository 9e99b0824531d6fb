"""A council's tamper-evident chain: every vote, secret ballot, attendance, recusal, result and the published
minutes, signed with a key that is not in the database.

Each `ChainLink` holds a canonical copy of what it covers (`payload`) and an HMAC-SHA256 with
`settings.COUNCIL_CHAIN_KEY` over that copy, its place in the chain and the previous link's MAC. Links are
appended inside the transaction that fixes what they cover:

- an item's close (`append_item`, called by `council.close_voting` once the result is stored): the result,
  the item's open votes (member, choice, who recorded it) or its secret ballots (id, choice, after they were
  counted), its recusals and the attendance at that moment;
- a session's end (`append_session`, called by `council.end_session`): the final attendance;
- the minutes' publication (`append_minutes`, called by `followup.publish_minutes`): a digest of each
  language's published text and the confirmations it was published on.

`verify_chain` recomputes every payload from today's rows and every MAC with the key, and says what changed.
Someone who rewrites rows and links without the key breaks the MACs; someone with the key (or who truncates
the chain's end) is caught by the exported copy: `export_chain` appends links to a file kept where the
database's administrator cannot rewrite it, `verify_against` compares the database with it.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from deliberation.council.models import (
    AgendaItem,
    Attendance,
    Ballot,
    ChainLink,
    Council,
    CouncilMember,
    CouncilSession,
    Recusal,
    Result,
    Vote,
)

GENESIS_MAC = "0" * 64


def canonical(value) -> str:
    """The one text form that is hashed and signed: JSON, sorted keys, no spaces, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _utc(moment: datetime.datetime | None) -> str | None:
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds") if moment else None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def link_fields(link: ChainLink) -> dict:
    """What a link's MAC covers (and what `export_chain` writes, with the payload's digest instead of the payload)."""
    return {
        "council": link.council_id,
        "sequence": link.sequence,
        "kind": link.kind,
        "session": link.session_id,
        "item": link.item_id,
        "payload": link.payload,
        "created_at": _utc(link.created_at),
        "previous_mac": link.previous_mac,
    }


def compute_mac(link: ChainLink, *, key: str | None = None) -> str:
    """HMAC-SHA256 of the link's canonical fields with the chain key (another `key` only in tests)."""
    secret = (key if key is not None else settings.COUNCIL_CHAIN_KEY).encode()
    return hmac.new(secret, canonical(link_fields(link)).encode(), hashlib.sha256).hexdigest()


# --- Canonical copies of the rows ------------------------------------------------------------------


def _result_row(result: Result) -> dict:
    return {
        "sequence": result.sequence,
        "rule": result.rule,
        "ballot": result.ballot,
        "members": result.members,
        "present": result.present,
        "recused": result.recused,
        "quorum_needed": result.quorum_needed,
        "yes": result.yes,
        "no": result.no,
        "abstain": result.abstain,
        "outcome": result.outcome,
        "closed_at": _utc(result.closed_at),
        "closed_by": result.closed_by_id,
        "digest": result.digest,
    }


def _attendance_rows(session_id: int) -> list[dict]:
    rows = Attendance.objects.filter(session_id=session_id).order_by("member_id")
    return [
        {
            "member": row.member_id,
            "method": row.method,
            "recorded_by": row.recorded_by_id,
            "checked_in_at": _utc(row.checked_in_at),
        }
        for row in rows
    ]


def item_payload(item: AgendaItem) -> dict:
    """The canonical copy of a closed item: result, votes or ballots, recusals, attendance (of today's rows)."""
    result = Result.objects.filter(item=item).first()
    votes = Vote.objects.filter(item=item).order_by("member_id")
    ballots = Ballot.objects.filter(item=item).order_by("pk")
    recusals = Recusal.objects.filter(item=item).order_by("member_id")
    return {
        "result": _result_row(result) if result is not None else None,
        "votes": [{"member": vote.member_id, "choice": vote.choice, "recorded_by": vote.recorded_by_id} for vote in votes],
        "ballots": [{"id": str(ballot.pk), "choice": ballot.choice} for ballot in ballots],
        "recusals": [{"member": recusal.member_id, "reason": recusal.reason} for recusal in recusals],
        "attendance": _attendance_rows(item.session_id),
    }


def session_payload(session: CouncilSession) -> dict:
    return {"attendance": _attendance_rows(session.pk), "closed_at": _utc(session.closed_at)}


# How today's rows of a kind of link are written down, for kinds other apps append: the follow-up registers the
# minutes' (`register_payload`), so the chain verifies what it cannot build itself.
_PAYLOADS: dict[str, Callable[[CouncilSession], dict]] = {}


def register_payload(kind: str, build: Callable[[CouncilSession], dict]) -> None:
    _PAYLOADS[kind] = build


def current_payload(link: ChainLink) -> dict:
    """What the link's payload would be if it were written from today's rows."""
    if link.kind == ChainLink.Kind.ITEM:
        return item_payload(AgendaItem(pk=link.item_id, session_id=link.session_id))
    session = CouncilSession.objects.get(pk=link.session_id)
    if link.kind == ChainLink.Kind.SESSION:
        return session_payload(session)
    return _PAYLOADS[link.kind](session)


# --- Appending ------------------------------------------------------------------------------------


def _append(*, council_id: int, kind: str, session_id: int, item_id: int | None, payload: dict) -> ChainLink:
    Council.objects.select_for_update().filter(pk=council_id).first()  # one writer per council's chain
    previous = ChainLink.objects.filter(council_id=council_id).order_by("-sequence").first()
    link = ChainLink(
        council_id=council_id,
        sequence=previous.sequence + 1 if previous else 1,
        kind=kind,
        session_id=session_id,
        item_id=item_id,
        payload=json.loads(canonical(payload)),  # exactly what a reload from the database gives back
        created_at=timezone.now(),
        previous_mac=previous.mac if previous else GENESIS_MAC,
    )
    link.mac = compute_mac(link)
    link.save()
    return link


@transaction.atomic
def append_item(*, item: AgendaItem, result: Result) -> ChainLink:
    """Called by `council.close_voting` once the item's result is stored (and its ballots counted)."""
    return _append(
        council_id=result.council_id,
        kind=ChainLink.Kind.ITEM,
        session_id=item.session_id,
        item_id=item.pk,
        payload=item_payload(item),
    )


@transaction.atomic
def append_session(*, session: CouncilSession) -> ChainLink:
    """Called by `council.end_session` once the session is closed: its final attendance."""
    return _append(
        council_id=session.council_id,
        kind=ChainLink.Kind.SESSION,
        session_id=session.pk,
        item_id=None,
        payload=session_payload(session),
    )


@transaction.atomic
def append_minutes(*, session: CouncilSession, payload: dict) -> ChainLink:
    """Called by `followup.publish_minutes` once both languages are published, with their `payload`."""
    return _append(
        council_id=session.council_id,
        kind=ChainLink.Kind.MINUTES,
        session_id=session.pk,
        item_id=None,
        payload=payload,
    )


# --- Reading --------------------------------------------------------------------------------------


def session_head(session: CouncilSession) -> ChainLink | None:
    """The chain's head right after the session's last link (what its public page and mail show), or None."""
    return ChainLink.objects.filter(session=session).order_by("-sequence").first()


def item_head(item: AgendaItem) -> ChainLink | None:
    """The link written when the item closed (what the result mail shows), or None."""
    return ChainLink.objects.filter(item=item).order_by("-sequence").first()


# --- Verifying ------------------------------------------------------------------------------------


@dataclass
class _Names:
    """Readable names for the messages: sessions, items and members by id."""

    sessions: dict[int, str] = field(default_factory=dict)
    items: dict[int, str] = field(default_factory=dict)
    members: dict[int, str] = field(default_factory=dict)

    def session(self, pk: int) -> str:
        if pk not in self.sessions:
            session = CouncilSession.objects.filter(pk=pk).first()
            self.sessions[pk] = f"“{session.title}” (#{pk})" if session else f"#{pk}"
        return self.sessions[pk]

    def item(self, pk: int | None) -> str:
        if pk not in self.items:
            item = AgendaItem.objects.filter(pk=pk).first()
            self.items[pk] = f"“{item.title}” (#{pk})" if item else f"#{pk}"
        return self.items[pk]

    def member(self, pk: int) -> str:
        if pk not in self.members:
            member = CouncilMember.objects.filter(pk=pk).select_related("user__profile").first()
            if member is None:
                self.members[pk] = f"#{pk}"
            else:
                profile = getattr(member.user, "profile", None)
                name = (profile.display_name if profile is not None else "") or member.user.get_username()
                self.members[pk] = f"{name} (#{pk})"
        return self.members[pk]


def _by(rows: list[dict], key: str) -> dict:
    return {row[key]: row for row in rows}


def _diff(stored: list[dict], current: list[dict], key: str) -> tuple[list, list, list]:
    """Keys changed, removed and added between the signed rows and today's."""
    before, now = _by(stored, key), _by(current, key)
    changed = [k for k in before if k in now and before[k] != now[k]]
    removed = [k for k in before if k not in now]
    added = [k for k in now if k not in before]
    return changed, removed, added


def _attendance_problems(stored: list[dict], current: list[dict], *, where: dict, names: _Names, final: bool) -> list[str]:
    """An item's link checks that the attendance it saw is still there, unchanged (members arriving later are
    fine); the session's final link also refuses attendance added after it."""
    changed, removed, added = _diff(stored, current, "member")
    problems = [
        _("Session %(session)s: the attendance of %(member)s was changed after it was signed.")
        % {**where, "member": names.member(k)}
        for k in changed
    ]
    problems += [
        _("Session %(session)s: the attendance of %(member)s was removed after it was signed.")
        % {**where, "member": names.member(k)}
        for k in removed
    ]
    if final:
        problems += [
            _("Session %(session)s: an attendance of %(member)s was added after the session ended.")
            % {**where, "member": names.member(k)}
            for k in added
        ]
    return problems


def _item_problems(stored: dict, current: dict, *, where: dict, names: _Names) -> list[str]:
    problems = []
    if stored["result"] != current["result"]:
        if current["result"] is None:
            problems.append(_("Session %(session)s, item %(item)s: the stored result is missing.") % where)
        else:
            problems.append(_("Session %(session)s, item %(item)s: the result was changed after voting closed.") % where)
    changed, removed, added = _diff(stored["votes"], current["votes"], "member")
    for keys, message in (
        (changed, _("Session %(session)s, item %(item)s: the vote of %(member)s was changed after voting closed.")),
        (removed, _("Session %(session)s, item %(item)s: the vote of %(member)s was removed after voting closed.")),
        (added, _("Session %(session)s, item %(item)s: a vote of %(member)s was added after voting closed.")),
    ):
        problems += [message % {**where, "member": names.member(k)} for k in keys]
    changed, removed, added = _diff(stored["ballots"], current["ballots"], "id")
    for keys, message in (
        (changed, _("Session %(session)s, item %(item)s: a secret ballot was changed after voting closed.")),
        (removed, _("Session %(session)s, item %(item)s: a secret ballot was removed after voting closed.")),
        (added, _("Session %(session)s, item %(item)s: a secret ballot was added after voting closed.")),
    ):
        problems += [message % where for _k in keys]
    changed, removed, added = _diff(stored["recusals"], current["recusals"], "member")
    for keys, message in (
        (changed, _("Session %(session)s, item %(item)s: the recusal of %(member)s was changed after voting closed.")),
        (removed, _("Session %(session)s, item %(item)s: the recusal of %(member)s was removed after voting closed.")),
        (added, _("Session %(session)s, item %(item)s: a recusal of %(member)s was added after voting closed.")),
    ):
        problems += [message % {**where, "member": names.member(k)} for k in keys]
    problems += _attendance_problems(stored["attendance"], current["attendance"], where=where, names=names, final=False)
    return problems


def _minutes_problems(stored: dict, current: dict, *, where: dict) -> list[str]:
    problems = []
    for language, signed in sorted(stored["minutes"].items()):
        now = current["minutes"].get(language)
        if now is None:
            problems.append(
                _("Session %(session)s: the published minutes (%(language)s) are missing or unpublished.")
                % {**where, "language": language}
            )
        elif now != signed:
            problems.append(
                _("Session %(session)s: the published minutes (%(language)s) were changed after publication.")
                % {**where, "language": language}
            )
    if stored["confirmations"] != current["confirmations"]:
        problems.append(_("Session %(session)s: the confirmations of the minutes were changed after publication.") % where)
    return problems


def _payload_problems(link: ChainLink, names: _Names) -> list[str]:
    current = json.loads(canonical(current_payload(link)))
    if current == link.payload:
        return []
    where = {"session": names.session(link.session_id), "item": names.item(link.item_id) if link.item_id else ""}
    try:
        if link.kind == ChainLink.Kind.ITEM:
            problems = _item_problems(link.payload, current, where=where, names=names)
        elif link.kind == ChainLink.Kind.SESSION:
            problems = _attendance_problems(
                link.payload["attendance"], current["attendance"], where=where, names=names, final=True
            )
            if link.payload.get("closed_at") != current.get("closed_at"):
                problems.append(_("Session %(session)s: the time the session ended was changed.") % where)
        else:
            problems = _minutes_problems(link.payload, current, where=where)
    except (KeyError, TypeError):
        problems = []
    # Whatever the difference, never "all is well" when the copies differ (e.g. an item's attendance grew).
    if not problems and link.kind != ChainLink.Kind.ITEM:
        problems = [_("Session %(session)s: what link #%(sequence)s covers was changed.") % {**where, "sequence": link.sequence}]
    return problems


def _link_problems(links: list[ChainLink], *, council: Council, names: _Names, previous: ChainLink | None) -> list[str]:
    problems = []
    expected = previous.sequence + 1 if previous else 1
    previous_mac = previous.mac if previous else GENESIS_MAC
    for link in links:
        where = {"council": council.pk, "sequence": link.sequence, "session": names.session(link.session_id)}
        if link.sequence != expected:
            problems.append(
                _("Council %(council)s: chain link #%(sequence)s follows #%(expected)s: links are missing.")
                % {**where, "expected": expected - 1}
            )
        if link.previous_mac != previous_mac:
            problems.append(_("Council %(council)s: chain link #%(sequence)s does not follow the link before it.") % where)
        if not hmac.compare_digest(compute_mac(link), link.mac):
            problems.append(
                _(
                    "Council %(council)s: chain link #%(sequence)s (session %(session)s) does not carry a valid signature: "
                    "it was written or changed without the chain key."
                )
                % where
            )
        problems += _payload_problems(link, names)
        previous_mac, expected = link.mac, link.sequence + 1
    return problems


def _unique(problems: list[str]) -> list[str]:
    return list(dict.fromkeys(problems))


def verify_chain(*, council: Council) -> list[str]:
    """Every problem in the council's chain: a link missing, out of order, not signed with the key, or
    covering rows that were changed since; empty when all is well."""
    links = list(ChainLink.objects.filter(council=council).order_by("sequence"))
    return _unique(_link_problems(links, council=council, names=_Names(), previous=None))


def verify_session(*, session: CouncilSession) -> list[str]:
    """The problems of the session's own links (and how they follow the link before each), for its public page."""
    links = list(ChainLink.objects.filter(session=session).order_by("sequence"))
    if not links:
        return []
    names, problems = _Names(), []
    for link in links:
        previous = ChainLink.objects.filter(council_id=link.council_id, sequence=link.sequence - 1).first()
        problems += _link_problems([link], council=session.council, names=names, previous=previous)
    return _unique(problems)


# --- The exported copy ----------------------------------------------------------------------------


def export_line(link: ChainLink) -> dict:
    """A link as it is exported: everything its MAC covers, with the payload's digest instead of the payload
    (the copy is for comparison; it carries no votes or names)."""
    fields = link_fields(link)
    fields["payload_digest"] = _sha256(canonical(fields.pop("payload")))
    fields["mac"] = link.mac
    return fields


class ExportError(Exception):
    """The file and the database disagree, or the file cannot be read: nothing was appended."""


def read_export(path: Path) -> list[dict]:
    if not path.exists():
        return []
    lines = []
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
                (line["council"], line["sequence"], line["mac"])
            except (ValueError, KeyError, TypeError) as error:
                raise ExportError(_("Line %(number)s of the export cannot be read.") % {"number": number}) from error
            lines.append(line)
    return lines


def export_chain(*, path: Path) -> int:
    """Append to `path` (JSON lines) the links it does not hold yet, in order; earlier lines are never
    rewritten. Refuses (ExportError) when a link already in the file differs from the database's."""
    exported = {(line["council"], line["sequence"]): line for line in read_export(path)}
    mismatched = verify_against(path=path, lines=list(exported.values()))
    if mismatched:
        raise ExportError(" ".join(mismatched))
    new = [
        link for link in ChainLink.objects.order_by("council_id", "sequence") if (link.council_id, link.sequence) not in exported
    ]
    if new:
        with path.open("a", encoding="utf-8") as handle:
            for link in new:
                handle.write(canonical(export_line(link)) + "\n")
    return len(new)


def verify_against(*, path: Path, council: Council | None = None, lines: list[dict] | None = None) -> list[str]:
    """Links of the exported copy (of every council or of `council`) that are missing from the database or
    differ there: a rewritten or cut chain."""
    lines = read_export(path) if lines is None else lines
    if council is not None:
        lines = [line for line in lines if line["council"] == council.pk]
    stored = {
        (link.council_id, link.sequence): link
        for link in ChainLink.objects.filter(council_id__in={line["council"] for line in lines}).order_by(
            "council_id", "sequence"
        )
    }
    problems = []
    for line in sorted(lines, key=lambda line: (line["council"], line["sequence"])):
        where = {"council": line["council"], "sequence": line["sequence"], "file": path.name}
        link = stored.get((line["council"], line["sequence"]))
        if link is None:
            problems.append(
                _("Council %(council)s: chain link #%(sequence)s, exported to %(file)s, is missing from the database.") % where
            )
        elif canonical(export_line(link)) != canonical(line):
            problems.append(
                _(
                    "Council %(council)s: chain link #%(sequence)s differs from its copy exported to %(file)s: the chain was rewritten."
                )
                % where
            )
    return problems
