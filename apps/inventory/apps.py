from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "apps.inventory"
    label = "inventory"
    verbose_name = "SKU mapping and inventory"

    def ready(self) -> None:
        # Registers the inventory outbox actions (pull, lookup, set; read for the drift report).
        from apps.inventory import drift, sync  # noqa: F401
