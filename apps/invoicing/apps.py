from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "apps.invoicing"
    label = "invoicing"
    verbose_name = "Invoicing (Xero)"

    def ready(self) -> None:
        # Registers the shipment hooks (drafts, voids) and the Xero outbox actions.
        from apps.invoicing import credits, drafts, posting  # noqa: F401
