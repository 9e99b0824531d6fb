"""One row per thing, labelled in both languages: folding wagtail-localize's per-language copies of a snippet
into its source-language row (issue 16). Used by home's and points' migrations; the name starts with "_", so
Django does not take this module for a migration.

For each row whose locale is not the source language (`LANGUAGE_CODE`), `merge_translations`
- copies its labels into the source row's `<label>_en` fields (English rows only; others have nowhere to go),
- repoints every foreign key and one-to-one that references it, in any app, to the source row: the relations
  are read from the historical model, hidden ones (`related_name="+"`) included, so no app is listed here; a
  referencing row that would then break a unique constraint (the same resident in both rows, say) is a
  duplicate of one the source row already has, and is deleted;
- moves its audit-log entries to the source row, drops its reference-index rows (`rebuild_references_index`
  recomputes them) and finally deletes it.
A row without a source row becomes the source row itself. wagtail-localize's translation records of the model
are deleted: nothing translates these snippets any more.

`split_translations` is the way back: an English row (same `translation_key`) for every row with an English
label; references stay on the source row, which is where the apps kept their state anyway.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager

from django.conf import settings
from django.db import models

ENGLISH = "en"


def _source_locale(apps, db):
    Locale = apps.get_model("wagtailcore", "Locale")
    return Locale.objects.using(db).filter(language_code=settings.LANGUAGE_CODE).first()


def _content_type(apps, db, model):
    ContentType = apps.get_model("contenttypes", "ContentType")
    return ContentType.objects.using(db).filter(app_label=model._meta.app_label, model=model._meta.model_name).first()


def _optional_model(apps, app_label, model_name):
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None


def references(model) -> list:
    """Every foreign key and one-to-one pointing at `model`, hidden relations and many-to-many tables included."""
    return [
        relation.field
        for relation in model._meta.get_fields(include_hidden=True)
        if relation.auto_created
        and not relation.concrete
        and (relation.one_to_many or relation.one_to_one)
        and relation.field.model._meta.managed  # a view or another program's table is not ours to write
    ]


def _unique_sets(model, field) -> list[tuple[tuple[str, ...], models.Q | None]]:
    """The unique field sets of `model` that include `field`, each with its condition (None: always)."""
    sets: list[tuple[tuple[str, ...], models.Q | None]] = []
    if field.unique:
        sets.append(((field.name,), None))
    for together in model._meta.unique_together:
        if field.name in together:
            sets.append((tuple(together), None))
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields and field.name in constraint.fields:
            sets.append((tuple(constraint.fields), constraint.condition))
    return sets


@contextmanager
def _user_triggers_off(schema_editor, table: str):
    """On PostgreSQL, a table's own triggers (the points ledger refuses every UPDATE) are off while its
    references move; the rows' meaning does not change, only which copy of the same thing they name."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [table])
        if not cursor.fetchone()[0]:
            yield
            return
        quoted = schema_editor.quote_name(table)
        # Pending deferred checks on the table forbid ALTER TABLE: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {quoted} DISABLE TRIGGER USER")
        try:
            yield
        finally:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {quoted} ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _repoint(schema_editor, field, old, new) -> None:
    """Make the rows referencing `old` through `field` reference `new` instead."""
    model, db = field.model, schema_editor.connection.alias
    target = field.target_field.attname
    rows = model._base_manager.using(db).filter(**{field.attname: getattr(old, target)})
    if not rows.exists():
        return
    new_value = getattr(new, target)
    for names, condition in _unique_sets(model, field):
        for row in list(rows):
            clash = model._base_manager.using(db).filter(
                **{field.attname: new_value},
                **{model._meta.get_field(name).attname: getattr(row, model._meta.get_field(name).attname) for name in names if name != field.name},
            )
            if condition is not None:
                if not model._base_manager.using(db).filter(condition, pk=row.pk).exists():
                    continue
                clash = clash.filter(condition)
            if clash.exists():
                row.delete()
    with _user_triggers_off(schema_editor, model._meta.db_table):
        rows.update(**{field.attname: new_value})


def merge_translations(apps, schema_editor, app_label: str, model_name: str, labels: list[str]) -> None:
    model = apps.get_model(app_label, model_name)
    db = schema_editor.connection.alias
    source = _source_locale(apps, db)
    if source is None:  # a database without locales has no rows to merge
        return
    content_type = _content_type(apps, db, model)
    LogEntry = _optional_model(apps, "wagtailcore", "ModelLogEntry")
    ReferenceIndex = _optional_model(apps, "wagtailcore", "ReferenceIndex")
    rows = model._base_manager.using(db)
    for other in rows.exclude(locale=source).select_related("locale").order_by("pk"):
        english = other.locale.language_code.startswith(ENGLISH)
        row = rows.filter(translation_key=other.translation_key, locale=source).first()
        if row is None:
            if english:
                for name in labels:
                    setattr(other, f"{name}_en", getattr(other, name))
            other.locale = source
            other.save()
            continue
        if english:
            for name in labels:
                if getattr(other, name) and not getattr(row, f"{name}_en"):
                    setattr(row, f"{name}_en", getattr(other, name))
            row.save()
        for field in references(model):
            _repoint(schema_editor, field, other, row)
        if content_type is not None:
            if LogEntry is not None:
                LogEntry.objects.using(db).filter(content_type=content_type, object_id=str(other.pk)).update(
                    object_id=str(row.pk)
                )
            if ReferenceIndex is not None:
                ReferenceIndex.objects.using(db).filter(content_type=content_type, object_id=str(other.pk)).delete()
                ReferenceIndex.objects.using(db).filter(
                    to_content_type=content_type, to_object_id=str(other.pk)
                ).delete()
        other.delete()
    TranslationObject = _optional_model(apps, "wagtail_localize", "TranslationObject")
    if TranslationObject is not None and content_type is not None:
        TranslationObject.objects.using(db).filter(content_type=content_type).delete()


def split_translations(apps, schema_editor, app_label: str, model_name: str, labels: list[str]) -> None:
    model = apps.get_model(app_label, model_name)
    db = schema_editor.connection.alias
    Locale = apps.get_model("wagtailcore", "Locale")
    source = _source_locale(apps, db)
    rows = list(model._base_manager.using(db).order_by("pk"))
    if not rows:
        return
    if source is None:
        source = Locale.objects.using(db).create(language_code=settings.LANGUAGE_CODE)
    english = Locale.objects.using(db).filter(language_code=ENGLISH).first()
    copied = [field for field in model._meta.concrete_fields if not field.primary_key]
    for row in rows:
        row.locale = source
        row.translation_key = uuid.uuid4()
        row.save()
        if english is None or not any(getattr(row, f"{name}_en") for name in labels):
            continue
        translation = model(**{field.attname: getattr(row, field.attname) for field in copied})
        translation.locale = english
        for name in labels:
            setattr(translation, name, getattr(row, f"{name}_en") or getattr(row, name))
        translation.save()
