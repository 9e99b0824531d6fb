"""The one way the apps write who did what to Wagtail's audit log (Reports → Site history).

Each app lists its actions once, with their labels, and records through them:

    AUDIT = AuditActions({"events.session.cancel": (_("Cancel session"), _("Cancelled the session")), ...})
    AUDIT.record(session, "events.session.cancel", actor=request.user)

and registers them with Wagtail in its `wagtail_hooks.py`: `hooks.register("register_log_actions", AUDIT.register)`.
A service records inside its own transaction, so an entry exists exactly when its change committed.
"""

from __future__ import annotations

from wagtail.log_actions import log


class AuditActions:
    """One app's registered audit actions: action code → (label, message of an entry)."""

    def __init__(self, actions: dict[str, tuple]) -> None:
        self.actions = actions

    def __contains__(self, action: str) -> bool:
        return action in self.actions

    def __iter__(self):
        return iter(self.actions)

    def register(self, registry) -> None:
        """The `register_log_actions` hook: Wagtail shows these labels and messages in Site history."""
        for action, (label, message) in self.actions.items():
            registry.register_action(action, label, message)

    def record(self, instance, action: str, *, actor=None, title: str | None = None, **data) -> None:
        """Write `action` on `instance` by `actor` (None or anonymous: the system, e.g. a scheduled job);
        `title` labels the entry (default: the instance's own), `data` is kept with it."""
        if action not in self.actions:
            raise ValueError(f"unregistered audit action {action}")
        user = actor if actor is not None and actor.is_authenticated else None
        log(instance, action, user=user, title=title, data=data or None)
