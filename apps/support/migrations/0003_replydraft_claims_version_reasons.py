from django.db import migrations, models


def acknowledgements_to_reasons(apps, schema_editor):
    """A flag ticked before reasons were asked for keeps a reason saying so."""
    ReplyDraft = apps.get_model("support", "ReplyDraft")
    for draft in ReplyDraft.objects.exclude(flags_acknowledged=[]).iterator():
        for index in draft.flags_acknowledged:
            if isinstance(index, int) and 0 <= index < len(draft.flags):
                draft.flags[index]["reason"] = "acknowledged (before reasons were required)"
        draft.save(update_fields=["flags"])


class Migration(migrations.Migration):
    dependencies = [("support", "0002_dashboard_indexes")]

    operations = [
        migrations.AddField(
            model_name="replydraft",
            name="claims",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="replydraft",
            name="version",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.RunPython(acknowledgements_to_reasons, migrations.RunPython.noop),
        migrations.RemoveField(model_name="replydraft", name="flags_acknowledged"),
    ]
