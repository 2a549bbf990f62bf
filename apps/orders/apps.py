from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "apps.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        # Registers the receipt handlers, the outbox actions, the mapping-impact provider and the
        # mapping-change hook that releases holds, and the stock demand provider.
        from apps.orders import (  # noqa: F401
            fulfillment,
            holds,
            impact,
            inventory_demand,
            warehouse,
            webhooks,
        )
