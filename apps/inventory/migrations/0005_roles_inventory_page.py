from django.db import migrations

from apps.accounts.roles import roles_apply


class Migration(migrations.Migration):
    """Every role reads the inventory page; Ops and Admin run drift reports; Admin edits buffers."""

    dependencies = [
        ("accounts", "0006_roles_support"),
        ("inventory", "0004_stock_levels_and_sync"),
    ]

    operations = [migrations.RunPython(roles_apply, migrations.RunPython.noop)]
