"""The shipping simulator: it ships, splits, delivers and sends signed events that misbehave."""

import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.sandbox.shipbob.models import InventoryItem, WarehouseOrder, WebhookEvent
from apps.sandbox.shipbob.simulator import shipping_tick, tracking_make
from integrations.shipbob.webhooks import shipment_event_from_payload
from tests.shipbob import urls as capture_urls
from tests.shipbob.conftest import MUG, TEE, TEE_M, body

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
QUIET = {
    "partial_rate": 0,
    "exception_rate": 0,
    "cancel_rate": 0,
    "duplicate_rate": 0,
    "drop_rate": 0,
}


def submitted(client, reference, lines=((TEE, 1),), *, age=120):
    order = client.order_create(body(reference, lines=lines))
    WarehouseOrder.objects.filter(pk=order.id).update(
        created_at=timezone.now() - timedelta(seconds=age)
    )
    return order


def test_a_submitted_order_ships_with_tracking_and_a_signed_event(
    live_client, capture_url, received
):
    order = submitted(live_client, "8001", lines=((TEE, 2),))
    on_hand = InventoryItem.objects.get(inventory_id=700001).on_hand

    result = shipping_tick(ship_after_seconds=60, target_url=capture_url, **QUIET)

    assert (result["shipped"], result["sent"]) == (1, 1)
    (delivery,) = received
    assert delivery["verified"] is True
    assert delivery["topic"] == "order.shipped"
    event = shipment_event_from_payload(delivery["topic"], delivery["payload"])
    assert event.reference_id == "8001"
    assert event.order.status == "Fulfilled"
    parcel = event.shipment
    assert parcel.carrier in {"USPS", "UPS", "FedEx"}
    assert parcel.tracking_number in parcel.tracking_url
    assert parcel.shipped_at is not None
    stock = InventoryItem.objects.get(inventory_id=700001)
    assert (stock.on_hand, stock.committed) == (on_hand - 2, 0)
    # The poll sees the same: tracking on the order.
    (polled,) = live_client.orders_by_reference(["8001"])
    assert polled.shipments[0].tracking_number == parcel.tracking_number
    assert polled.id == order.id


def test_young_orders_wait(live_client, capture_url, received):
    submitted(live_client, "8002", age=5)
    result = shipping_tick(ship_after_seconds=60, target_url=capture_url, **QUIET)
    assert result["shipped"] == 0
    assert received == []


def test_a_split_order_ships_in_two_parcels(live_client, capture_url, received):
    submitted(live_client, "8003", lines=((TEE, 1), (TEE_M, 1), (MUG, 2)))
    quiet = {**QUIET, "partial_rate": 1.0}

    first = shipping_tick(ship_after_seconds=60, target_url=capture_url, **quiet)
    assert (first["shipped"], first["split"]) == (1, 1)
    order = WarehouseOrder.objects.get(reference_id="8003")
    assert order.status == "PartiallyFulfilled"

    later = timezone.now() + timedelta(seconds=61)
    second = shipping_tick(now=later, ship_after_seconds=60, target_url=capture_url, **quiet)
    assert (second["shipped"], second["split"]) == (1, 0)

    events = [shipment_event_from_payload(r["topic"], r["payload"]) for r in received]
    assert [e.topic for e in events] == ["order.shipped", "order.shipped"]
    assert events[0].order.status == "PartiallyFulfilled"
    assert events[1].order.status == "Fulfilled"
    parcels = events[1].order.shipments
    assert len(parcels) == 2
    assert len({p.tracking_number for p in parcels}) == 2
    assert events[0].shipment.id != events[1].shipment.id
    shipped = sorted((p.inventory_id, p.quantity) for parcel in parcels for p in parcel.products)
    assert shipped == [(700001, 1), (700002, 1), (700005, 2)]


def test_duplicates_repeat_the_webhook_id(live_client, capture_url, received):
    submitted(live_client, "8004")
    result = shipping_tick(
        ship_after_seconds=60, target_url=capture_url, **{**QUIET, "duplicate_rate": 1.0}
    )
    assert result["duplicates"] == 1
    assert len(received) == 2
    assert received[0]["id"] == received[1]["id"]
    assert all(r["verified"] for r in received)


