from django.db import migrations

from apps.accounts.roles import roles_apply


class Migration(migrations.Migration):
    """Support agents review and send AI reply drafts; admins keep the brand guide."""

    dependencies = [
        ("accounts", "0005_roles_invoicing"),
        ("support", "0001_initial"),
    ]

    operations = [migrations.RunPython(roles_apply, migrations.RunPython.noop)]
