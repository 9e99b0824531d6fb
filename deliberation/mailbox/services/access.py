"""Who may read and handle letters, and the mailbox's errors."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from deliberation.mailbox.models import (
    Letter,
)
from home.models import Community
from home.scope import for_user

User = get_user_model()


class MailboxError(Exception):
    """A mailbox action that breaks a rule; the message is shown to the person who tried it."""


class RateLimited(MailboxError):
    pass


class PhotoError(MailboxError):
    pass


def is_staff_of(user, community: Community | None) -> bool:
    """The community's staff or the street office (home/scope.py); things of no community are the street office's."""
    return for_user(user).includes(community)


def letter_by_access_key(*, tracking_number: str, key: str) -> Letter | None:
    """The letter a writer without an account follows with their secret link, or None."""
    letter = (
        Letter.objects.select_related("topic", "community").filter(tracking_number=tracking_number).exclude(access_key="").first()
    )
    # As bytes: compare_digest refuses str with non-ASCII characters (TypeError), and a link can carry any.
    if letter is None or not secrets.compare_digest(letter.access_key.encode(), key.encode()):
        return None
    return letter


def can_read_letter(user, letter: Letter) -> bool:
    """A letter's text, name and contact: its writer and its community's staff, nobody else."""
    if user.is_authenticated and letter.writer_id == user.pk:
        return True
    return is_staff_of(user, letter.community)


def _require_staff(actor, community: Community | None) -> None:
    for_user(actor).require(community)


def letters_for_staff(user) -> QuerySet[Letter]:
    return for_user(user).filter(Letter.objects.all(), "community")
