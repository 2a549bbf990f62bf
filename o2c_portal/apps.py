from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "o2c_portal"
    verbose_name = "O2C Portal"

    def ready(self) -> None:
        from o2c_portal import checks, schedules  # noqa: F401  (register the system checks)
