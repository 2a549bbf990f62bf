"""Shipments → Shopify fulfillments with tracking (and the customer's shipping notification).

`fulfillmentCreate` has no idempotency key, so before every attempt the handler re-reads the
fulfillment orders' remaining quantities: units this shipment already fulfilled (a response lost
after Shopify applied it) are not sent again.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from apps.orders.events import order_event
from apps.orders.models import Order, Shipment, ShipmentLine
from apps.orders.shipping_status import order_status_from_shipments
from apps.sync.budgets import sync_rate_gate
from apps.sync.clients import client_options
from apps.sync.models import OutboxMessage
from apps.sync.outbox import Failed, Sent, outbox_action, outbox_enqueue
from integrations.http import PeerError
from integrations.shipbob.client import SHIPMENT_CANCELLED
from integrations.shopify.client import FulfillmentOrder, ShopifyClient, TrackingInfo

PEER = "shopify"
LANE_FULFILLMENT = 15


def shopify_client() -> ShopifyClient:
    return ShopifyClient.from_config(
        settings.SHOPIFY, rate_gate=sync_rate_gate(PEER), **client_options()
    )


def fulfillment_enqueue(*, shipment: Shipment) -> OutboxMessage:
    return outbox_enqueue(
        peer=PEER,
        action="fulfillment_create",
        idempotency_key=f"shopify.fulfillment_create:{shipment.shipbob_shipment_id}",
        payload={"shipment_id": shipment.pk, "order_id": shipment.order_id},
        priority=LANE_FULFILLMENT,
        subject=shipment.order,
    )


@dataclass(frozen=True)
class FulfillmentPlan:
    lines: list[tuple[str, list[tuple[str, int]]]]  # [(fulfillment order id, [(its line id, qty)])]
    already: bool  # an earlier attempt of this shipment was applied (its answer was lost)


def fulfillment_plan(
    *, shipment: Shipment, fulfillment_orders: list[FulfillmentOrder]
) -> FulfillmentPlan:
    """What to send for this shipment, given Shopify's remaining quantities now.

    Per line, units Shopify shows fulfilled beyond what our other fulfilled shipments account for
    were fulfilled by an earlier attempt of this one, and are not sent again.
    """
    ours = {
        sl.order_line.shopify_id: sl.quantity for sl in shipment.lines.select_related("order_line")
    }
    others_done = dict(
        ShipmentLine.objects.filter(
            shipment__order_id=shipment.order_id,
            shipment__fulfillment_status=Shipment.FulfillmentStatus.DONE,
        )
        .exclude(shipment=shipment)
        .values_list("order_line__shopify_id")
        .annotate(total=Sum("quantity"))
    )
    total_by_line: dict[int, int] = {}
    remaining_by_line: dict[int, int] = {}
    for fo in fulfillment_orders:
        for line in fo.lines:
            total_by_line[line.line_item_id] = (
                total_by_line.get(line.line_item_id, 0) + line.total_quantity
            )
            remaining_by_line[line.line_item_id] = (
                remaining_by_line.get(line.line_item_id, 0) + line.remaining_quantity
            )
    to_send: dict[int, int] = {}
    applied_before = True
    for line_id, quantity in ours.items():
        fulfilled = total_by_line.get(line_id, 0) - remaining_by_line.get(line_id, 0)
        already_ours = max(0, fulfilled - others_done.get(line_id, 0))
        applied_before = applied_before and already_ours >= quantity
        to_send[line_id] = max(0, quantity - already_ours)
    grouped: list[tuple[str, list[tuple[str, int]]]] = []
    for fo in fulfillment_orders:
        if not fo.fulfillable:
            continue
        items = []
        for line in fo.lines:
            quantity = min(to_send.get(line.line_item_id, 0), line.remaining_quantity)
            if quantity > 0:
                items.append((line.id, quantity))
                to_send[line.line_item_id] -= quantity
        if items:
            grouped.append((fo.id, items))
    return FulfillmentPlan(lines=grouped, already=applied_before and not grouped)


@transaction.atomic
def _fulfilled(message: OutboxMessage, result: dict) -> None:
    shipment = Shipment.objects.select_for_update().get(pk=message.payload["shipment_id"])
    if result.get("skipped"):
        shipment.fulfillment_status = Shipment.FulfillmentStatus.NOT_NEEDED
        shipment.save(update_fields=["fulfillment_status", "updated_at"])
        order_event(
            order=shipment.order,
            kind="shopify.fulfillment_skipped",
            message=f"Not fulfilled in Shopify: the warehouse reports the parcel {result['skipped']}",
            data=result,
        )
        return
    shipment.fulfillment_status = Shipment.FulfillmentStatus.DONE
    shipment.shopify_fulfillment_id = (
        result.get("fulfillment_id") or shipment.shopify_fulfillment_id
    )
    shipment.fulfillment_error = ""
    shipment.save(
        update_fields=[
            "fulfillment_status",
            "shopify_fulfillment_id",
            "fulfillment_error",
            "updated_at",
        ]
    )
    order = Order.objects.select_for_update().get(pk=shipment.order_id)
    order_event(
        order=order,
        kind="shopify.fulfilled",
        message=f"Fulfilled in Shopify with tracking {shipment.tracking_number}"
        + (" (already fulfilled)" if result.get("already") else ""),
        data=result,
    )
    order_status_from_shipments(order=order)


@transaction.atomic
def _fulfillment_dead(message: OutboxMessage, error: PeerError) -> None:
    shipment = Shipment.objects.select_for_update().get(pk=message.payload["shipment_id"])
    shipment.fulfillment_status = Shipment.FulfillmentStatus.FAILED
    shipment.fulfillment_error = error.message
    shipment.save(update_fields=["fulfillment_status", "fulfillment_error", "updated_at"])
    order_event(
        order=shipment.order,
        kind="shopify.fulfillment_failed",
        message=f"Shopify refused the fulfillment: {error.message}",
    )


@outbox_action(PEER, "fulfillment_create", on_done=_fulfilled, on_dead=_fulfillment_dead)
def shopify_fulfillment_create(messages: list[OutboxMessage]) -> list:
    outcomes = []
    with shopify_client() as client:
        for message in messages:
            shipment = Shipment.objects.select_related("order").get(
                pk=message.payload["shipment_id"]
            )
            if shipment.status == SHIPMENT_CANCELLED:  # voided before its fulfillment went out
                outcomes.append(Sent(result={"skipped": shipment.status}))
                continue
            gid = shipment.order.admin_graphql_api_id
            done = [
                f
                for f in client.order_fulfillments(gid)
                if shipment.tracking_number and shipment.tracking_number in f.tracking_numbers
            ]
            if (
                done
            ):  # this parcel's tracking is already on the order: an earlier attempt went through
                outcomes.append(Sent(result={"already": True, "fulfillment_id": done[0].id}))
                continue
            plan = fulfillment_plan(
                shipment=shipment, fulfillment_orders=client.fulfillment_orders(gid)
            )
            if plan.already:
                outcomes.append(Sent(result={"already": True}))
                continue
            if not plan.lines:
                error = PeerError(
                    PEER,
                    "nothing of this shipment is left to fulfil in Shopify (cancelled, refunded or fulfilled elsewhere)",
                    retryable=False,
                )
                outcomes.append(Failed(error=error))
                continue
            result = client.fulfillment_create(
                lines=plan.lines,
                tracking=TrackingInfo(
                    company=shipment.carrier,
                    number=shipment.tracking_number,
                    url=shipment.tracking_url,
                ),
                notify_customer=True,
            )
            if result.user_errors:
                error = PeerError(PEER, "; ".join(result.user_errors), retryable=False)
                outcomes.append(Failed(error=error))
                continue
            outcomes.append(
                Sent(result={"fulfillment_id": result.fulfillment_id, "status": result.status})
            )
    return outcomes
