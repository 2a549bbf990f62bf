"""Fulfillment over real HTTP: ShopifyClient ↔ the stand-in's fulfillment orders and fulfillmentCreate."""

import random
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from apps.sandbox.models import SandboxFault
from apps.sandbox.shopify.fulfillment import fulfillment_orders_sync, fulfillments_count
from apps.sandbox.shopify.models import (
    StoreFulfillment,
    StoreFulfillmentOrder,
    StoreFulfillmentOrderLine,
    StoreOrder,
)
from apps.sandbox.shopify.simulator import (
    SimulatorConfig,
    _store_save,
    order_build,
    storefront_simulate,
)
from integrations.http import PeerError
from integrations.shopify.client import (
    FULFILLMENT_ORDERS_PAGE_SIZE,
    FULFILLMENT_ORDERS_QUERY,
    ShopifyClient,
    TrackingInfo,
)
from tests.shopify.conftest import STATIC_TOKEN

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TRACKING = TrackingInfo(company="UPS", number="1Z999AA10123456784", url="https://ups.test/1Z9")
PLAIN = SimulatorConfig(sku_missing_rate=0, unknown_sku_rate=0, cancel_rate=0, refund_rate=0)


def store_order(quantities=(3, 1), *, seed=7, **changes) -> StoreOrder:
    """A store order whose lines have these quantities, saved the way the simulator saves it."""
    payload, _ = order_build(
        random.Random(seed), number=1001 + seed, config=PLAIN, at=datetime.now(UTC)
    )
    template = payload["line_items"][0]
    payload["line_items"] = [
        {**(payload["line_items"][n] if n < len(payload["line_items"]) else template)}
        for n in range(len(quantities))
    ]
    for n, (line, quantity) in enumerate(zip(payload["line_items"], quantities, strict=True)):
        line.update(id=template["id"] + n, quantity=quantity, fulfillable_quantity=quantity)
        line["admin_graphql_api_id"] = f"gid://shopify/LineItem/{line['id']}"
    payload.update(changes)
    _store_save(payload)
    return StoreOrder.objects.get(shopify_id=payload["id"])


def order_gid(row: StoreOrder) -> str:
    return f"gid://shopify/Order/{row.shopify_id}"


def remaining(client: ShopifyClient, row: StoreOrder) -> dict[int, int]:
    (fulfillment_order,) = client.fulfillment_orders(order_gid(row))
    return {line.line_item_id: line.remaining_quantity for line in fulfillment_order.lines}


def test_a_simulated_order_has_one_open_fulfillment_order_with_its_lines(live_client):
    storefront_simulate(
        config=SimulatorConfig(orders=1, seed=3, deliver=False, cancel_rate=0, refund_rate=0)
    )
    row = StoreOrder.objects.get()

    fulfillment_orders = live_client.fulfillment_orders(order_gid(row))

    assert len(fulfillment_orders) == 1
    fulfillment_order = fulfillment_orders[0]
    assert fulfillment_order.status == "OPEN"
    assert fulfillment_order.id.startswith("gid://shopify/FulfillmentOrder/")
    expected = [(li["id"], li["sku"], li["quantity"]) for li in row.payload["line_items"]]
    assert [
        (line.line_item_id, line.sku, line.total_quantity) for line in fulfillment_order.lines
    ] == expected
    assert all(line.remaining_quantity == line.total_quantity for line in fulfillment_order.lines)
    assert all(
        line.id.startswith("gid://shopify/FulfillmentOrderLineItem/")
        for line in fulfillment_order.lines
    )
    assert row.shopify_id > 2**53
    assert fulfillment_order.lines[0].line_item_id > 2**53


