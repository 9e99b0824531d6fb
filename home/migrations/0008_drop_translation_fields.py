"""Communities and grids are no longer translatable snippets: no locale, no translation key; a community's
code and a grid's number within its community are unique."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("home", "0007_one_row_per_place")]

    operations = [
        migrations.AlterUniqueTogether(name="community", unique_together=set()),
        migrations.AlterUniqueTogether(name="grid", unique_together=set()),
        migrations.RemoveField(model_name="community", name="locale"),
        migrations.RemoveField(model_name="community", name="translation_key"),
        migrations.RemoveField(model_name="grid", name="locale"),
        migrations.RemoveField(model_name="grid", name="translation_key"),
        migrations.AlterField(
            model_name="community",
            name="code",
            field=models.SlugField(
                help_text="Short Latin name used in addresses, e.g. liuhe.", max_length=40, unique=True, verbose_name="code"
            ),
        ),
        migrations.AddConstraint(
            model_name="grid",
            constraint=models.UniqueConstraint(fields=("community", "number"), name="home_grid_number_unique"),
        ),
    ]
