"""The outbox's task, `deliver`, lives beside the code it runs (`outbox/services.py`), which enqueues it after
each commit that queued a message; this module makes the scheduler's discovery of `tasks` modules find it."""

from .services import deliver  # noqa: F401 - registered with the scheduler where it is defined
