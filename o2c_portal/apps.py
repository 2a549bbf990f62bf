from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "o2c_portal"
    verbose_name = "O2C Portal"

    def ready(self) -> None:
        from o2c_portal import checks  # noqa: F401  (registers the system checks)
