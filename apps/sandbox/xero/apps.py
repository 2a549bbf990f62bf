from django.apps import AppConfig


class XeroSandboxConfig(AppConfig):
    """The Xero stand-in's own tables (tokens, contacts, invoices, rate windows, call counts)."""

    name = "apps.sandbox.xero"
    label = "sandbox_xero"
    verbose_name = "Sandbox: Xero accounting"
    default_auto_field = "django.db.models.BigAutoField"
