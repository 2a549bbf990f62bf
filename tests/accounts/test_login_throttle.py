"""allauth counts failed sign-ins in Django's cache; that cache is shared by every process (the
database cache by default), so 5 wrong passwords per address are 5 across all web workers."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from tests.factories import PASSWORD

# Another process signs in wrongly through Django's test client against the same database.
WRONG_SIGN_INS = """
import sys, django
django.setup()
from django.test import Client
client = Client()
for _ in range(int(sys.argv[2])):
    client.post("/accounts/login/", {"login": sys.argv[1], "password": "not-the-password"})
"""


def fail_sign_in(client, email: str, times: int) -> None:
    for _ in range(times):
        client.post(reverse("account_login"), {"login": email, "password": "not-the-password"})


def refused_as_too_many(response) -> bool:
    return "Too many failed login attempts" in response.content.decode()


@pytest.mark.django_db
def test_failed_sign_ins_are_counted_in_the_shared_database_cache(client, outsider):
    assert settings.CACHES["default"]["BACKEND"].endswith("db.DatabaseCache")

    fail_sign_in(client, outsider.email, 1)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {settings.CACHES['default']['LOCATION']}")  # noqa: S608
        assert cursor.fetchone()[0] >= 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_limit_holds_across_processes(client, outsider):
    db = connection.settings_dict
    env = {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "o2c_portal.settings",
    }
    try:
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", WRONG_SIGN_INS, outsider.email, "3"],
            env={**os.environ, **env},
            cwd=settings.BASE_DIR,
            check=True,
            timeout=120,
        )
        fail_sign_in(client, outsider.email, 2)  # 3 + 2: allauth allows 5 per address

        response = client.post(
            reverse("account_login"), {"login": outsider.email, "password": PASSWORD}
        )

        assert refused_as_too_many(response)
        assert client.get(reverse("home")).status_code == 302
    finally:
        cache.clear()  # the cache table is no model: the end-of-test flush leaves it alone
