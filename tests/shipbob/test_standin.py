"""The ShipBob stand-in over real HTTP (live_server) with the real client."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from apps.sandbox.models import SandboxFault
from apps.sandbox.shipbob.models import (
    InventoryItem,
    OrderCreateAttempt,
    WarehouseOrder,
    WarehouseShipment,
    WebhookEvent,
)
from apps.sandbox.shipbob.simulator import shipping_tick
from integrations.http import PeerError
from integrations.shipbob.client import ShipBobClient, ShipBobNotCancellable
from tests.shipbob.conftest import MUG, TEE, TEE_M, TOKEN, body

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_create_answers_201_with_one_processing_shipment(live_client):
    created = live_client.order_create(body("1001", lines=((TEE, 2), (MUG, 1))))

    assert created.reference_id == "1001"
    assert created.status == "Processing"
    assert created.existed is False
    (parcel,) = created.shipments
    assert parcel.status == "Processing"
    assert parcel.tracking_number == ""
    assert {(p.inventory_id, p.quantity) for p in parcel.products} == {(700001, 2), (700005, 1)}
    attempt = OrderCreateAttempt.objects.get(reference_id="1001")
    assert (attempt.attempts, attempt.created, attempt.duplicates) == (1, 1, 0)
    assert InventoryItem.objects.get(inventory_id=700001).committed == 2


def test_a_second_create_is_the_same_order_counted_as_two_attempts(live_client):
    first = live_client.order_create(body("1002"))
    again = live_client.order_create(body("1002"))

    assert again.existed is True
    assert again.id == first.id
    assert WarehouseOrder.objects.filter(reference_id="1002").count() == 1
    attempt = OrderCreateAttempt.objects.get(reference_id="1002")
    assert (attempt.attempts, attempt.created, attempt.duplicates) == (2, 1, 1)


def test_the_standin_answers_shipbobs_422_for_a_duplicate(shipbob_live, settings):
    url = f"{settings.SHIPBOB['BASE_URL']}/2026-07/order"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    first = httpx.post(url, json=body("1003"), headers=auth)
    assert first.status_code == 201
    answer = httpx.post(url, json=body("1003"), headers=auth)
    assert answer.status_code == 422
    assert answer.json()["errors"]["ReferenceId"] == [
        "Cannot insert order with existing ReferenceId"
    ]
    # The fixture's window allows 1,000 calls a minute: each answer says how many remain.
    assert (first.headers["x-remaining-calls"], answer.headers["x-remaining-calls"]) == (
        "999",
        "998",
    )


def test_orders_are_found_by_reference(live_client):
    for reference in ("2001", "2002", "2003"):
        live_client.order_create(body(reference))

    found = live_client.orders_by_reference(["2001", "2003", "nope"])
    assert sorted(o.reference_id for o in found) == ["2001", "2003"]


def test_an_invalid_body_is_refused_for_good_with_shipbobs_words(live_client):
    broken = body("3001")
    broken["recipient"]["address"]["address1"] = ""
    with pytest.raises(PeerError) as caught:
        live_client.order_create(broken)
    assert caught.value.status_code == 400
    assert caught.value.retryable is False
    assert "Address1" in caught.value.message


def test_an_unknown_inventory_item_is_a_permanent_422(live_client):
    with pytest.raises(PeerError) as caught:
        live_client.order_create(body("3002", lines=(((799999, "GHOST"), 1),)))
    assert (caught.value.status_code, caught.value.retryable) == (422, False)
    assert "799999" in caught.value.message


def test_cancel_before_picking_cancels_and_releases_stock(live_client):
    created = live_client.order_create(body("4001", lines=((TEE_M, 3),)))
    assert InventoryItem.objects.get(inventory_id=700002).committed == 3

    cancelled = live_client.order_cancel(created.id)

    assert cancelled.status == "Cancelled"
    assert [s.status for s in cancelled.shipments] == ["Cancelled"]
    assert InventoryItem.objects.get(inventory_id=700002).committed == 0
    assert WebhookEvent.objects.filter(topic="order.shipment.cancelled").count() == 1
    # Cancelling again is harmless: a retried call after a lost answer.
    assert live_client.order_cancel(created.id).status == "Cancelled"


def test_cancel_after_picking_or_shipping_is_refused(live_client):
    picked = live_client.order_create(body("4002"))
    shipped = live_client.order_create(body("4003"))
    WarehouseOrder.objects.filter(reference_id="4003").update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    WarehouseOrder.objects.filter(reference_id="4002").update(
        created_at=timezone.now() - timedelta(seconds=40)
    )
    shipping_tick(
        ship_after_seconds=60, partial_rate=0, exception_rate=0, cancel_rate=0, send=False
    )

    with pytest.raises(ShipBobNotCancellable, match="picked"):
        live_client.order_cancel(picked.id)
    with pytest.raises(ShipBobNotCancellable, match="shipped") as caught:
        live_client.order_cancel(shipped.id)
    assert caught.value.retryable is False
    assert WarehouseOrder.objects.get(pk=shipped.id).status == "Fulfilled"
    assert not WarehouseShipment.objects.filter(status="Cancelled").exists()


def test_orders_updated_since_are_paged_oldest_first(live_client):
    ids = [live_client.order_create(body(f"50{n}")).id for n in range(5)]
    old = timezone.now() - timedelta(hours=2)
    WarehouseOrder.objects.filter(pk=ids[0]).update(updated_at=old)

    seen, page, pages = [], 1, 0
    while page is not None:
        result = live_client.orders_updated_since(old + timedelta(minutes=1), page=page, limit=2)
        seen.extend(o.id for o in result.orders)
        page, pages = result.next_page, pages + 1
    assert seen == ids[1:]
    assert pages == 2


def test_inventory_levels_are_paged_with_the_next_page_header(live_client):
    live_client.order_create(body("6001", lines=((MUG, 4),)))
    levels, cursor, pages = [], None, 0
    while True:
        page = live_client.inventory_levels(cursor=cursor, page_size=3)
        levels.extend(page.levels)
        pages += 1
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert [lvl.inventory_id for lvl in levels] == list(range(700001, 700008))
    mug = next(lvl for lvl in levels if lvl.inventory_id == 700005)
    assert (mug.sku, mug.committed, mug.fulfillable) == ("MUG-WHT", 4, mug.on_hand - 4)


def test_a_full_window_answers_429_with_the_wait(shipbob_live, settings, live_client):
    settings.SANDBOX_SHIPBOB = {"WINDOW_SECONDS": 30.0, "LIMIT": 3}
    url = f"{settings.SHIPBOB['BASE_URL']}/2026-07/inventory-level"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    remaining = [int(httpx.get(url, headers=auth).headers["x-remaining-calls"]) for _ in range(3)]
    assert remaining == [2, 1, 0]

    throttled = httpx.get(url, headers=auth)
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["x-retry-after"]) <= 30
    assert throttled.headers["x-remaining-calls"] == "0"
    with pytest.raises(PeerError) as caught:
        live_client.inventory_levels()
    assert caught.value.status_code == 429
    assert caught.value.retryable is True
    assert 1 <= caught.value.retry_after <= 30


def test_a_wrong_token_is_refused_for_good(shipbob_live, settings):
    client = ShipBobClient.from_config({**settings.SHIPBOB, "TOKEN": "wrong"})
    with pytest.raises(PeerError) as caught:
        client.orders_by_reference(["1"])
    assert (caught.value.status_code, caught.value.retryable) == (401, False)


def test_injected_faults_reach_the_client_as_retryable(live_client):
    SandboxFault.objects.create(peer="shipbob", enabled=True, error_rate=1.0)
    with pytest.raises(PeerError) as caught:
        live_client.order_create(body("7001"))
    assert caught.value.retryable is True
    assert caught.value.status_code in (500, 503)
    assert not WarehouseOrder.objects.exists()
