from django.db import migrations

from apps.accounts.roles import roles_apply


class Migration(migrations.Migration):
    """Admins edit the shipping-method mapping beside the SKU mapping."""

    dependencies = [
        ("accounts", "0003_roles_orders_inventory"),
        ("inventory", "0003_shippingmethodmapping"),
        ("orders", "0003_order_submitted_at_order_warehouse_error_and_more"),
    ]

    operations = [migrations.RunPython(roles_apply, migrations.RunPython.noop)]
