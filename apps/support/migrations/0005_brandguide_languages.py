from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("support", "0004_replydraft_send_started_at")]

    operations = [
        migrations.AddField(
            model_name="brandguide",
            name="languages",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