def test_a_dropped_event_is_found_by_the_poll(live_client, capture_url, received):
    since = timezone.now() - timedelta(seconds=1)
    submitted(live_client, "8005")
    result = shipping_tick(
        ship_after_seconds=60, target_url=capture_url, **{**QUIET, "drop_rate": 1.0}
    )
    assert (result["shipped"], result["dropped"], result["sent"]) == (1, 1, 0)
    assert received == []
    assert WebhookEvent.objects.get().dropped is True

    page = live_client.orders_updated_since(since)
    (order,) = page.orders
    assert order.reference_id == "8005"
    assert order.shipments[0].shipped
    # A dropped event is never sent later.
    shipping_tick(ship_after_seconds=60, target_url=capture_url, **QUIET)
    assert received == []


def test_delivery_and_exception_events(live_client, capture_url, received):
    submitted(live_client, "8006")
    shipping_tick(ship_after_seconds=60, target_url=capture_url, **QUIET)
    later = timezone.now() + timedelta(hours=1)
    result = shipping_tick(
        now=later, ship_after_seconds=60, deliver_after_seconds=60, target_url=capture_url, **QUIET
    )
    assert result["delivered"] == 1
    delivered = shipment_event_from_payload(received[-1]["topic"], received[-1]["payload"])
    assert delivered.topic == "order.shipment.delivered"
    assert delivered.shipment.delivered_at is not None

    submitted(live_client, "8007")
    shipping_tick(ship_after_seconds=60, target_url=capture_url, **{**QUIET, "exception_rate": 1.0})
    exception = shipment_event_from_payload(received[-1]["topic"], received[-1]["payload"])
    assert exception.topic == "order.shipment.exception"
    assert exception.reference_id == "8007"
    assert "OutOfStock" in exception.shipment.exception
    assert WarehouseOrder.objects.get(reference_id="8007").status == "Exception"


def test_an_unreachable_portal_gets_the_event_later(live_client, capture_url, received):
    submitted(live_client, "8008")
    capture_urls.ANSWER["status"] = 503
    first = shipping_tick(ship_after_seconds=60, target_url=capture_url, **QUIET)
    assert (first["shipped"], first["failed"], first["sent"]) == (1, 1, 0)
    assert WebhookEvent.objects.get().sent_at is None

    capture_urls.ANSWER["status"] = 200
    second = shipping_tick(ship_after_seconds=60, target_url=capture_url, **QUIET)
    assert (second["shipped"], second["sent"]) == (0, 1)
    assert [r["topic"] for r in received] == ["order.shipped", "order.shipped"]
    assert received[0]["id"] == received[1]["id"]


def test_a_cancellation_is_announced_on_the_next_tick(live_client, capture_url, received):
    order = live_client.order_create(body("8009"))
    live_client.order_cancel(order.id)
    result = shipping_tick(ship_after_seconds=60, target_url=capture_url, **QUIET)
    assert result["sent"] == 1
    event = shipment_event_from_payload(received[0]["topic"], received[0]["payload"])
    assert (event.topic, event.order_id, event.shipment.status) == (
        "order.shipment.cancelled",
        order.id,
        "Cancelled",
    )


def test_the_command_runs_one_pass(live_client, capture_url, received, capsys):
    submitted(live_client, "8010")
    call_command(
        "shipbob_ship",
        "--once",
        "--url",
        capture_url,
        "--partial-rate",
        "0",
        "--drop-rate",
        "0",
        # No random carrier exception: it would make the pass report the parcel as an exception.
        "--exception-rate",
        "0",
        "--duplicate-rate",
        "0",
        "--seed",
        "1",
    )
    assert "shipped=1" in capsys.readouterr().out
    assert received[0]["topic"] == "order.shipped"


def test_tracking_numbers_look_like_the_carriers():
    rng = random.Random(3)
    seen = {}
    for _ in range(200):
        carrier, _service, number, url = tracking_make(rng)
        seen[carrier] = number
        assert number in url
    assert (seen["USPS"][:4], len(seen["USPS"])) == ("9400", 22)
    assert (seen["UPS"][:2], len(seen["UPS"])) == ("1Z", 18)
    assert (seen["FedEx"].isdigit(), len(seen["FedEx"])) == (True, 12)
