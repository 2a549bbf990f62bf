"""Sign-in: email + password through allauth, TOTP for whoever can approve, post, send or
administer, no public sign-up."""

import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.urls import reverse

from apps.accounts.models import User
from apps.accounts.roles import ADMIN, FINANCE, OPS, SUPPORT
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_the_sign_in_page_wears_the_portal_layout(client):
    response = client.get(reverse("account_login"))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="login-form"' in body
    assert "css/portal.css" in body
    assert "sign up" not in body.lower()


def test_a_user_without_approving_rights_signs_in_with_email_and_password(client, outsider):
    response = sign_in(client, "outsider@example.com")

    assert response.status_code == 302
    assert response["Location"] == reverse("home")  # no role: the home page
    assert client.get(reverse("home")).status_code == 200


def test_a_wrong_password_does_not_sign_in(client, outsider):
    response = sign_in(client, "outsider@example.com", "not-the-password")

    assert response.status_code == 200
    assert client.get(reverse("home")).status_code == 302


def test_a_totp_enrolled_user_is_asked_for_a_code(client, finance_user, totp_code):
    first = sign_in(client, "finance@example.com")

    assert first.status_code == 302
    assert first["Location"] == reverse("mfa_authenticate")
    # Password alone is not a session: the portal still sends them to sign in.
    assert client.get(reverse("home")).status_code == 302
    assert client.get(first["Location"]).status_code == 200

    second = client.post(reverse("mfa_authenticate"), {"code": totp_code(finance_user)})

    assert second.status_code == 302
    assert second["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_a_wrong_totp_code_keeps_the_user_out(client, admin_user, totp_code):
    sign_in(client, "admin@example.com")
    wrong = "000000" if totp_code(admin_user) != "000000" else "111111"

    response = client.post(reverse("mfa_authenticate"), {"code": wrong})

    assert response.status_code == 200
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.parametrize("role", [OPS, SUPPORT, FINANCE, ADMIN])
def test_every_role_without_totp_is_sent_to_enrol(client, settings, role):
    settings.O2C_REQUIRE_MFA = True
    user = UserFactory(roles=[role])
    client.force_login(user, mfa=False)

    for url in (reverse("home"), reverse("ops:audit-list")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_activate_totp")


@pytest.mark.parametrize("role", [OPS, SUPPORT, FINANCE, ADMIN])
def test_with_the_setting_off_they_are_not(client, settings, role):
    settings.O2C_REQUIRE_MFA = False
    user = UserFactory(roles=[role])
    client.force_login(user, mfa=False)

    assert client.get(reverse("home")).status_code == 200


def test_a_user_who_can_only_look_is_not_required_to_enrol(client, settings):
    settings.O2C_REQUIRE_MFA = True
    client.force_login(UserFactory(roles=[]))

    assert client.get(reverse("home")).status_code == 200


@pytest.mark.django_db(transaction=True)  # allauth announces the new authenticator on commit
def test_a_finance_user_enrols_totp_and_then_gets_in(client, settings):
    settings.O2C_REQUIRE_MFA = True
    user = UserFactory(email="new-finance@example.com", roles=[FINANCE])
    sign_in(client, user.email)
    assert client.get(reverse("home"))["Location"] == reverse("mfa_activate_totp")

    # allauth asks for the password again before any change to two-factor settings.
    confirm = client.get(reverse("mfa_activate_totp"))
    assert confirm["Location"].startswith(reverse("account_reauthenticate"))
    client.post(confirm["Location"], {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200  # the enrol page itself is reachable (no redirect loop)
    secret = page.context["form"].secret
    code = format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD))
    # The code typed to enrol counts as this session's second factor: no second sign-in.
    client.post(reverse("mfa_activate_totp"), {"code": code})

    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert client.get(reverse("home")).status_code == 200


def test_there_is_no_public_sign_up(client):
    before = User.objects.count()

    page = client.get("/accounts/signup/")
    post = client.post(
        "/accounts/signup/",
        {"email": "stranger@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert page.status_code == 200
    assert 'data-testid="signup-closed"' in page.content.decode()
    assert 'name="password1"' not in page.content.decode()
    assert post.status_code == 200
    assert User.objects.count() == before
    assert not User.objects.filter(email="stranger@example.com").exists()
    assert client.get(reverse("home")).status_code == 302
