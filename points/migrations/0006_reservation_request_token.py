"""A reservation keeps the client's request token (the API's Idempotency-Key), so that a retry returns it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("points", "0005_drop_translation_fields")]

    operations = [
        migrations.AddField(
            model_name="reservation",
            name="request_token",
            field=models.UUIDField(blank=True, editable=False, null=True, unique=True),
        ),
    ]
