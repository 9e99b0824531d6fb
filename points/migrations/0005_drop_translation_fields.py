"""Earning rules and rewards are no longer translatable snippets: no locale, no translation key; a rule's code
is unique."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("points", "0004_one_row_per_rule_and_reward")]

    operations = [
        migrations.AlterUniqueTogether(name="earningrule", unique_together=set()),
        migrations.AlterUniqueTogether(name="reward", unique_together=set()),
        migrations.RemoveField(model_name="earningrule", name="locale"),
        migrations.RemoveField(model_name="earningrule", name="translation_key"),
        migrations.RemoveField(model_name="reward", name="locale"),
        migrations.RemoveField(model_name="reward", name="translation_key"),
        migrations.AlterField(
            model_name="earningrule",
            name="code",
            field=models.SlugField(
                help_text="Stable name used by the portal, e.g. attendance.", max_length=40, unique=True, verbose_name="code"
            ),
        ),
    ]
