"""The database cache's table (settings.CACHES): created by every `migrate`, so the demo, CI,
the tests, the benches and a deployment all have it before a sign-in counts a failure there.

Idempotent (an existing table is left alone) and a no-op when REDIS_URL selects Redis.
"""

from django.core.management import call_command
from django.db import migrations


def cache_table_create(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_user_assign_roles_permission")]

    operations = [migrations.RunPython(cache_table_create, migrations.RunPython.noop)]
