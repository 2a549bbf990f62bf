from django.apps import AppConfig


class OpenAISandboxConfig(AppConfig):
    """The Azure OpenAI stand-in: its behaviour switch and the calls it answered."""

    name = "apps.sandbox.openai"
    label = "sandbox_openai"
    verbose_name = "Sandbox: Azure OpenAI model"
    default_auto_field = "django.db.models.BigAutoField"