def test_partial_shipment_then_the_rest_closes_the_fulfillment_order(live_client):
    row = store_order((3, 1))
    before = row.updated_at
    (fo,) = live_client.fulfillment_orders(order_gid(row))
    line_a, line_b = fo.lines

    first = live_client.fulfillment_create(lines=[(fo.id, [(line_a.id, 1)])], tracking=TRACKING)

    assert first.ok
    assert first.status == "SUCCESS"
    assert first.user_errors == ()
    assert first.fulfillment_id.startswith("gid://shopify/Fulfillment/")
    (fo_after,) = live_client.fulfillment_orders(order_gid(row))
    assert fo_after.status == "IN_PROGRESS"
    assert {line.line_item_id: line.remaining_quantity for line in fo_after.lines} == {
        line_a.line_item_id: 2,
        line_b.line_item_id: 1,
    }
    row.refresh_from_db()
    assert row.payload["fulfillment_status"] == "partial"
    assert row.updated_at > before
    assert row.payload["line_items"][0]["fulfillable_quantity"] == 2
    stored = StoreFulfillment.objects.get()
    assert (stored.tracking_company, stored.tracking_number, stored.tracking_url) == (
        "UPS",
        "1Z999AA10123456784",
        "https://ups.test/1Z9",
    )
    assert stored.notify_customer is True
    assert [(fl.fulfillment_order_line.line_item_id, fl.quantity) for fl in stored.lines.all()] == [
        (line_a.line_item_id, 1)
    ]

    second_tracking = TrackingInfo(company="UPS", number="1Z999AA10123456785", url="")
    rest = live_client.fulfillment_create(
        lines=[(fo.id, [(line_a.id, 2), (line_b.id, 1)])],
        tracking=second_tracking,
        notify_customer=False,
    )

    assert rest.ok
    (fo_done,) = live_client.fulfillment_orders(order_gid(row))
    assert fo_done.status == "CLOSED"
    assert [line.remaining_quantity for line in fo_done.lines] == [0, 0]
    row.refresh_from_db()
    assert row.payload["fulfillment_status"] == "fulfilled"
    assert [f["tracking_number"] for f in row.payload["fulfillments"]] == [
        "1Z999AA10123456784",
        "1Z999AA10123456785",
    ]
    assert fulfillments_count(shopify_id=row.shopify_id) == 2
    assert StoreFulfillment.objects.order_by("id").last().notify_customer is False
    assert [f.tracking_numbers for f in live_client.order_fulfillments(order_gid(row))] == [
        ("1Z999AA10123456784",),
        ("1Z999AA10123456785",),
    ]
    # The reconciliation poll sees the order fulfilled.
    page = live_client.orders_updated_since(before - timedelta(seconds=1))
    node = next(n for n in page.nodes if int(n["legacyResourceId"]) == row.shopify_id)
    assert node["displayFulfillmentStatus"] == "FULFILLED"
    assert [li["unfulfilledQuantity"] for li in node["lineItems"]["nodes"]] == [0, 0]


def test_over_fulfilling_is_a_user_error_and_changes_nothing(live_client):
    row = store_order((2, 1))
    (fo,) = live_client.fulfillment_orders(order_gid(row))
    line_a, line_b = fo.lines

    result = live_client.fulfillment_create(
        lines=[(fo.id, [(line_a.id, 3), (line_b.id, 1)])], tracking=TRACKING
    )

    assert result.fulfillment_id is None
    assert not result.ok
    assert result.status == ""
    assert len(result.user_errors) == 1
    assert "exceeds remaining quantity" in result.user_errors[0]
    # All or nothing: the valid line was not fulfilled either.
    assert remaining(live_client, row) == {line_a.line_item_id: 2, line_b.line_item_id: 1}
    assert fulfillments_count(shopify_id=row.shopify_id) == 0


def test_the_same_line_twice_in_one_request_counts_against_remaining(live_client):
    row = store_order((2,))
    (fo,) = live_client.fulfillment_orders(order_gid(row))
    (line,) = fo.lines

    result = live_client.fulfillment_create(
        lines=[(fo.id, [(line.id, 2), (line.id, 1)])], tracking=TRACKING
    )

    assert "exceeds remaining quantity" in result.user_errors[0]
    assert fulfillments_count(shopify_id=row.shopify_id) == 0


def test_fulfilling_a_closed_fulfillment_order_is_a_user_error(live_client):
    row = store_order((1,))
    (fo,) = live_client.fulfillment_orders(order_gid(row))
    assert live_client.fulfillment_create(
        lines=[(fo.id, [(fo.lines[0].id, 1)])], tracking=TRACKING
    ).ok

    again = live_client.fulfillment_create(
        lines=[(fo.id, [(fo.lines[0].id, 1)])], tracking=TRACKING
    )

    assert again.fulfillment_id is None
    assert "unfulfillable status" in again.user_errors[0]
    assert "closed" in again.user_errors[0]
    assert fulfillments_count(shopify_id=row.shopify_id) == 1


