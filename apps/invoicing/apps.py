from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "apps.invoicing"
    label = "invoicing"
    verbose_name = "Invoicing (Xero)"

    def ready(self) -> None:
        # Registers the shipment hook that builds drafts, and the Xero outbox actions.
        from apps.invoicing import drafts, posting  # noqa: F401
