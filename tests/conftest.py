"""Personas and database helpers for the whole suite."""

import pytest
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import connection
from django.http import HttpRequest
from django.test import Client

from apps.accounts.mfa import user_has_totp, user_requires_mfa
from apps.accounts.roles import ADMIN, FINANCE, OPS, SUPPORT
from tests.factories import PASSWORD, UserFactory
from tests.peers import peers  # noqa: F401 (the fixture, for every test module)


def pytest_configure(config):
    """A fast password hasher for the suite: PBKDF2's 1.2M rounds cost ~0.5 s per persona."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` prove PostgreSQL behaviour (SKIP LOCKED, triggers): skip them on SQLite."""
    from django.conf import settings

    serialize_transactional_tests(items)
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://…")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def serialize_transactional_tests(items) -> None:
    """Every transactional test (transaction=True, transactional_db, live_server) restores the
    migrated rows (the roles' groups, permissions, content types) with serialized rollback.

    Why all of them: a transactional test ends by emptying every table. Without serialized
    rollback the groups are gone for the tests after it (personas silently lose their role), and
    the post_migrate re-run recreates content types under new ids, so the next serialized test
    fails restoring them (UNIQUE constraint on django_content_type).
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker else {}
        fixtures = getattr(item, "fixturenames", ())
        transactional = kwargs.get("transaction") or kwargs.get("reset_sequences")
        transactional = transactional or "transactional_db" in fixtures or "live_server" in fixtures
        if transactional and not kwargs.get("serialized_rollback"):
            kwargs.update(transaction=True, serialized_rollback=True)
            # Prepended: the closest django_db marker is the one pytest-django reads.
            item.add_marker(
                pytest.mark.django_db(*(marker.args if marker else ()), **kwargs), False
            )


class SignedInClient(Client):
    """`force_login` stands for a complete sign-in: the password and, as allauth records it in
    the session, the TOTP code (a user who must use TOTP and has none is enrolled first).
    `force_login(user, mfa=False)` is a password-only session of a user left as they are: what
    the MFA middleware must refuse or send to enrol."""

    def force_login(self, user, backend=None, *, mfa: bool = True):
        if mfa and user_requires_mfa(user) and not user_has_totp(user):
            TOTP.activate(user, generate_totp_secret())
        super().force_login(user, backend)
        request = HttpRequest()
        request.session = self.session
        record_authentication(request, user, "password")
        if mfa:
            record_authentication(request, user, "mfa", type="totp")
        request.session.save()


@pytest.fixture
def client():
    return SignedInClient()


def make_persona(role: str | None, email: str, **flags):
    user = UserFactory(email=email, roles=[role] if role else [], **flags)
    if user_requires_mfa(user):
        # Whoever can approve, post, send or administer must have TOTP; the personas arrive enrolled.
        TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def ops_user(db):
    return make_persona(OPS, "ops@example.com")


@pytest.fixture
def support_user(db):
    return make_persona(SUPPORT, "support@example.com")


@pytest.fixture
def finance_user(db):
    return make_persona(FINANCE, "finance@example.com")


@pytest.fixture
def admin_user(db):
    return make_persona(ADMIN, "admin@example.com")


@pytest.fixture
def outsider(db):
    return make_persona(None, "outsider@example.com")


@pytest.fixture
def superuser(db):
    """A superuser in no group (holds every permission without any role)."""
    return make_persona(None, "root@example.com", is_superuser=True, is_staff=True)


@pytest.fixture
def personas(ops_user, support_user, finance_user, admin_user, outsider, superuser):
    return {
        "ops": ops_user,
        "support": support_user,
        "finance": finance_user,
        "admin": admin_user,
        "outsider": outsider,
        "superuser": superuser,
    }


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


def totp_code_now(user) -> str:
    """The code an enrolled persona's authenticator app shows right now."""
    import time

    from allauth.mfa import app_settings as mfa_settings
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
    from allauth.mfa.utils import decrypt

    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    secret = decrypt(authenticator.data["secret"])
    return format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD))


@pytest.fixture
def totp_code():
    """`totp_code(user)`: the current TOTP code of an enrolled persona (Finance, Admin)."""
    return totp_code_now


@pytest.fixture(autouse=True)
def _tax_types_mapped(request):
    """Every database test starts with the test payloads' tax lines mapped to Xero tax types (an
    order with an unmapped tax line is held); tests of that hold delete the rows first."""
    uses_db = request.node.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    )
    if not uses_db:
        return
    from tests.inventory.factories import tax_types_mapped

    request.getfixturevalue("_django_db_helper")
    tax_types_mapped()
