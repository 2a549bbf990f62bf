from django.conf import settings
from django.core.checks import Error, Tags, Warning, register  # noqa: A004


@register(Tags.security, deploy=False)
def check_secret_key(app_configs, **kwargs):
    """Refuse to run a production configuration (DEBUG off) on the development secret key."""
    if not settings.DEBUG and settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        return [
            Error(
                "SECRET_KEY is the development key while DEBUG is off.",
                hint="Set SECRET_KEY in the environment to a long random value.",
                id="o2c.E001",
            )
        ]
    return []


@register(Tags.security, deploy=False)
def check_mail_backend(app_configs, **kwargs):
    """A production configuration must really send email: replies marked sent must reach customers."""
    backend = settings.MAILERS.get("default", {}).get("BACKEND", "")
    if (
        not settings.DEBUG
        and not settings.O2C_SANDBOX
        and backend.endswith(("console.EmailBackend", "locmem.EmailBackend", "dummy.EmailBackend"))
    ):
        return [
            Warning(
                f"EMAIL_BACKEND is {backend}: approved replies would be marked sent without reaching anyone.",
                hint="Set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and the EMAIL_* settings.",
                id="o2c.W002",
            )
        ]
    return []
