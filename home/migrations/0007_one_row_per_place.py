"""Each community and grid becomes one row: the English copy's name goes to the Chinese row's `name_en`, every
reference to the copy (in any app) moves to the Chinese row, and the copy goes (see `_one_row`).

It runs after the latest migration of every app that references communities or grids, so that their
historical models (and tables) are there to repoint."""

from django.db import migrations

from home.migrations._one_row import merge_translations, split_translations

PLACES = [("community", ["name", "description"]), ("grid", ["name"])]


def merge(apps, schema_editor):
    for model_name, labels in PLACES:  # communities first: the English grids point at English communities
        merge_translations(apps, schema_editor, "home", model_name, labels)


def split(apps, schema_editor):
    for model_name, labels in reversed(PLACES):
        split_translations(apps, schema_editor, "home", model_name, labels)


class Migration(migrations.Migration):
    dependencies = [
        ("home", "0006_labels_in_both_languages"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtail_localize", "0016_rename_page_revision_translationlog_revision"),
        ("events", "0003_translatable_table"),
        ("points", "0002_immutable_ledger"),
        ("deliberation", "0013_hand_over_to_apps"),
        ("outbox", "0004_channel_preference"),
    ]

    operations = [migrations.RunPython(merge, split)]
