from django.apps import AppConfig


class ShipBobSandboxConfig(AppConfig):
    """The ShipBob stand-in's own tables (warehouse orders, shipments, stock, its rate window)."""

    name = "apps.sandbox.shipbob"
    label = "sandbox_shipbob"
    verbose_name = "Sandbox: ShipBob warehouse"
    default_auto_field = "django.db.models.BigAutoField"
