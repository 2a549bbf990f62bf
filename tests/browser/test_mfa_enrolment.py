"""With O2C_REQUIRE_MFA=1, people an admin created enrol TOTP in the browser and then sign in with
it: a Finance user on the portal, and an Admin on /admin/ (whose own sign-in form hands over to
allauth's)."""

import time
from urllib.parse import unquote

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth.models import Group

from apps.accounts.models import User
from apps.accounts.roles import ADMIN, FINANCE
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def mfa_required(settings):
    settings.O2C_REQUIRE_MFA = True


def created_by_an_admin(email: str, role: str) -> User:
    user = User.objects.create_user(email, PASSWORD, is_staff=role == ADMIN)
    user.groups.set([Group.objects.get(name=role)])
    return user


def signing_in_for(path: str):
    """A URL predicate: allauth's sign-in page, asked to come back to `path` afterwards."""
    return lambda url: (
        url.split("?")[0].endswith("/accounts/login/") and unquote(url).endswith(f"?next={path}")
    )


def totp_code(secret: str, steps_ahead: int = 0) -> str:
    # The next step's code is accepted too (MFA_TOTP_TOLERANCE) and was not used to enrol.
    step = int(time.time()) // mfa_settings.TOTP_PERIOD + steps_ahead
    return format_hotp_value(hotp_value(secret, step))


def enter_password(page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def enrol(page, shots, name: str) -> str:
    """On allauth's enrol page (after the password again if asked): read the secret, type a code."""
    if "/accounts/reauthenticate/" in page.url:
        page.locator('input[name="password"]').fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    page.screenshot(path=shots / f"{name}-enrol.png", full_page=True)
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url("**/accounts/2fa/recovery-codes/**")
    page.screenshot(path=shots / f"{name}-recovery-codes.png", full_page=True)
    return secret


def answer_code(page, secret: str) -> None:
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.get_by_label("Code").fill(totp_code(secret, steps_ahead=1))
    page.get_by_role("button", name="Verify").click()


def test_a_finance_user_enrols_totp_on_the_portal_and_signs_in_with_it(
    page, live_server, screenshot_dir
):
    user = created_by_an_admin("farah@example.com", FINANCE)
    page.goto("/accounts/login/")
    enter_password(page, user.email)

    secret = enrol(page, screenshot_dir, "portal")
    page.goto("/invoicing/")  # enrolling counted as this session's second factor
    assert page.url == f"{live_server.url}/invoicing/"
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()

    page.context.clear_cookies()
    page.goto("/invoicing/")
    page.wait_for_url(signing_in_for("/invoicing/"))
    enter_password(page, user.email)
    assert page.url.startswith(f"{live_server.url}/accounts/2fa/authenticate/")
    # The password alone is no session.
    assert page.request.get("/invoicing/", max_redirects=0).status == 302
    answer_code(page, secret)

    page.wait_for_url(f"{live_server.url}/invoicing/")
    assert page.get_by_test_id("who").inner_text() == user.email
    page.screenshot(path=screenshot_dir / "portal-signed-in-with-totp.png", full_page=True)
    assert not page.console_errors, page.console_errors


def test_an_admin_enrols_through_admin_login_and_signs_in_to_django_admin_with_totp(
    page, live_server, screenshot_dir
):
    user = created_by_an_admin("ada@example.com", ADMIN)
    page.goto("/admin/")
    # Django admin's own form is gone: allauth's sign-in, coming back to /admin/.
    page.wait_for_url(signing_in_for("/admin/"))
    enter_password(page, user.email)

    secret = enrol(page, screenshot_dir, "admin")
    page.goto("/admin/")
    assert page.get_by_role("heading", name="Site administration").is_visible()

    page.context.clear_cookies()
    page.goto("/admin/login/?next=/admin/accounts/user/")
    page.wait_for_url(signing_in_for("/admin/accounts/user/"))
    page.screenshot(path=screenshot_dir / "admin-login-is-allauth.png", full_page=True)
    enter_password(page, user.email)
    answer_code(page, secret)

    page.wait_for_url(f"{live_server.url}/admin/accounts/user/")
    assert page.get_by_role("link", name=user.email).is_visible()
    page.screenshot(path=screenshot_dir / "admin-signed-in-with-totp.png", full_page=True)
