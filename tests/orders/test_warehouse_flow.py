"""Ready orders to the warehouse and back: real HTTP to the ShipBob and Shopify stand-ins, real pumps."""

import pytest
from django.urls import reverse

from apps.orders.models import Order, Shipment
from apps.orders.warehouse import shipments_poll_enqueue
from apps.sandbox.shipbob.models import OrderCreateAttempt, WarehouseOrder
from apps.sandbox.shopify.models import StoreFulfillment
from apps.sync.models import Alert, OutboxMessage
from tests.peers import drain, place_orders, ship_now

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_orders_flow_from_ready_to_fulfilled_in_shopify(peers, client, ops_user):
    orders = place_orders(3)
    assert {order.status for order in orders} == {Order.Status.READY}
    assert OutboxMessage.objects.filter(peer="shipbob", action="order_create").count() == 3

    drain("shipbob")
    for order in orders:
        order.refresh_from_db()
        assert order.status == Order.Status.SUBMITTED
        assert (
            order.warehouse_order_id
            == WarehouseOrder.objects.get(reference_id=str(order.shopify_id)).pk
        )

    ship_now(seed=1)
    drain("receipts", "shopify", "receipts")
    for order in orders:
        order.refresh_from_db()
        assert order.status == Order.Status.FULFILLED, order.events.values_list(
            "message", flat=True
        )
        shipment = order.shipments.get()
        assert shipment.tracking_number
        assert shipment.fulfillment_status == Shipment.FulfillmentStatus.DONE
        fulfillment = StoreFulfillment.objects.get(order__shopify_id=order.shopify_id)
        assert fulfillment.tracking_number == shipment.tracking_number
        assert fulfillment.notify_customer
    assert all(a.created == 1 for a in OrderCreateAttempt.objects.all())

    client.force_login(ops_user)
    page = client.get(reverse("orders:detail", args=[orders[0].pk]))
    assert orders[0].shipments.get().tracking_number in page.text
    timeline = [entry.title for entry in page.context["timeline"]]
    assert any("Accepted by the warehouse" in title for title in timeline)
    assert any("Fulfilled in Shopify" in title for title in timeline)


def test_a_partial_shipment_is_partially_shipped_then_shipped_and_fulfilled_twice(peers):
    (order,) = place_orders(1)
    while order.lines.count() < 2:  # a split needs two items; the seed gives several lines
        (order,) = place_orders(1)
    drain("shipbob")
    ship_now(seed=2, partial_rate=1.0)
    drain("receipts", "shopify")
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_SHIPPED
    assert order.shipments.count() == 1
    ship_now(seed=3)
    drain("receipts", "shopify")
    order.refresh_from_db()
    assert order.shipments.count() == 2
    assert order.status == Order.Status.FULFILLED
    assert StoreFulfillment.objects.filter(order__shopify_id=order.shopify_id).count() == 2


def test_the_poll_recovers_a_dropped_shipment_event(peers):
    (order,) = place_orders(1)
    drain("shipbob")
    ship_now(seed=4, drop_rate=1.0)
    drain("receipts")
    order.refresh_from_db()
    assert order.status == Order.Status.SUBMITTED  # the event never came
    shipments_poll_enqueue()
    drain("shipbob", "shopify")
    order.refresh_from_db()
    assert order.shipments.count() == 1
    assert order.status == Order.Status.FULFILLED


def test_a_cancellation_before_shipping_cancels_at_the_warehouse(peers):
    (order,) = place_orders(1)
    drain("shipbob")
    order.refresh_from_db()
    _cancel_in_shopify(order)
    drain("receipts", "shipbob")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert WarehouseOrder.objects.get(pk=order.warehouse_order_id).status == "Cancelled"
    assert order.events.filter(kind="warehouse.cancelled").exists()


def test_a_cancellation_after_shipping_raises_an_alert(peers):
    (order,) = place_orders(1)
    drain("shipbob")
    ship_now(seed=5)
    drain("receipts")
    order.refresh_from_db()
    _cancel_in_shopify(order)
    drain("receipts", "shipbob")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    message = OutboxMessage.objects.get(action="order_cancel")
    assert message.status == OutboxMessage.Status.DEAD
    alert = Alert.objects.get(kind="order.cancel_too_late")
    assert alert.severity == "critical"
    assert order.name in alert.message


def test_a_ready_order_cancelled_before_it_was_sent_never_reaches_the_warehouse(peers):
    (order,) = place_orders(1)
    _cancel_in_shopify(order)
    drain("receipts", "shipbob")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert not WarehouseOrder.objects.filter(reference_id=str(order.shopify_id)).exists()


def _cancel_in_shopify(order: Order) -> None:
    """Shopify cancels the order: deliver a signed orders/cancelled webhook from the stand-in's store."""
    from apps.sandbox.shopify.simulator import order_cancel_deliver

    order_cancel_deliver(shopify_id=order.shopify_id)
