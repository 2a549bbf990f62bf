"""Only a parcel ShipBob says has left (`Completed`) is shipped, fulfilled and invoiced.

The chaos test drives the ShipBob stand-in over real HTTP: it cancels some parcels and puts others
in exception (out of stock), with every event delivered twice; none of them may become a Shipment,
a Shopify fulfillment or an invoice draft, and each is on its order's timeline.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.invoicing.models import InvoiceDraft
from apps.orders import warehouse
from apps.orders.models import Order, Shipment
from apps.orders.warehouse import shipment_record
from apps.sandbox.shipbob import warehouse as standin
from apps.sandbox.shipbob.models import WarehouseOrder, WarehouseShipment
from apps.sandbox.shopify.models import StoreFulfillment
from apps.sync.models import Alert, OutboxMessage
from integrations.shipbob.client import shipment_from_payload
from tests.peers import drain, place_orders, ship_now

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _parcel(order: Order, **changes) -> dict:
    """The stand-in's view model of the order's first parcel, with `changes` applied."""
    remote = standin.orders_with_lines().get(reference_id=str(order.shopify_id))
    payload = standin.shipment_json(remote.shipments.all()[0], remote)
    return {**payload, **changes}


def test_cancelled_and_exception_parcels_are_never_shipped_fulfilled_or_invoiced(peers):
    # Every event is delivered twice. The warehouse puts two parcels in exception, cancels two
    # and ships two (the others wait: not yet due at the warehouse).
    orders = place_orders(6)
    drain("shipbob")
    remote = list(WarehouseOrder.objects.order_by("id"))
    assert len(remote) == 6
    later = timezone.now() + timedelta(hours=1)
    for index, rates in enumerate(({"exception_rate": 1.0}, {"cancel_rate": 1.0}, {})):
        WarehouseOrder.objects.filter(pk__in=[o.pk for o in remote[index * 2 :]]).update(
            created_at=later
        )
        WarehouseOrder.objects.filter(
            pk__in=[o.pk for o in remote[index * 2 : index * 2 + 2]]
        ).update(created_at=timezone.now() - timedelta(minutes=1))
        ship_now(seed=7, duplicate_rate=1.0, **rates)
    drain("receipts", "shopify", "receipts")

    stopped = WarehouseShipment.objects.exclude(status=WarehouseShipment.Status.COMPLETED)
    assert sorted(stopped.values_list("status", flat=True)) == ["Cancelled"] * 2 + ["Exception"] * 2
    for parcel in stopped.select_related("order"):
        order = Order.objects.get(shopify_id=int(parcel.order.reference_id))
        assert not Shipment.objects.filter(shipbob_shipment_id=parcel.pk).exists()
        assert not StoreFulfillment.objects.filter(order__shopify_id=order.shopify_id).exists()
        assert not InvoiceDraft.objects.filter(shipment__order=order).exists()
        assert not OutboxMessage.objects.filter(
            action="fulfillment_create", payload__order_id=order.pk
        ).exists()
        order.refresh_from_db()
        assert order.status == Order.Status.SUBMITTED
        kind = (
            "warehouse.shipment_cancelled"
            if parcel.status == WarehouseShipment.Status.CANCELLED
            else "warehouse.exception"
        )
        assert order.events.filter(kind=kind, data__shipment_id=parcel.pk).exists()
        alert_kind = "shipment.cancelled" if kind.endswith("cancelled") else "shipment.exception"
        assert Alert.objects.get(dedupe_key=f"{alert_kind}:{parcel.pk}").count == 1

    shipped = Shipment.objects.all()
    assert shipped.count() == 2
    assert all(s.fulfillment_status == Shipment.FulfillmentStatus.DONE for s in shipped)
    assert InvoiceDraft.objects.filter(shipment__in=shipped).count() == 2
    assert StoreFulfillment.objects.count() == 2
    assert len(orders) == 6


def test_a_shipped_parcel_later_cancelled_is_voided_through_the_hook(peers):
    (order,) = place_orders(1)
    drain("shipbob")
    ship_now(seed=8)
    drain("receipts", "shopify")
    shipment = order.shipments.get()
    assert shipment.fulfillment_status == Shipment.FulfillmentStatus.DONE
    voided = []
    warehouse.SHIPMENT_VOIDED_HOOKS.append(voided.append)
    try:
        cancelled = shipment_from_payload(_parcel(order, status="Cancelled"))
        for _ in range(2):  # the news twice: voided once
            shipment_record(
                reference_id=str(order.shopify_id),
                shipbob_order_id=order.warehouse_order_id,
                shipment=cancelled,
                topic="order.shipment.cancelled",
            )
    finally:
        warehouse.SHIPMENT_VOIDED_HOOKS.remove(voided.append)
    shipment.refresh_from_db()
    assert voided == [shipment]
    assert voided[0].status == "Cancelled"
    order.refresh_from_db()
    assert order.status == Order.Status.SUBMITTED  # nothing of it is on its way any more
    assert order.events.filter(kind="warehouse.shipment_voided").count() == 1
    alert = Alert.objects.get(kind="shipment.voided")
    assert alert.severity == "critical"
    assert "customer was told" in alert.message


def test_a_late_shipped_copy_of_a_cancelled_parcel_is_ignored(peers):
    (order,) = place_orders(1)
    drain("shipbob")
    order.refresh_from_db()
    cancelled = shipment_from_payload(_parcel(order, status="Cancelled"))
    completed = shipment_from_payload(
        _parcel(
            order,
            status="Completed",
            tracking={"carrier": "USPS", "tracking_number": "9400111000000000000001"},
        )
    )
    for parcel, topic in ((cancelled, "order.shipment.cancelled"), (completed, "order.shipped")):
        assert (
            shipment_record(
                reference_id=str(order.shopify_id),
                shipbob_order_id=order.warehouse_order_id,
                shipment=parcel,
                topic=topic,
            )
            is None
        )
    assert not Shipment.objects.exists()
    assert not InvoiceDraft.objects.exists()
    assert order.events.filter(kind="warehouse.stale").exists()


def test_a_voided_parcel_whose_fulfillment_had_not_gone_out_is_not_fulfilled(peers):
    (order,) = place_orders(1)
    drain("shipbob")
    ship_now(seed=9)
    drain("receipts")  # recorded, its fulfillment still queued
    shipment = order.shipments.get()
    assert shipment.fulfillment_status == Shipment.FulfillmentStatus.PENDING
    shipment_record(
        reference_id=str(order.shopify_id),
        shipbob_order_id=order.warehouse_order_id,
        shipment=shipment_from_payload(_parcel(order, status="Cancelled")),
        topic="order.shipment.cancelled",
    )
    drain("shopify")
    shipment.refresh_from_db()
    assert shipment.fulfillment_status == Shipment.FulfillmentStatus.NOT_NEEDED
    assert not StoreFulfillment.objects.exists()
    assert "it was not fulfilled in Shopify" in Alert.objects.get(kind="shipment.voided").message


def test_a_javascript_tracking_url_from_the_warehouse_is_not_stored_or_sent_to_shopify(peers):
    (order,) = place_orders(1)
    drain("shipbob")
    order.refresh_from_db()
    parcel = _parcel(
        order,
        status="Completed",
        actual_fulfillment_date="2026-12-01T10:00:00Z",
        tracking={
            "carrier": "UPS",
            "tracking_number": "1Z999AA10123456784",
            "tracking_url": "javascript:alert(document.cookie)",
        },
    )
    shipment_record(
        reference_id=str(order.shopify_id),
        shipbob_order_id=order.warehouse_order_id,
        shipment=shipment_from_payload(parcel),
        topic="order.shipped",
    )
    drain("shopify")
    shipment = order.shipments.get()
    assert shipment.tracking_url == ""
    assert shipment.fulfillment_status == Shipment.FulfillmentStatus.DONE
    fulfillment = StoreFulfillment.objects.get()
    assert fulfillment.tracking_number == "1Z999AA10123456784"
    assert fulfillment.tracking_url == ""
