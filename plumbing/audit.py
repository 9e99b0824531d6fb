"""The one way the apps write who did what to Wagtail's audit log (Reports → Site history).

Each app lists its actions once, with their labels, and records through them:

    AUDIT = AuditActions({"events.session.cancel": (_("Cancel session"), _("Cancelled the session")), ...})
    AUDIT.record(session, "events.session.cancel", actor=request.user)

and registers them with Wagtail in its `wagtail_hooks.py`: `hooks.register("register_log_actions", AUDIT.register)`.
A service records inside its own transaction, so an entry exists exactly when its change committed.

Each record is also the change's domain signal (`recorded`): what follows from a change is a receiver, not a
call every service repeats. An app names the actions that change what anonymous visitors' cached pages show
(`public=`); home/signals.py refreshes the page cache when one of them commits.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.dispatch import Signal
from wagtail.log_actions import log
from wagtail.models import ModelLogEntry

# Sent by `AuditActions.record` inside the change's transaction: sender=the app's AuditActions, instance=,
# action=, actor= (None for the system), data=.
recorded = Signal()


class AuditActions:
    """One app's registered audit actions: action code → (label, message of an entry)."""

    def __init__(self, actions: dict[str, tuple], *, public: frozenset[str] | set[str] = frozenset()) -> None:
        self.actions = actions
        self.public = frozenset(public)  # the actions whose change anonymous visitors' pages show
        if not self.public <= set(actions):
            raise ValueError(f"public actions not listed: {sorted(self.public - set(actions))}")

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
        recorded.send(sender=self, instance=instance, action=action, actor=user, data=data)


def history(*objects) -> list[ModelLogEntry]:
    """Who did what to these objects, newest first, in one query: each of `objects` is a model instance or a
    (model, queryset of that model) pair, e.g. `history(session, (AgendaItem, session.items.all()))`. Staff read
    it on a session's, a decision's or a topic's admin page (home/includes/audit_history.html)."""
    condition = Q(pk__in=[])
    for item in objects:
        model, rows = item if isinstance(item, tuple) else (type(item), None)
        content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
        if rows is None:
            condition |= Q(content_type=content_type, object_id=str(item.pk))
        else:
            keys = rows.annotate(audit_key=Cast("pk", CharField())).values("audit_key")
            condition |= Q(content_type=content_type, object_id__in=keys)
    return list(ModelLogEntry.objects.filter(condition).select_related("user").order_by("-timestamp", "-pk"))
