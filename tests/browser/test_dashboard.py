"""Ops lands on the dashboard, watches a count move with the poll, follows a stage to its list,
and bulk-retries dead messages from the exception queue after a dry run — under the CSP."""

import pytest
from playwright.sync_api import expect

from apps.orders.models import Order, Shipment
from apps.sync.models import OutboxMessage
from tests.factories import PASSWORD
from tests.ops.factories import OutboxMessageFactory
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.browser
POLL_WAIT_MS = 25_000  # the tiles poll every 10 s


def test_ops_watch_the_pipeline_and_retry_dead_messages(
    page, live_server, ops_user, sign_in_as, screenshot_dir
):
    ready = OrderFactory(status=Order.Status.READY, name="#7001")
    dead = [
        OutboxMessageFactory(
            dead=True,
            peer="shopify",
            action="fulfillment_create",
            payload={"shipment_id": shipment.pk},
        )
        for shipment in (
            Shipment.objects.create(
                order=OrderFactory(status=Order.Status.SHIPPED),
                shipbob_shipment_id=900 + i,
                carrier="Royal Mail",
                tracking_number=f"RM{900 + i}GB",
            )
            for i in range(3)
        )
    ]
    other = OutboxMessageFactory(dead=True, peer="teams")  # left alone: another filter
    sign_in_as(page, ops_user.email, PASSWORD)
    page.wait_for_url(f"{live_server.url}/ops/")
    count = page.get_by_test_id("count-ready")
    assert count.inner_text() == "1"
    page.screenshot(path=screenshot_dir / "dashboard.png", full_page=True)

    # The pipeline moves while the page is open: the tile's poll shows it without a reload.
    page.evaluate("window.__same_document = true")
    OrderFactory(status=Order.Status.READY, name="#7002")
    expect(count).to_have_text("2", timeout=POLL_WAIT_MS)
    assert page.evaluate("window.__same_document") is True

    page.locator("[data-stage=ready] a").click()
    page.wait_for_url("**/orders/?status=ready")
    page.get_by_role("link", name=ready.name).wait_for()

    page.get_by_role("link", name="Exceptions").first.click()
    page.wait_for_url("**/ops/exceptions/")
    page.get_by_label("Kind").select_option("outbox_dead")
    page.wait_for_url("**kind=outbox_dead**")
    for message in dead:
        page.get_by_label(f"Select Dead outbox message {message.pk}").check()
    page.get_by_role("button", name="Retry… (dry run first)").click()
    writes = page.get_by_test_id("dry-run-writes")
    writes.wait_for()
    assert writes.locator("li").count() == 3
    assert writes.inner_text().count("graphql.json") == 3  # the request each retry sends
    writes.locator("summary").first.click()
    assert "RM900GB" in writes.locator("pre").first.inner_text()  # the tracking it will send
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"dead"}
    page.screenshot(path=screenshot_dir / "exceptions-dry-run.png", full_page=True)

    page.get_by_test_id("confirm-retry").click()
    page.get_by_test_id("retried").get_by_text("3 retried").wait_for()
    # The queue reloads itself: the retried messages are gone from it.
    table = page.get_by_test_id("exception-table")
    table.get_by_label(f"Select Dead outbox message {dead[0].pk}").wait_for(state="detached")
    statuses = dict(OutboxMessage.objects.values_list("pk", "status"))
    assert [statuses[m.pk] for m in dead] == ["pending"] * 3
    assert statuses[other.pk] == "dead"
    page.screenshot(path=screenshot_dir / "exceptions-retried.png", full_page=True)
    assert not page.console_errors, page.console_errors
