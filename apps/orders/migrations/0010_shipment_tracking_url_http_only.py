"""Tracking URLs stored before peers' links were checked: keep only http(s) ones."""

from django.db import migrations

from integrations.http import web_url


def tracking_urls_clear(apps, schema_editor):
    Shipment = apps.get_model("orders", "Shipment")
    for pk, url in Shipment.objects.exclude(tracking_url="").values_list("pk", "tracking_url"):
        if not web_url(url):
            Shipment.objects.filter(pk=pk).update(tracking_url="")


class Migration(migrations.Migration):
    dependencies = [("orders", "0009_pollwatermark_pass_cursor")]

    operations = [migrations.RunPython(tracking_urls_clear, migrations.RunPython.noop)]
