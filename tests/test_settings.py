import os
import subprocess
import sys
from decimal import Decimal

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


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("DEBUG", "ture", "is not a boolean"),
        ("O2C_REQUIRE_MFA", "disabled", "is not a boolean"),
        ("SYNC_MAX_ATTEMPTS", "eight", "is not a whole number"),
        ("SYNC_MAX_ATTEMPTS", "8.5", "is not a whole number"),
        ("SHIPBOB_BUDGET_REFILL", "fast", "is not a number"),
        ("SHIPBOB_BUDGET_REFILL", "nan", "is not a number"),
        ("XERO_ROUNDING_TOLERANCE", "5 cents", "is not a decimal number"),
    ],
)
def test_an_unparseable_setting_is_refused_naming_the_variable(variable, value, says):
    result = subprocess.run(  # noqa: S603 - this interpreter, importing our own settings
        [sys.executable, "-c", "import o2c_portal.settings"],
        env={**os.environ, variable: value},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line == (
        f"django.core.exceptions.ImproperlyConfigured: {variable}={value!r} {says}"
        + (": use one of 0, 1, false, no, off, on, true, yes" if "boolean" in says else "")
    )


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), (" Yes ", True), ("off", False), ("0", False), ("", True)]
)
def test_booleans_read_every_documented_spelling_and_blank_means_default(
    monkeypatch, raw, expected
):
    from o2c_portal.settings import env_bool

    monkeypatch.setenv("O2C_TEST_FLAG", raw)
    assert env_bool("O2C_TEST_FLAG", True) is expected


def test_numbers_parse_with_surrounding_spaces_and_blank_means_default(monkeypatch):
    from o2c_portal.settings import env_decimal, env_float, env_int

    monkeypatch.setenv("O2C_TEST_NUMBER", " 12 ")
    assert env_int("O2C_TEST_NUMBER", 3) == 12
    assert env_float("O2C_TEST_NUMBER", 3.0) == 12.0
    assert env_decimal("O2C_TEST_NUMBER", "3") == Decimal("12")
    monkeypatch.setenv("O2C_TEST_NUMBER", "")
    assert env_int("O2C_TEST_NUMBER", 3) == 3
    assert env_decimal("O2C_TEST_NUMBER", "0.05") == Decimal("0.05")