def test_a_cancelled_order_has_a_closed_fulfillment_order_with_nothing_remaining(live_client):
    row = store_order((2, 1), cancelled_at=datetime.now(UTC).isoformat(), cancel_reason="customer")
    (fo,) = live_client.fulfillment_orders(order_gid(row))

    result = live_client.fulfillment_create(
        lines=[(fo.id, [(fo.lines[0].id, 1)])], tracking=TRACKING
    )

    assert fo.status == "CLOSED"
    assert [line.remaining_quantity for line in fo.lines] == [0, 0]
    assert "unfulfillable status" in result.user_errors[0]
    assert fulfillments_count(shopify_id=row.shopify_id) == 0


def test_refunds_and_a_later_cancellation_reduce_what_remains(live_client):
    row = store_order((3, 2))
    line_a, line_b = row.payload["line_items"]
    payload = row.payload
    payload["refunds"] = [
        {"id": 1, "refund_line_items": [{"line_item_id": line_a["id"], "quantity": 2}]}
    ]
    _store_save(payload)

    assert remaining(live_client, row) == {line_a["id"]: 1, line_b["id"]: 2}

    payload["cancelled_at"] = datetime.now(UTC).isoformat()
    _store_save(payload)
    (fo,) = live_client.fulfillment_orders(order_gid(row))
    assert fo.status == "CLOSED"
    assert [line.remaining_quantity for line in fo.lines] == [0, 0]


def test_a_fulfillment_whose_answer_was_lost_shows_in_remaining_quantity(live_client, settings):
    """The timeout fault: Shopify did the work, the client never heard; a re-read tells."""
    row = store_order((2,))
    (fo,) = live_client.fulfillment_orders(order_gid(row))
    SandboxFault.objects.create(peer="shopify", enabled=True, timeout_rate=1.0, timeout_seconds=1.0)
    impatient = ShopifyClient(
        base_url=settings.SHOPIFY["BASE_URL"],
        api_version="2026-10",
        access_token=STATIC_TOKEN,
        timeout=0.3,
    )

    with impatient, pytest.raises(PeerError) as caught:
        impatient.fulfillment_create(lines=[(fo.id, [(fo.lines[0].id, 2)])], tracking=TRACKING)

    assert caught.value.retryable is True
    SandboxFault.objects.filter(peer="shopify").update(enabled=False)
    deadline = time.monotonic() + 5
    while fulfillments_count(shopify_id=row.shopify_id) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    (fo_now,) = live_client.fulfillment_orders(order_gid(row))
    # What a retry checks before calling fulfillmentCreate again:
    assert fo_now.lines[0].remaining_quantity == 0
    assert fo_now.status == "CLOSED"
    assert [f.tracking_numbers for f in live_client.order_fulfillments(order_gid(row))] == [
        (TRACKING.number,)
    ]
    assert fulfillments_count(shopify_id=row.shopify_id) == 1


def test_unknown_and_foreign_ids_are_user_errors(live_client):
    row = store_order((1,), seed=1)
    other = store_order((1,), seed=2)
    (fo,) = live_client.fulfillment_orders(order_gid(row))
    (other_fo,) = live_client.fulfillment_orders(order_gid(other))

    missing_fo = live_client.fulfillment_create(
        lines=[("gid://shopify/FulfillmentOrder/987654321", [(fo.lines[0].id, 1)])],
        tracking=TRACKING,
    )
    foreign_line = live_client.fulfillment_create(
        lines=[(fo.id, [(other_fo.lines[0].id, 1)])], tracking=TRACKING
    )
    two_orders = live_client.fulfillment_create(
        lines=[(fo.id, [(fo.lines[0].id, 1)]), (other_fo.id, [(other_fo.lines[0].id, 1)])],
        tracking=TRACKING,
    )

    assert missing_fo.user_errors == ("Fulfillment order does not exist.",)
    assert "does not exist" in foreign_line.user_errors[0]
    assert "same order" in two_orders.user_errors[0]
    assert StoreFulfillment.objects.count() == 0


def test_a_malformed_id_is_a_graphql_error(live_client):
    row = store_order((1,))
    (fo,) = live_client.fulfillment_orders(order_gid(row))

    with pytest.raises(PeerError) as caught:
        live_client.fulfillment_create(lines=[(fo.id, [("not-a-gid", 1)])], tracking=TRACKING)

    assert caught.value.retryable is False
    assert "invalid global id" in str(caught.value)


