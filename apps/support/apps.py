from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "apps.support"
    label = "support"
    verbose_name = "Support replies"

    def ready(self) -> None:
        # Registers the helpdesk receipt handler and the reply-sending outbox action.
        from apps.support import intake, sending  # noqa: F401
