from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "apps.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        # Registers the receipt handlers, the outbox actions and the mapping-impact provider.
        from apps.orders import fulfillment, impact, warehouse, webhooks  # noqa: F401