def test_an_unknown_order_raises(live_client):
    with pytest.raises(PeerError) as caught:
        live_client.fulfillment_orders("gid://shopify/Order/123")
    assert caught.value.retryable is False
    assert "not found" in str(caught.value)


def test_fulfillment_orders_and_their_lines_are_paged_and_the_query_fits_the_cost_limit(
    live_client,
):
    row = store_order(tuple([1] * 60))
    extra = []
    for n in range(FULFILLMENT_ORDERS_PAGE_SIZE + 2):
        fo = StoreFulfillmentOrder.objects.create(order=row, status="OPEN")
        StoreFulfillmentOrderLine.objects.create(
            fulfillment_order=fo,
            line_item_id=10**15 + n,
            sku=f"X-{n}",
            total_quantity=1,
            remaining_quantity=1,
        )
        extra.append(fo.gid)

    fulfillment_orders = live_client.fulfillment_orders(order_gid(row))

    assert len(fulfillment_orders) == FULFILLMENT_ORDERS_PAGE_SIZE + 3
    assert len(fulfillment_orders[0].lines) == 60  # the first 50 and then the rest
    assert len({line.id for line in fulfillment_orders[0].lines}) == 60
    assert [fo.id for fo in fulfillment_orders[1:]] == extra
    result = live_client.execute(
        FULFILLMENT_ORDERS_QUERY,
        {
            "id": order_gid(row),
            "first": FULFILLMENT_ORDERS_PAGE_SIZE,
            "after": None,
            "linesFirst": 50,
        },
    )
    assert result.cost.requested < 1000
    assert result.cost.actual <= result.cost.requested


def test_the_mutation_is_charged_like_other_calls(shopify_live, settings):
    row = store_order((1,))
    fo = StoreFulfillmentOrder.objects.get(order=row)
    line = fo.lines.get()
    response = httpx.post(
        f"{settings.SHOPIFY['BASE_URL']}/admin/api/2026-10/graphql.json",
        json={
            "query": "mutation { fulfillmentCreate(fulfillment: {lineItemsByFulfillmentOrder: "
            f'[{{fulfillmentOrderId: "{fo.gid}", fulfillmentOrderLineItems: [{{id: "{line.gid}", quantity: 1}}]}}]}}) '
            "{ fulfillment { id status } userErrors { field message } } }"
        },
        headers={"X-Shopify-Access-Token": STATIC_TOKEN},
    )
    body = response.json()

    assert body["data"]["fulfillmentCreate"]["fulfillment"]["status"] == "SUCCESS"
    # 10 for a mutation + the payload, fulfillment and userErrors objects.
    assert body["extensions"]["cost"]["requestedQueryCost"] == 13
    assert StoreFulfillment.objects.get().notify_customer is False  # Shopify's default


def test_an_order_saved_without_fulfillment_orders_gets_them_on_first_read(live_client):
    row = store_order((2,))
    StoreFulfillmentOrder.objects.filter(order=row).delete()

    (fo,) = live_client.fulfillment_orders(order_gid(row))

    assert fo.status == "OPEN"
    assert fo.lines[0].remaining_quantity == 2
    assert len(fulfillment_orders_sync(order=row)) == 1  # idempotent: still one


@pytest.mark.postgres
def test_two_concurrent_fulfillments_of_the_same_quantity_fulfil_once(live_client, settings):
    row = store_order((2,))
    (fo,) = live_client.fulfillment_orders(order_gid(row))
    results, barrier = [], threading.Barrier(2)

    def ship():
        with ShopifyClient(
            base_url=settings.SHOPIFY["BASE_URL"], api_version="2026-10", access_token=STATIC_TOKEN
        ) as client:
            barrier.wait()
            results.append(
                client.fulfillment_create(lines=[(fo.id, [(fo.lines[0].id, 2)])], tracking=TRACKING)
            )

    threads = [threading.Thread(target=ship) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert sorted(r.ok for r in results) == [False, True]
    assert fulfillments_count(shopify_id=row.shopify_id) == 1
    assert remaining(live_client, row) == {fo.lines[0].line_item_id: 0}
