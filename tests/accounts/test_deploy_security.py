"""HTTPS settings come from the environment, and `check --deploy` is clean with the production
environment documented in docs/deploy.md (read from the document itself, so the two agree)."""

import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def documented_environment() -> dict[str, str]:
    """The `/etc/o2c/env` block of docs/deploy.md, placeholders (…) filled in."""
    text = (settings.BASE_DIR / "docs" / "deploy.md").read_text()
    block = text.split("`/etc/o2c/env`", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    env = dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(\S*)", block, flags=re.MULTILINE))
    env = {name: value.replace("…", "placeholder") for name, value in env.items()}
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    return env


def test_the_documented_environment_sets_https_redirect_and_hsts():
    env = documented_environment()

    assert env["SECURE_SSL_REDIRECT"] == "1"
    assert int(env["SECURE_HSTS_SECONDS"]) >= 31536000


def test_check_deploy_is_clean_with_the_documented_environment():
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(settings.BASE_DIR)),
        **documented_environment(),
    }

    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_plain_http_is_redirected_and_https_answers_with_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True

    plain = client.get(reverse("account_login"))
    secure = client.get(reverse("account_login"), secure=True)
    probe = client.get(reverse("healthz"))

    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver" + reverse("account_login")
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert probe.status_code == 200  # load balancers probe over plain HTTP
