"""Ops follows a Teams card's "Open the runbook" button from the Teams stand-in's channel to the
alert kind's entry, then acknowledges through the card's signed link."""

import pytest

from apps.sync.alerts import alert_raise
from apps.sync.models import Alert
from apps.sync.pumps import pump_run
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_ops_follows_a_cards_runbook_link_to_the_right_entry(
    page, live_server, ops_user, sign_in_as, screenshot_dir, settings
):
    settings.O2C_PUBLIC_URL = live_server.url
    settings.TEAMS = {
        **settings.TEAMS,
        "WEBHOOK_URL": f"{live_server.url}/sandbox/teams/workflows/alerts",
    }
    alert_raise(
        kind="order.hold.unknown_sku",
        dedupe_key="order.hold.unknown_sku",
        message="held",
        subject="NEW-SKU-1",
    )
    pump_run("teams", once=True)

    sign_in_as(page, ops_user.email, PASSWORD)
    page.wait_for_url("**/ops/")  # Ops land on the dashboard
    page.goto("/sandbox/teams/")
    card = page.get_by_test_id("teams-card").first
    card.get_by_text("1 SKU(s) unmapped; orders using them are held: NEW-SKU-1").wait_for()
    page.screenshot(path=screenshot_dir / "teams-channel.png", full_page=True)

    card.get_by_role("link", name="Open the runbook").click()
    page.wait_for_url("**/ops/runbook/#order.hold.unknown_sku")
    entry = page.locator("h3:has(#order\\.hold\\.unknown_sku)")
    assert entry.is_visible()
    assert "order.hold.unknown_sku" in entry.inner_text()
    assert entry.evaluate("e => e.getBoundingClientRect().top") < 200  # scrolled to it
    page.screenshot(path=screenshot_dir / "runbook-entry.png")

    page.goto("/sandbox/teams/")
    page.get_by_test_id("teams-card").first.get_by_role("link", name="Acknowledge").click()
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url("**/ops/alerts/")
    assert Alert.objects.get().status == Alert.Status.ACKNOWLEDGED
    assert page.console_errors == []
