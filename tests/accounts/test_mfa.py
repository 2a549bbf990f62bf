"""MFA is a property of the session (allauth's record that this session answered a code), it is
required by permission (superusers and staff included, whatever their groups), and Django
admin's own password-only sign-in is closed."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from apps.accounts.mfa import user_requires_mfa
from apps.accounts.roles import ADMIN, FINANCE, OPS, SUPPORT
from tests.conftest import totp_code_now
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def mfa_required(settings):
    settings.O2C_REQUIRE_MFA = True


def test_an_enrolled_admin_whose_session_skipped_the_code_is_signed_out(client, admin_user):
    client.force_login(admin_user, mfa=False)  # a password-only session, as /admin/login/ made

    admin = client.get(reverse("admin:index"))
    portal = client.get(reverse("home"))

    assert admin.status_code == 302
    assert admin["Location"] == reverse("account_login") + "?next=%2Fadmin%2F"
    assert "_auth_user_id" not in client.session  # signed out, not merely redirected
    assert portal.status_code == 302
    assert portal["Location"].startswith(reverse("account_login"))


def test_the_password_alone_is_not_enough_on_any_page(client, admin_user):
    """Even allauth's own pages (where a session could turn TOTP off) sign such a session out."""
    client.force_login(admin_user, mfa=False)

    response = client.get(reverse("mfa_deactivate_totp"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_the_admin_signs_in_to_django_admin_through_allauth_with_totp(client, admin_user):
    handed_over = client.get(reverse("admin:login"), {"next": "/admin/"})
    login = client.post(handed_over["Location"], {"login": admin_user.email, "password": PASSWORD})
    assert login["Location"].startswith(reverse("mfa_authenticate"))
    assert client.get(reverse("admin:index")).status_code == 302  # the password is not a session

    code = client.post(reverse("mfa_authenticate"), {"code": totp_code_now(admin_user)})

    assert code["Location"] == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200


def test_wrong_passwords_are_rate_limited_before_the_right_one(client, admin_user):
    """40 wrong passwords then the right one used to get in through /admin/login/."""
    assert client.post(reverse("admin:login"), {"username": admin_user.email}).status_code == 405
    for _ in range(5):
        client.post(reverse("account_login"), {"login": admin_user.email, "password": "wrong"})

    response = client.post(
        reverse("account_login"), {"login": admin_user.email, "password": PASSWORD}
    )

    assert response.status_code == 200  # the form again, with allauth's "too many attempts"
    assert "Too many failed login attempts" in response.content.decode()
    assert "account_authentication_methods" not in client.session


def test_a_superuser_outside_every_group_must_enrol(client):
    root = UserFactory(email="root@example.com", is_superuser=True, is_staff=True)
    client.force_login(root, mfa=False)

    for url in (reverse("home"), reverse("admin:index"), reverse("invoicing:list")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("mfa_activate_totp"), url


def test_an_enrolled_superuser_is_asked_for_the_code(client, superuser):
    login = client.post(reverse("account_login"), {"login": superuser.email, "password": PASSWORD})

    assert login["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.parametrize(
    "permission",
    [
        "invoicing.approve_invoicedraft",
        "support.approve_replydraft",
        "sync.replay_outboxmessage",
        "accounts.assign_roles",
    ],
)
def test_a_right_held_directly_without_a_role_requires_mfa(client, permission):
    user = UserFactory()
    app_label, codename = permission.split(".")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    client.force_login(user, mfa=False)

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


@pytest.mark.parametrize("role", [OPS, SUPPORT, FINANCE, ADMIN])
def test_every_role_approves_posts_sends_or_administers(role):
    assert user_requires_mfa(UserFactory(roles=[role]))


def test_a_user_with_only_read_rights_and_no_flags_does_not_need_mfa():
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_order"))

    assert not user_requires_mfa(user)
