"""The orders search by email (exact or prefix, any case): `UPPER(email) LIKE UPPER('ada%')`.

PostgreSQL uses a btree for LIKE prefixes only with a pattern opclass (the database collation is
not "C"), which Django's Index cannot spell portably; SQLite takes the plain expression index.
"""

from django.db import migrations

INDEX = "order_email_upper_idx"


def index_create(apps, schema_editor):
    opclass = " text_pattern_ops" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON orders_order (UPPER(email){opclass})"
    )


def index_drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("orders", "0006_dashboard_indexes")]

    operations = [migrations.RunPython(index_create, index_drop)]
