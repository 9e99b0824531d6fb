"""On PostgreSQL, stored results cannot be updated or deleted, not even by hand in SQL (TRUNCATE, used
by test teardown, is not a row change). `manage.py verify_results` detects a change on any database."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION deliberation_refuse_result_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'council results are immutable (%% on %%)', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE)
    schema_editor.execute(
        "CREATE TRIGGER deliberation_result_immutable BEFORE UPDATE OR DELETE ON deliberation_result "
        "FOR EACH ROW EXECUTE FUNCTION deliberation_refuse_result_change()"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS deliberation_result_immutable ON deliberation_result")
    schema_editor.execute("DROP FUNCTION IF EXISTS deliberation_refuse_result_change()")


class Migration(migrations.Migration):
    dependencies = [("deliberation", "0002_council")]

    operations = [migrations.RunPython(forwards, backwards)]
