"""Production's session engine: Django's `cached_db` (sessions in the cache, backed by the database), and every
session it ends or saves anew is announced to every process at once.

Deleting a session (logging out, flush, a key cycled at log-in or on a password change, a session ended from
elsewhere) or saving an existing one (its user, its expiry may change) announces it (api/gateway.py:
announce_session_change), now and again on commit, so that a process trusting the session's token without asking the
cache (gateway.LocalTokens) drops that trust before its next request. Sessions are stored exactly as `cached_db`
stores them: switching engines keeps everyone logged in."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.sessions.backends import cached_db


def _announce(session_key: str, *, ended: bool) -> None:
    from .gateway import announce_session_change

    announce_session_change(session_key, ended=ended)


class SessionStore(cached_db.SessionStore):
    announces_changes = True  # read by api/gateway.py: changes_announced()

    def save(self, must_create: bool = False) -> None:
        super().save(must_create)
        if not must_create:  # a new session (or key) is nobody's trusted token yet
            _announce(self.session_key, ended=False)

    async def asave(self, must_create: bool = False) -> None:
        await super().asave(must_create)
        if not must_create:
            await sync_to_async(_announce)(self.session_key, ended=False)

    def delete(self, session_key: str | None = None) -> None:
        ended = session_key or self.session_key
        super().delete(session_key)
        if ended:
            _announce(ended, ended=True)

    async def adelete(self, session_key: str | None = None) -> None:
        ended = session_key or self.session_key
        await super().adelete(session_key)
        if ended:
            await sync_to_async(_announce)(ended, ended=True)
