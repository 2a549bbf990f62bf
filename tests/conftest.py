"""Personas and database helpers for the whole suite."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import connection

from apps.accounts.roles import ADMIN, FINANCE, MFA_ROLES, OPS, SUPPORT
from tests.factories import PASSWORD, UserFactory


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` prove PostgreSQL behaviour (SKIP LOCKED, triggers): skip them on SQLite."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://…")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def make_persona(role: str | None, email: str):
    user = UserFactory(email=email, roles=[role] if role else [])
    if role in MFA_ROLES:
        # Finance and Admin must have TOTP; the personas arrive already enrolled.
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
def personas(ops_user, support_user, finance_user, admin_user, outsider):
    return {
        "ops": ops_user,
        "support": support_user,
        "finance": finance_user,
        "admin": admin_user,
        "outsider": outsider,
    }


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"
