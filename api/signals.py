"""What ends the kept resolutions of session tokens (api/gateway.py) at once."""

from __future__ import annotations

from django.db import transaction

from .gateway import forget_token, new_auth_generation


def users_changed() -> None:
    """A user row changed: every kept token resolution is stale. A new auth generation now (this process sees its own
    change at once) and again on commit, so that a resolution made from the row as it was before the commit is never
    kept under the generation after it (the page cache's rule)."""
    new_auth_generation()
    transaction.on_commit(new_auth_generation)


def user_saved(sender, instance, created: bool, update_fields=None, **_signal) -> None:
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return  # a new account has no token yet; a log-in's time changes nothing a token needs
    users_changed()


def user_deleted(sender, instance, **_signal) -> None:
    users_changed()


def logged_out(sender, request=None, user=None, **_signal) -> None:
    session = getattr(request, "session", None)
    forget_token(getattr(session, "session_key", None))
