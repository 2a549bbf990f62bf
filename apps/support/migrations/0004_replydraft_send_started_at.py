from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("support", "0003_replydraft_claims_version_reasons")]

    operations = [
        migrations.AddField(
            model_name="replydraft",
            name="send_started_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
