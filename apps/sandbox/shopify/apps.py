from django.apps import AppConfig


class ShopifySandboxConfig(AppConfig):
    """The Shopify stand-in's own tables (its store's orders, webhook subscriptions, tokens)."""

    name = "apps.sandbox.shopify"
    label = "sandbox_shopify"
    verbose_name = "Sandbox: Shopify store"
    default_auto_field = "django.db.models.BigAutoField"
