from django.apps import AppConfig


class TeamsSandboxConfig(AppConfig):
    """The Teams Workflows stand-in: the cards it received and how it answers."""

    name = "apps.sandbox.teams"
    label = "sandbox_teams"
    verbose_name = "Sandbox: Microsoft Teams"
    default_auto_field = "django.db.models.BigAutoField"
