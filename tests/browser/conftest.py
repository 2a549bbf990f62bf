"""Browser fixtures: Playwright (sync API) driving Debian's Chromium against `live_server`.

Later issues reuse these: `page` is a fresh browser tab on the live server (its `goto("/x")` is
relative), `sign_in(page, user, password, totp_user=None)` goes through the real sign-in form, and
`screenshot_dir` is where a test leaves its screenshots (O2C_SCREENSHOT_DIR, or a tmp dir).
"""

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import totp_code_now

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    executable = shutil.which("chromium")
    if not executable:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return executable


@pytest.fixture
def browser(chromium_executable, live_server, transactional_db, django_db_serialized_rollback):
    """Chromium under Playwright, started after the test database is ready, stopped before it
    is flushed.

    Why per test: while Playwright's sync API runs, its event loop counts as running in this
    thread, and Django then keeps a second set of database connections (asgiref's Local). The
    database fixtures (serialized rollback restores the roles migration's groups, the flush at
    the end) must run outside that window, so Playwright starts after them and stops first.
    Serialized rollback matters because a transactional test ends by emptying every table.
    """
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # The test code is synchronous: Django may serve ORM calls although a loop is "running".
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
    finally:
        # Close the connections opened while the loop ran; nothing else would, and PostgreSQL
        # refuses to drop the test database while they stay open.
        connections.close_all()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    """A fresh tab on the live server (relative `goto`), collecting console errors."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    tab.console_errors = []
    tab.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))
    yield tab
    context.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    configured = os.environ.get("O2C_SCREENSHOT_DIR")
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


def sign_in(page, email: str, password: str, *, totp_user=None) -> None:
    """Sign in through the real form; a user enrolled in TOTP (or `totp_user`) answers allauth's
    code step too."""
    from allauth.mfa.models import Authenticator

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():  # the POST answers: the form again (refused) or a redirect
        page.get_by_role("button", name="Sign in").click()
    if totp_user is None:
        enrolled = Authenticator.objects.filter(
            user__email=email, type=Authenticator.Type.TOTP
        ).select_related("user")
        totp_user = enrolled[0].user if enrolled else None
    if totp_user is not None and "/accounts/login/" not in page.url:
        page.wait_for_url("**/accounts/2fa/authenticate/**")
        page.get_by_label("Code").fill(totp_code_now(totp_user))
        page.get_by_role("button", name="Verify").click()


@pytest.fixture
def sign_in_as():
    return sign_in
