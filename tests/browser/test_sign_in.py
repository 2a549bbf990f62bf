"""Each role signs in through the real form (with its TOTP code: each can approve, post, send or
administer) and sees exactly its navigation; Ops then works an alert through htmx under the CSP."""

import pytest

from tests.factories import PASSWORD
from tests.navigation import EXPECTED_NAV as NAV
from tests.ops.factories import AlertFactory

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("persona", NAV)
def test_each_role_signs_in_and_sees_its_navigation(
    page, live_server, request, persona, sign_in_as, screenshot_dir
):
    user = request.getfixturevalue(persona)

    sign_in_as(page, user.email, PASSWORD)  # every role can approve, post, send or administer: TOTP

    landing = "/ops/" if persona == "ops_user" else "/"  # Ops land on their dashboard
    page.wait_for_url(f"{live_server.url}{landing}")
    assert page.get_by_test_id("who").inner_text() == user.email
    assert page.locator('[data-testid="nav"] a').all_inner_texts() == NAV[persona]
    page.screenshot(path=screenshot_dir / f"home-{persona}.png", full_page=True)
    assert not page.console_errors, page.console_errors


def test_a_wrong_password_stays_on_the_sign_in_page(
    page, live_server, ops_user, sign_in_as, screenshot_dir
):
    sign_in_as(page, ops_user.email, "not-the-password")

    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    assert page.get_by_role("alert").is_visible()
    page.screenshot(path=screenshot_dir / "sign-in-refused.png", full_page=True)


def test_ops_acknowledges_an_alert_in_place_through_htmx(
    page, live_server, ops_user, sign_in_as, screenshot_dir
):
    alert = AlertFactory(kind="outbox.dead", message="3PL refused order #1001")
    sign_in_as(page, ops_user.email, PASSWORD)
    page.wait_for_url(f"{live_server.url}/ops/")
    page.get_by_role("link", name="Alerts").first.click()
    page.wait_for_url("**/ops/alerts/")
    page.evaluate("window.__same_document = true")  # survives only if htmx swaps, not a reload

    row = page.locator(f"#alert-{alert.pk}")
    row.get_by_role("button", name="Acknowledge").click()

    row.get_by_text("acknowledged by ops@example.com").wait_for()
    assert page.evaluate("window.__same_document") is True
    assert row.get_by_role("button", name="Acknowledge").count() == 0
    alert.refresh_from_db()
    assert alert.status == "acknowledged"
    page.screenshot(path=screenshot_dir / "alerts-ops.png", full_page=True)
    assert not page.console_errors, page.console_errors


def test_ops_dry_runs_then_replays_a_dead_message(
    page, live_server, ops_user, sign_in_as, screenshot_dir
):
    from tests.ops.factories import OutboxMessageFactory

    dead = OutboxMessageFactory(dead=True, idempotency_key="shipbob:order:1001")
    sign_in_as(page, ops_user.email, PASSWORD)
    page.wait_for_url(f"{live_server.url}/ops/")
    page.goto("/ops/outbox/")

    page.get_by_label(f"Select message {dead.pk}").check()
    page.get_by_role("button", name="Dry run replay of the selected").click()
    preview = page.get_by_test_id("replay-preview")
    preview.get_by_text("Dry run: 1 message would be sent again").wait_for()
    page.screenshot(path=screenshot_dir / "outbox-dry-run.png", full_page=True)
    dead.refresh_from_db()
    assert dead.status == "dead"  # a dry run sends nothing

    page.once("dialog", lambda dialog: dialog.accept())  # htmx's hx-confirm
    preview.get_by_role("button", name="Replay 1 message").click()

    page.get_by_test_id("replay-done").wait_for()
    # The table reloads itself (HX-Trigger) and shows the message pending again.
    page.locator('[data-testid="outbox-table"] .badge.pending').wait_for()
    dead.refresh_from_db()
    assert dead.status == "pending"
    assert not page.console_errors, page.console_errors
