"""The three apps took their models over from the one `deliberation` app (its migration 0013 and their 0001/0002)
in Django's state only. From a database at the old schema, with a resident's letter on a topic that a council put
on its agenda and decided: migrating back to one app and forward again keeps every row, every content type (same
primary key, so permissions, page types and log entries keep pointing at it), the audit log's actions and the
scheduler's claims, and the old app reads the very rows the new ones do.

It runs on PostgreSQL, the production database, only: the hand-over creates, alters and drops nothing, and
rendering the state of every app's migrations twice costs about 25 seconds (90 before deliberation 0013 dropped its
70 field removals and the three apps created each model whole: each state operation on a relation re-renders every
model related to the user model)."""

import pytest
from django.apps import apps as installed
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from wagtail.models import ModelLogEntry

from deliberation.council.audit import AUDIT as COUNCIL_AUDIT
from deliberation.followup.audit import AUDIT as FOLLOWUP_AUDIT
from deliberation.followup.models import Decision, Objection
from deliberation.followup.tests import followup_support
from deliberation.followup.tests.followup_support import decide
from home.models import PeriodicRun

council = followup_support.council
session = followup_support.session
topic = followup_support.topic
people = followup_support.people
item = followup_support.item
staff = followup_support.staff

APPS = ("mailbox", "council", "followup")
ONE_APP = ("deliberation", "0012_objection_answer_en")


def moved_models() -> list:
    return [model for label in APPS for model in installed.get_app_config(label).get_models()]


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in moved_models()}


@pytest.mark.django_db(transaction=True)
def test_the_apps_take_over_the_tables_and_give_them_back(people, item, staff):
    if connection.vendor != "postgresql":
        pytest.skip("run on PostgreSQL only (see the module's docstring)")
    writer, _supporter = people
    decision = decide(item, actor=staff)
    assert isinstance(decision, Decision)
    Objection.objects.create(decision=decision, resident=writer, text="时间不合适")
    COUNCIL_AUDIT.record(item.session, "council.session.create", actor=staff)
    FOLLOWUP_AUDIT.record(decision, "followup.decision.create", actor=staff)
    PeriodicRun.objects.create(name="deliberation.council.tasks.close_due_council_votes")
    counts = row_counts()
    assert all(counts[label] > 0 for label in ("mailbox.Letter", "mailbox.Topic", "council.Result", "followup.Objection"))
    types = {model._meta.label: ContentType.objects.get_for_model(model).pk for model in moved_models()}

    # Back to one app: the old models read the same tables, under their old names and content types.
    executor = MigrationExecutor(connection)
    executor.migrate([(label, None) for label in APPS])
    old = executor.loader.project_state(ONE_APP).apps
    for model in moved_models():
        assert old.get_model("deliberation", model.__name__)._default_manager.count() == counts[model._meta.label]
    assert set(ContentType.objects.filter(pk__in=types.values()).values_list("app_label", flat=True)) == {"deliberation"}
    assert set(ModelLogEntry.objects.values_list("action", flat=True)) >= {
        "deliberation.session.create",
        "deliberation.decision.create",
    }
    assert PeriodicRun.objects.filter(name="deliberation.tasks.close_due_council_votes").exists()

    # Forward again, as a database of the old schema is migrated.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()
    assert row_counts() == counts
    assert {model._meta.label: ContentType.objects.get_for_model(model).pk for model in moved_models()} == types
    assert not ContentType.objects.filter(app_label="deliberation").exists()
    assert set(ModelLogEntry.objects.values_list("action", flat=True)) >= {"council.session.create", "followup.decision.create"}
    assert PeriodicRun.objects.filter(name="deliberation.council.tasks.close_due_council_votes").exists()
    assert Decision.objects.get(pk=decision.pk).objections.get().resident == writer
