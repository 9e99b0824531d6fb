"""Earning rules and rewards get their English labels beside the Chinese ones (issue 16: one row per thing).

The locale becomes nullable only so that the way back (0005 reversed) can add it to existing rows."""

import django.db.models.deletion
from django.db import migrations, models


def _locale():
    return models.ForeignKey(
        editable=False,
        null=True,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="wagtailcore.locale",
        verbose_name="locale",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("points", "0002_immutable_ledger"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.AddField(
            model_name="earningrule",
            name="name_en",
            field=models.CharField(blank=True, max_length=100, verbose_name="name (English)"),
        ),
        migrations.AddField(
            model_name="earningrule",
            name="description_en",
            field=models.TextField(blank=True, verbose_name="description (English)"),
        ),
        migrations.AddField(
            model_name="reward",
            name="name_en",
            field=models.CharField(blank=True, max_length=100, verbose_name="name (English)"),
        ),
        migrations.AddField(
            model_name="reward",
            name="description_en",
            field=models.TextField(blank=True, verbose_name="description (English)"),
        ),
        migrations.AddField(
            model_name="reward",
            name="pickup_place_en",
            field=models.CharField(blank=True, max_length=200, verbose_name="pickup place (English)"),
        ),
        migrations.AddField(
            model_name="reward",
            name="pickup_hours_en",
            field=models.CharField(blank=True, max_length=200, verbose_name="pickup hours (English)"),
        ),
        migrations.AlterField(model_name="earningrule", name="locale", field=_locale()),
        migrations.AlterField(model_name="reward", name="locale", field=_locale()),
    ]
