"""Production's session engine: Django's `cached_db` (sessions in the cache, backed by the database), and every
session it ends is announced to every process at once.

Deleting a session (logging out, flush, a key cycled at log-in or on a password change, a session ended from
elsewhere) announces it (api/gateway.py: announce_session_end), now and again on commit, so that a process trusting
the session's token without asking the cache (gateway.LocalTokens) drops it before its next request. Sessions are
stored exactly as `cached_db` stores them: switching engines keeps everyone logged in."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.sessions.backends import cached_db


class SessionStore(cached_db.SessionStore):
    announces_ends = True  # read by api/gateway.py: ends_announced()

    def delete(self, session_key: str | None = None) -> None:
        ended = session_key or self.session_key
        super().delete(session_key)
        if ended:
            from .gateway import announce_session_end

            announce_session_end(ended)

    async def adelete(self, session_key: str | None = None) -> None:
        ended = session_key or self.session_key
        await super().adelete(session_key)
        if ended:
            from .gateway import announce_session_end

            await sync_to_async(announce_session_end)(ended)
