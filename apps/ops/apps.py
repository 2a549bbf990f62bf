from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "apps.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Registers the Teams notifier (alert hooks), the card and on-call email outbox actions.
        from apps.ops import (
            alerting,  # noqa: F401
            links,  # noqa: F401 - registers the ops pages' links for lower layers
        )
        from apps.ops.exceptions import exception_sources_register

        exception_sources_register()
