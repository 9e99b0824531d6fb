"""Mail sent after the transaction commits, unless the caller is seeding demo content.

Services hand their sending function to `send_on_commit`; `seed_demo` runs inside `muted()`, so
the demo's sessions, decisions and follow-up tell no demo resident anything (the check happens
when the mail is queued, because seeding commits only at its very end).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

from django.db import transaction

_muted: contextvars.ContextVar[bool] = contextvars.ContextVar("linli_outbox_muted", default=False)


@contextlib.contextmanager
def muted() -> Iterator[None]:
    """Within this block, mail queued through `send_on_commit` is dropped."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def send_on_commit(send: Callable[[], object]) -> None:
    """Run `send` once the current transaction commits (at once outside one), unless muted."""
    if not _muted.get():
        transaction.on_commit(send)
