"""Each earning rule and reward becomes one row: the English copy's labels go to the Chinese row's `_en`
fields, every reference to the copy (ledger entries, reservations, in any app) moves to the Chinese row, and
the copy goes (see `home.migrations._one_row`; on PostgreSQL the ledger's refuse-every-change trigger is off
while its rows' rule moves to the Chinese row of the same rule)."""

from django.db import migrations

from home.migrations._one_row import merge_translations, split_translations

THINGS = [("earningrule", ["name", "description"]), ("reward", ["name", "description", "pickup_place", "pickup_hours"])]


def merge(apps, schema_editor):
    for model_name, labels in THINGS:
        merge_translations(apps, schema_editor, "points", model_name, labels)


def split(apps, schema_editor):
    for model_name, labels in reversed(THINGS):
        split_translations(apps, schema_editor, "points", model_name, labels)


class Migration(migrations.Migration):
    dependencies = [
        ("points", "0003_labels_in_both_languages"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtail_localize", "0016_rename_page_revision_translationlog_revision"),
        ("events", "0003_translatable_table"),
        ("deliberation", "0013_hand_over_to_apps"),
        ("outbox", "0004_channel_preference"),
    ]

    operations = [migrations.RunPython(merge, split)]
