"""MFA enrolment works for the people an admin creates, with O2C_REQUIRE_MFA on: their address
is verified on creation (allauth refuses to enrol an unverified one), so setting a password through
the reset link and enrolling TOTP never loops."""

import re
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse

from apps.accounts.models import User
from apps.accounts.roles import FINANCE
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)  # allauth's enrolment acts on commit

NEW_PASSWORD = "a-fresh-long-passphrase-42"


@pytest.fixture(autouse=True)
def mfa_required(settings):
    settings.O2C_REQUIRE_MFA = True


def admin_creates(client, superuser, email: str, role: str) -> User:
    client.force_login(superuser)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "groups": [Group.objects.get(name=role).pk],
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()
    return User.objects.get(email=email)


def test_an_admin_created_user_has_a_verified_address(client, superuser):
    user = admin_creates(client, superuser, "farah@example.com", FINANCE)

    assert list(EmailAddress.objects.filter(user=user).values_list("verified", "primary")) == [
        (True, True)
    ]
    assert user.groups.get().name == FINANCE


def test_manage_py_createsuperuser_verifies_the_address_too():
    user = User.objects.create_superuser("first-admin@example.com", PASSWORD)

    assert EmailAddress.objects.get(user=user).verified


def test_an_invited_finance_user_sets_a_password_and_enrols_totp_without_a_loop(client, superuser):
    user = admin_creates(client, superuser, "farah@example.com", FINANCE)
    # The invitation: the admin sends allauth's password-set (reset) link to the new person.
    client.post(reverse("account_reset_password"), {"email": user.email})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[-1].body)
    form = client.get(link.group(1), follow=True)
    client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link.group(1),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    client.post(reverse("account_login"), {"login": user.email, "password": NEW_PASSWORD})
    visited = []
    url = reverse("home")
    for _ in range(6):  # follow the portal's redirects: they must end on the enrol form
        response = client.get(url)
        visited.append((url, response.status_code))
        if response.status_code != 302:
            break
        url = response["Location"]
        if url.startswith(reverse("account_reauthenticate")):
            url = client.post(url, {"password": NEW_PASSWORD})["Location"]
    assert visited[-1] == (reverse("mfa_activate_totp"), 200), visited

    secret = response.context["form"].secret
    code = format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD))
    client.post(reverse("mfa_activate_totp"), {"code": code})

    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert client.get(reverse("invoicing:list")).status_code == 200
