from django.db import migrations

from apps.accounts.roles import roles_apply


class Migration(migrations.Migration):
    """Orders, holds and the SKU mapping tables joined the roles (ROLE_PERMISSIONS)."""

    dependencies = [
        ("accounts", "0002_roles"),
        ("orders", "0002_pollwatermark"),
        ("inventory", "0002_mapping_validation_messages"),
    ]

    operations = [migrations.RunPython(roles_apply, migrations.RunPython.noop)]
