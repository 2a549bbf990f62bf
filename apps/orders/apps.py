from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "apps.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        # Registers the receipt handlers, the outbox actions, the mapping-impact provider and the
        # mapping-change hook that releases holds.
        from apps.orders import fulfillment, holds, impact, warehouse, webhooks  # noqa: F401
