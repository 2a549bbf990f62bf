from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "apps.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        # Registers the Shopify receipt handler and the mapping-impact provider.
        from apps.orders import impact, webhooks  # noqa: F401
