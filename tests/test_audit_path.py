"""One audit path (plumbing/audit.py): every app lists its actions once, Wagtail knows them all, and a record
names its author, or nobody for the system."""

import pytest
from django.contrib.auth.models import AnonymousUser
from wagtail.log_actions import registry
from wagtail.models import ModelLogEntry

from deliberation.council import audit as council_audit
from deliberation.followup import audit as followup_audit
from deliberation.mailbox import audit as mailbox_audit
from events import audit as events_audit
from home.factories import CommunityFactory, UserFactory
from neighbours import audit as neighbours_audit
from plumbing.audit import AuditActions
from points import audit as points_audit

APPS = {
    "council": council_audit,
    "events": events_audit,
    "followup": followup_audit,
    "mailbox": mailbox_audit,
    "neighbours": neighbours_audit,
    "points": points_audit,
}


@pytest.mark.parametrize("app", sorted(APPS))
def test_each_apps_actions_are_registered_with_wagtail_under_its_own_prefix(app):
    audit = APPS[app].AUDIT
    assert isinstance(audit, AuditActions) and len(audit.actions) >= 6
    for action, (label, message) in audit.actions.items():
        assert action.startswith(f"{app}.")
        assert registry.action_exists(action)
        assert registry.get_action_label(action) == label and str(message)


def test_no_two_apps_register_the_same_action():
    codes = [action for module in APPS.values() for action in module.AUDIT.actions]
    assert len(codes) == len(set(codes))


@pytest.mark.django_db
def test_a_record_names_its_author_or_nobody_and_an_unknown_action_is_refused(site_pages):
    audit = events_audit.AUDIT
    community = CommunityFactory()
    staff = UserFactory()
    audit.record(community, "events.session.cancel", actor=staff, title="a", seats=3)
    audit.record(community, "events.session.cancel", actor=AnonymousUser(), title="b")
    audit.record(community, "events.session.cancel", actor=None, title="c")
    entries = ModelLogEntry.objects.filter(action="events.session.cancel").order_by("pk")
    assert [(entry.user_id, entry.label, entry.data) for entry in entries] == [
        (staff.pk, "a", {"seats": 3}),
        (None, "b", {}),
        (None, "c", {}),
    ]
    with pytest.raises(ValueError, match="unregistered audit action"):
        audit.record(community, "events.session.vanish", actor=staff)
    assert entries.count() == 3


@pytest.mark.django_db
def test_a_public_action_refreshes_the_page_cache_when_it_commits_and_a_private_one_does_not(
    site_pages, django_capture_on_commit_callbacks
):
    """The audit record is the change's signal (plumbing.audit.recorded): home/signals.py bumps the page-cache
    generation after the commit of an action an app lists as public, so no service does it by hand."""
    from plumbing.middleware import read_generation

    community = CommunityFactory()
    staff = UserFactory()
    before = read_generation()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        council_audit.AUDIT.record(community, "council.attendance", actor=staff)
    assert "council.attendance" not in council_audit.AUDIT.public
    assert (callbacks, read_generation()) == ([], before)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        council_audit.AUDIT.record(community, "council.session.announce", actor=staff)
    assert read_generation() == before and len(callbacks) == 1  # not before the commit
    callbacks[0]()
    assert read_generation() != before
    for module in APPS.values():
        assert module.AUDIT.public <= set(module.AUDIT.actions)
    with pytest.raises(ValueError, match="not listed"):
        AuditActions({"a.b": ("A", "B")}, public={"a.c"})
