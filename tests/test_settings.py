import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from o2c_portal.checks import check_secret_key


def test_debug_off_with_the_development_key_is_refused(settings, db):
    settings.DEBUG = False
    settings.SECRET_KEY = settings.DEVELOPMENT_SECRET_KEY
    errors = check_secret_key(None)
    assert [error.id for error in errors] == ["o2c.E001"]
    with pytest.raises(SystemCheckError, match="o2c.E001"):
        call_command("check")


def test_debug_off_with_a_real_key_passes(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = "a-real-secret-" + "x" * 40
    assert check_secret_key(None) == []


def test_a_production_configuration_that_cannot_send_email_is_warned_about(settings):
    from o2c_portal.checks import check_mail_backend

    settings.DEBUG = False
    settings.O2C_SANDBOX = False
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    assert [warning.id for warning in check_mail_backend(None)] == ["o2c.W002"]
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}}
    assert check_mail_backend(None) == []
