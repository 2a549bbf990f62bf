from django.db import migrations

from apps.accounts.roles import roles_apply


class Migration(migrations.Migration):
    """Finance reviews and approves invoice drafts; Ops reads them; Admin connects Xero."""

    dependencies = [
        ("accounts", "0004_roles_shipping_methods"),
        ("invoicing", "0001_initial"),
    ]

    operations = [migrations.RunPython(roles_apply, migrations.RunPython.noop)]
