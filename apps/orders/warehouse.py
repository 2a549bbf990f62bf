"""The warehouse (ShipBob) leg: submit ready orders, cancel, record shipments, poll for missed ones.

Every call to ShipBob is an outbox message on the `shipbob` pump, so one shared budget paces them
and the priorities are the lanes: order submission (10) and cancellation (10) before shipment polls
(20) before inventory (30). The ShipBob `reference_id` is the Shopify order id: a re-send after a
crash answers 422 "duplicate", which the client turns into the existing order.
"""

import logging
import os
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.inventory.services import shipping_method_for
from apps.orders.events import order_event
from apps.orders.fulfillment import fulfillment_enqueue
from apps.orders.models import Order, OrderLine, PollWatermark, Shipment, ShipmentLine
from apps.orders.shipping_status import order_status_from_shipments, shippable_lines_outstanding
from apps.sync.alerts import alert_kind_register, alert_raise
from apps.sync.budgets import sync_rate_gate
from apps.sync.clients import client_options
from apps.sync.models import OutboxMessage
from apps.sync.outbox import Failed, Sent, outbox_action, outbox_enqueue
from integrations.http import BudgetExhausted, PeerError
from integrations.shipbob.client import (
    SHIPMENT_CANCELLED,
    SHIPMENT_EXCEPTION,
    SHIPMENT_ON_HOLD,
    ShipBobClient,
    ShipBobNotCancellable,
    ShipBobOrder,
    ShipBobShipment,
    order_create_body,
)

logger = logging.getLogger(__name__)


alert_kind_register(
    "order.cancel_too_late",
    title="An order was cancelled after the warehouse started on it",
    severity="critical",
    resolves="by a person, once the parcel is stopped, intercepted or returned",
)
alert_kind_register(
    "shipment.exception",
    title="The carrier reports a problem with a parcel",
    severity="warning",
    resolves="by a person, once the customer is looked after",
)
alert_kind_register(
    "shipment.cancelled",
    title="The warehouse cancelled a parcel of an open order",
    severity="warning",
    resolves="by a person, once the order is re-sent or cancelled and the customer told",
)
alert_kind_register(
    "shipment.voided",
    title="A parcel recorded as shipped never shipped",
    severity="critical",
    resolves="by a person, once Shopify's fulfillment and the invoice are put right",
)

PEER = "shipbob"
LANE_ORDERS = 10
LANE_SHIPMENT_POLL = 20
POLL_WATERMARK = "shipbob.shipments"
POLL_OVERLAP = timedelta(minutes=10)
POLL_FIRST_LOOKBACK = timedelta(days=7)
# Creates claimed per pump step: one claim transaction serves several calls (the budget still paces
# each call; a crash re-sends at most this many, each answered 422 "duplicate").
ORDER_CREATE_BATCH = 10


_clients: dict[tuple, ShipBobClient] = {}


def shipbob_client() -> ShipBobClient:
    """This process's client for the current settings, built once and reused call after call.

    Building one costs ~20 ms (httpx loads its TLS context): at a full drain that is half of each
    call's share of the budget, and clients built per batch were never closed.
    """
    key = (os.getpid(), repr(sorted(settings.SHIPBOB.items())), repr(client_options()))
    client = _clients.get(key)
    if client is None or client.http.is_closed:
        _clients.clear()  # settings changed (tests) or the process forked: drop the old one
        client = _clients[key] = ShipBobClient.from_config(
            settings.SHIPBOB, rate_gate=sync_rate_gate(PEER), **client_options()
        )
    return client


# --- Submission ----------------------------------------------------------------------------------


def warehouse_order_body(order: Order) -> dict:
    """The ShipBob create-order body for an order whose lines all resolved (components expanded)."""
    products: dict[tuple[int | None, str], int] = {}
    lines = order.lines.select_related("sku_mapping").prefetch_related("sku_mapping__components")
    for line in lines:
        if not line.requires_shipping or line.quantity == 0 or line.sku_mapping is None:
            continue
        if not line.sku_mapping.warehouse_managed:
            continue
        for component in line.sku_mapping.components.all():
            key = (
                component.inventory_id,
                component.reference if component.inventory_id is None else "",
            )
            products[key] = products.get(key, 0) + component.quantity * line.quantity
    address = order.shipping_address or {}
    name = " ".join(filter(None, [address.get("first_name"), address.get("last_name")])).strip()
    recipient = {
        "name": name or order.customer_name or order.email,
        "address": {
            "address1": address.get("address1") or "",
            "address2": address.get("address2") or "",
            "company_name": address.get("company") or "",
            "city": address.get("city") or "",
            "state": address.get("province_code") or address.get("province") or "",
            "country": address.get("country_code") or address.get("country") or "",
            "zip_code": address.get("zip") or "",
        },
        "email": order.email,
        "phone_number": address.get("phone") or order.phone,
    }
    shipping = order.shipping_lines.all()
    method = shipping_method_for(codes_and_titles=[v for s in shipping for v in (s.code, s.title)])
    return order_create_body(
        reference_id=str(order.shopify_id),
        products=[
            (inventory_id, reference, qty) for (inventory_id, reference), qty in products.items()
        ],
        recipient=recipient,
        shipping_method=method,
    )


def _submission_key(order: Order) -> str:
    return f"shipbob.order_create:{order.shopify_id}"


def order_submission_enqueue(*, order: Order) -> OutboxMessage:
    """Queue the warehouse order for a ready order (in the caller's transaction).

    If an earlier message was skipped because the order was held again before it was sent, it is
    re-opened rather than duplicated: the idempotency key stays the Shopify order id.
    """
    payload = {
        "order_id": order.pk,
        "reference_id": str(order.shopify_id),
        "body": warehouse_order_body(order),
    }
    message = outbox_enqueue(
        peer=PEER,
        action="order_create",
        idempotency_key=_submission_key(order),
        payload=payload,
        priority=LANE_ORDERS,
        subject=order,
    )
    if message.status == OutboxMessage.Status.DONE and (message.result or {}).get("skipped"):
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxMessage.Status.PENDING,
            payload=payload,
            attempts=0,
            next_attempt_at=timezone.now(),
            result=None,
        )
    return message


@transaction.atomic
def _order_submitted(message: OutboxMessage, result: dict) -> None:
    if result.get("skipped"):
        return
    order = Order.objects.select_for_update().get(pk=message.payload["order_id"])
    order.warehouse_order_id = result["shipbob_order_id"]
    order.submitted_at = order.submitted_at or timezone.now()
    order.warehouse_error = ""
    previous = order.status
    if order.status == Order.Status.READY:
        order.status = Order.Status.SUBMITTED
    order.save(
        update_fields=[
            "warehouse_order_id",
            "submitted_at",
            "warehouse_error",
            "status",
            "updated_at",
        ]
    )
    order_event(
        order=order,
        kind="warehouse.submitted",
        message=f"Accepted by the warehouse as ShipBob order {order.warehouse_order_id}"
        + (" (it already had it)" if result.get("existed") else ""),
        data={"from": previous, "to": order.status, **result},
    )
    if order.status == Order.Status.CANCELLED:
        # Shopify cancelled it while the create was in flight: cancel at the warehouse too.
        order_cancellation_enqueue(order=order)


@transaction.atomic
def _order_submit_dead(message: OutboxMessage, error: PeerError) -> None:
    order = Order.objects.select_for_update().get(pk=message.payload["order_id"])
    order.warehouse_error = error.message
    order.save(update_fields=["warehouse_error", "updated_at"])
    order_event(
        order=order,
        kind="warehouse.refused",
        message=f"The warehouse refused the order: {error.message}",
    )


@outbox_action(
    PEER,
    "order_create",
    batch_size=ORDER_CREATE_BATCH,
    on_done=_order_submitted,
    on_dead=_order_submit_dead,
)
def shipbob_order_create(messages: list[OutboxMessage]) -> list:
    """One create per message, in order; each message gets its own outcome.

    A spent or frozen budget (or a 429) puts the rest of the batch back untried, at no attempt.
    """
    outcomes: list = []
    client = shipbob_client()
    orders = Order.objects.in_bulk([message.payload["order_id"] for message in messages])
    for index, message in enumerate(messages):
        order = orders[message.payload["order_id"]]
        if order.status != Order.Status.READY:
            # Held again or cancelled before it left: nothing to send (re-opened if it becomes ready).
            outcomes.append(Sent(result={"skipped": order.status}))
            continue
        try:
            # Built from the order as it is now (address or lines may have changed since it was queued).
            remote: ShipBobOrder = client.order_create(warehouse_order_body(order))
        except PeerError as error:
            outcomes.append(Failed(error))
            if isinstance(error, BudgetExhausted) or error.status_code == 429:
                later = BudgetExhausted(PEER, retry_after=error.retry_after or 1.0)
                outcomes.extend(Failed(later) for _ in messages[index + 1 :])
                break
            continue
        outcomes.append(Sent(result={"shipbob_order_id": remote.id, "existed": remote.existed}))
    return outcomes


# --- Cancellation --------------------------------------------------------------------------------


def order_cancellation_enqueue(*, order: Order) -> OutboxMessage | None:
    """Ask the warehouse to cancel an order it holds (in the caller's transaction)."""
    if order.warehouse_order_id is None:
        return None
    return outbox_enqueue(
        peer=PEER,
        action="order_cancel",
        idempotency_key=f"shipbob.order_cancel:{order.shopify_id}",
        payload={"order_id": order.pk, "shipbob_order_id": order.warehouse_order_id},
        priority=LANE_ORDERS,
        subject=order,
    )


@transaction.atomic
def _order_cancelled_at_warehouse(message: OutboxMessage, result: dict) -> None:
    order = Order.objects.get(pk=message.payload["order_id"])
    order_event(
        order=order, kind="warehouse.cancelled", message="Cancelled at the warehouse", data=result
    )


@transaction.atomic
def _order_cancel_too_late(message: OutboxMessage, error: PeerError) -> None:
    order = Order.objects.get(pk=message.payload["order_id"])
    order_event(
        order=order,
        kind="warehouse.cancel_failed",
        message=f"Could not cancel at the warehouse: {error.message}",
    )
    link = reverse("orders:detail", args=[order.pk])
    transaction.on_commit(
        lambda: alert_raise(
            kind="order.cancel_too_late",
            severity="critical",
            dedupe_key=f"order.cancel_too_late:{order.shopify_id}",
            message=f"Order {order.name} was cancelled in Shopify but the warehouse could not cancel it "
            f"({error.message}). Intercept the parcel or arrange a return.",
            link=link,
        )
    )


@outbox_action(
    PEER, "order_cancel", on_done=_order_cancelled_at_warehouse, on_dead=_order_cancel_too_late
)
def shipbob_order_cancel(messages: list[OutboxMessage]) -> list:
    client = shipbob_client()
    outcomes = []
    for message in messages:
        try:
            remote = client.order_cancel(message.payload["shipbob_order_id"])
        except ShipBobNotCancellable as error:
            outcomes.append(Failed(error=error))
            continue
        outcomes.append(Sent(result={"shipbob_status": remote.status}))
    return outcomes


# --- Shipments -----------------------------------------------------------------------------------

# Apps above orders (invoicing) react to a new parcel inside the transaction that records it.
SHIPMENT_RECORDED_HOOKS: list[Callable[[Shipment], object]] = []
# …and to a parcel recorded as shipped that the warehouse later reports cancelled (never shipped):
# called with the Shipment, already marked Cancelled, inside the transaction that voids it.
SHIPMENT_VOIDED_HOOKS: list[Callable[[Shipment], object]] = []


def on_shipment_recorded(hook: Callable[[Shipment], object]) -> Callable[[Shipment], object]:
    if hook not in SHIPMENT_RECORDED_HOOKS:
        SHIPMENT_RECORDED_HOOKS.append(hook)
    return hook


def on_shipment_voided(hook: Callable[[Shipment], object]) -> Callable[[Shipment], object]:
    if hook not in SHIPMENT_VOIDED_HOOKS:
        SHIPMENT_VOIDED_HOOKS.append(hook)
    return hook


def _product_key(inventory_id: int | None, reference_id: str) -> str:
    return str(inventory_id) if inventory_id is not None else reference_id


def _allocate(order: Order) -> dict[OrderLine, int]:
    """Which Shopify line units the order's newest parcel completes, from the warehouse items shipped.

    Counted over all the order's parcels, so items an earlier parcel carried but could not yet make
    a whole unit of (half a bundle) still count. Bundles are matched first: a plain line sharing a
    component with a bundle must not take the bundle's item.
    """
    available: dict[str, int] = {}
    for parcel in order.shipments.exclude(status=SHIPMENT_CANCELLED):
        for product in parcel.products:
            key = _product_key(product.get("inventory_id"), product.get("reference_id", ""))
            available[key] = available.get(key, 0) + int(product.get("quantity", 0))
    used = ShipmentLine.objects.filter(shipment__order=order).exclude(
        shipment__status=SHIPMENT_CANCELLED
    )
    for shipped in used.select_related("order_line__sku_mapping").prefetch_related(
        "order_line__sku_mapping__components"
    ):
        for component in shipped.order_line.sku_mapping.components.all():
            key = component.warehouse_key
            available[key] = available.get(key, 0) - shipped.quantity * component.quantity
    needs = sorted(
        shippable_lines_outstanding(order),
        key=lambda need: (-len(need[1]), -sum(need[1].values()), need[0].pk),
    )
    allocation = {}
    for line, per_unit, remaining in needs:
        units = min([remaining] + [max(0, available.get(k, 0)) // q for k, q in per_unit.items()])
        if units > 0:
            allocation[line] = units
            for key, qty in per_unit.items():
                available[key] -= units * qty
    return allocation


def _order_of_parcel(reference_id: str, shipbob_order_id: int | None) -> Order:
    """The order a ShipBob event is about, locked; LookupError when it is not ours."""
    order = (
        Order.objects.select_for_update().filter(shopify_id=int(reference_id)).first()
        if reference_id.isdigit()
        else None
    )
    if order is None and shipbob_order_id:
        order = (
            Order.objects.select_for_update().filter(warehouse_order_id=shipbob_order_id).first()
        )
    if order is None:
        raise LookupError(
            f"no order for ShipBob reference {reference_id!r} / order {shipbob_order_id}"
        )
    if order.warehouse_order_id is None and shipbob_order_id:
        # The create's answer was lost in a crash; the parcel tells us the id.
        order.warehouse_order_id = shipbob_order_id
        order.save(update_fields=["warehouse_order_id", "updated_at"])
    if order.status in (Order.Status.READY, Order.Status.RECEIVED, Order.Status.HELD):
        order.status = Order.Status.SUBMITTED
        order.save(update_fields=["status", "updated_at"])
    return order


def _parcel_alert(
    *, order: Order, kind: str, severity: str, shipment_id: int, message: str
) -> None:
    link = reverse("orders:detail", args=[order.pk])
    transaction.on_commit(
        lambda: alert_raise(
            kind=kind,
            severity=severity,
            dedupe_key=f"{kind}:{shipment_id}",
            message=f"Order {order.name}: {message}",
            link=link,
        )
    )


def _cancelled_before(order: Order, shipment_id: int) -> bool:
    return order.events.filter(
        kind="warehouse.shipment_cancelled", data__shipment_id=shipment_id
    ).exists()


def _parcel_not_shipped(
    *, order: Order, record: Shipment | None, shipment: ShipBobShipment, topic: str
) -> Shipment | None:
    """A parcel the warehouse says has not left (Processing, On Hold, Exception, Cancelled, or a
    status we do not know): on the timeline only — no Shipment, fulfillment or invoice draft — and
    an alert where a person must act. A parcel recorded as shipped and now Cancelled is voided."""
    status = shipment.status or "(no status)"
    details = shipment.exception or status
    data = {"shipment_id": shipment.id, "status": shipment.status, "topic": topic}
    if record is not None and shipment.status == SHIPMENT_CANCELLED:
        if record.status == SHIPMENT_CANCELLED:
            return record  # a repeat of the news
        record.status = SHIPMENT_CANCELLED
        record.exception = details
        record.save(update_fields=["status", "exception", "updated_at"])
        order_event(
            order=order,
            kind="warehouse.shipment_voided",
            message=f"The warehouse cancelled parcel {shipment.id}, recorded as shipped "
            f"({record.carrier} {record.tracking_number}): it did not ship",
            data=data,
        )
        for hook in SHIPMENT_VOIDED_HOOKS:
            hook(record)
        told = record.fulfillment_status == Shipment.FulfillmentStatus.DONE
        _parcel_alert(
            order=order,
            kind="shipment.voided",
            severity="critical",
            shipment_id=shipment.id,
            message=f"parcel {shipment.id} was recorded as shipped but the warehouse cancelled it"
            + (
                "; Shopify shows it fulfilled and the customer was told. Cancel that fulfillment "
                "in Shopify and contact the customer."
                if told
                else "; it was not fulfilled in Shopify."
            ),
        )
        return record
    if record is not None:
        # Already on its way: a later Exception / On Hold is news for a person, not a void.
        record.exception = details
        record.save(update_fields=["exception", "updated_at"])
        order_event(
            order=order,
            kind="warehouse.exception",
            message=f"The warehouse reports shipped parcel {shipment.id} as {status}: {details}",
            data=data,
        )
        _parcel_alert(
            order=order,
            kind="shipment.exception",
            severity="warning",
            shipment_id=shipment.id,
            message=f"the warehouse reports shipped parcel {shipment.id} as {status} ({details}).",
        )
        return record
    if shipment.status == SHIPMENT_CANCELLED:
        order_event(
            order=order,
            kind="warehouse.shipment_cancelled",
            message=f"The warehouse cancelled parcel {shipment.id}: nothing shipped ({details})",
            data=data,
        )
        if order.status != Order.Status.CANCELLED:  # we did not ask for it: the customer waits
            _parcel_alert(
                order=order,
                kind="shipment.cancelled",
                severity="warning",
                shipment_id=shipment.id,
                message=f"the warehouse cancelled parcel {shipment.id} of an open order "
                f"({details}); nothing was shipped or invoiced.",
            )
        return None
    order_event(
        order=order,
        kind="warehouse.exception" if shipment.status == SHIPMENT_EXCEPTION else "warehouse.status",
        message=f"The warehouse reports parcel {shipment.id} as {status}: {details}"
        if shipment.exception
        else f"The warehouse reports parcel {shipment.id} as {status}",
        data=data,
    )
    if shipment.status in (SHIPMENT_EXCEPTION, SHIPMENT_ON_HOLD):
        _parcel_alert(
            order=order,
            kind="shipment.exception",
            severity="warning",
            shipment_id=shipment.id,
            message=f"the warehouse cannot ship parcel {shipment.id} as is: {status} ({details}).",
        )
    return None


def _parcel_shipped(
    *, order: Order, record: Shipment | None, shipment: ShipBobShipment, topic: str
) -> Shipment | None:
    """A parcel that has left the warehouse: new → lines, Shopify fulfillment, invoice hooks."""
    if record is None and _cancelled_before(order, shipment.id):
        # Events arrive out of order; ShipBob never ships a cancelled parcel.
        order_event(
            order=order,
            kind="warehouse.stale",
            message=f"Ignored a late 'shipped' copy of parcel {shipment.id}: it was cancelled",
            data={"shipment_id": shipment.id, "topic": topic},
        )
        return None
    if record is not None and record.status == SHIPMENT_CANCELLED:
        return record  # voided: Cancelled is final at ShipBob, a late copy does not revive it
    created = record is None
    if record is None:
        record = Shipment(
            order=order,
            shipbob_shipment_id=shipment.id,
            shipbob_order_id=order.warehouse_order_id,
            products=[
                {
                    "inventory_id": p.inventory_id,
                    "reference_id": p.reference_id,
                    "quantity": p.quantity,
                }
                for p in shipment.products
            ],
        )
    record.status = shipment.status
    record.carrier = shipment.carrier or record.carrier
    record.tracking_number = shipment.tracking_number or record.tracking_number
    record.tracking_url = shipment.tracking_url or record.tracking_url
    record.shipped_at = shipment.shipped_at or record.shipped_at
    record.delivered_at = shipment.delivered_at or record.delivered_at
    record.save()
    if created:
        allocation = _allocate(order)
        ShipmentLine.objects.bulk_create(
            ShipmentLine(shipment=record, order_line=line, quantity=units)
            for line, units in allocation.items()
        )
        order_event(
            order=order,
            kind="warehouse.shipped",
            message=f"Shipped {sum(allocation.values())} unit(s) by {record.carrier} {record.tracking_number}",
            data={"shipment_id": shipment.id, "topic": topic},
        )
        if allocation and order.status != Order.Status.CANCELLED:
            fulfillment_enqueue(shipment=record)
        else:  # nothing to tell Shopify: no whole unit in it, or the order was cancelled
            record.fulfillment_status = Shipment.FulfillmentStatus.NOT_NEEDED
            record.save(update_fields=["fulfillment_status"])
        if allocation:
            for hook in SHIPMENT_RECORDED_HOOKS:
                hook(record)
    elif topic.endswith("delivered") and shipment.delivered_at:
        order_event(
            order=order,
            kind="warehouse.delivered",
            message=f"Delivered ({record.tracking_number})",
        )
    return record


def shipment_record(
    *, reference_id: str, shipbob_order_id: int | None, shipment: ShipBobShipment, topic: str
) -> Shipment | None:
    """Apply news of a parcel from a webhook or the poll; idempotent on the shipment id.

    Only a parcel in a shipped status becomes a Shipment (with its lines, Shopify fulfillment and
    invoice hooks, in one transaction); anything else goes on the order's timeline (see
    `_parcel_not_shipped`). Returns the Shipment, or None when there is none.
    """
    with transaction.atomic():
        order = _order_of_parcel(reference_id, shipbob_order_id)
        record = (
            Shipment.objects.select_for_update().filter(shipbob_shipment_id=shipment.id).first()
        )
        apply = _parcel_shipped if shipment.shipped else _parcel_not_shipped
        record = apply(order=order, record=record, shipment=shipment, topic=topic)
        order_status_from_shipments(order=order)
    return record


# --- Polling fallback ----------------------------------------------------------------------------


def shipments_poll_enqueue() -> OutboxMessage:
    """Scheduled: queue one poll per minute bucket on the ShipBob lane (after order submissions)."""
    bucket = timezone.now().strftime("%Y-%m-%dT%H:%M")
    return outbox_enqueue(
        peer=PEER,
        action="shipments_poll",
        idempotency_key=f"shipbob.shipments_poll:{bucket}",
        payload={},
        priority=LANE_SHIPMENT_POLL,
    )


@outbox_action(PEER, "shipments_poll")
def shipbob_shipments_poll(messages: list[OutboxMessage]) -> list:
    """Read orders the warehouse updated since the watermark and record parcels we never heard of."""
    client = shipbob_client()
    started = timezone.now()
    mark = PollWatermark.objects.filter(name=POLL_WATERMARK).first()
    since = (mark.value - POLL_OVERLAP) if mark else started - POLL_FIRST_LOOKBACK
    known = 0
    recorded = 0
    page: int | None = 1
    while page:
        result = client.orders_updated_since(since, page=page)
        seen = dict(
            Shipment.objects.filter(
                shipbob_shipment_id__in=[s.id for r in result.orders for s in r.shipments]
            ).values_list("shipbob_shipment_id", "status")
        )
        for remote in result.orders:
            for shipment in remote.shipments:
                # New parcels on their way, and recorded ones the warehouse has since cancelled.
                if shipment.shipped:
                    news = shipment.id not in seen
                else:
                    news = (
                        shipment.status == SHIPMENT_CANCELLED
                        and seen.get(shipment.id, SHIPMENT_CANCELLED) != SHIPMENT_CANCELLED
                    )
                if not news:
                    known += shipment.id in seen
                    continue
                try:
                    shipment_record(
                        reference_id=remote.reference_id,
                        shipbob_order_id=remote.id,
                        shipment=shipment,
                        topic="poll",
                    )
                    recorded += 1
                except LookupError:
                    logger.warning(
                        "ShipBob order %s (%s) is not ours", remote.id, remote.reference_id
                    )
        page = result.next_page
    PollWatermark.objects.update_or_create(name=POLL_WATERMARK, defaults={"value": started})
    return [Sent(result={"recorded": recorded, "known": known})] + [
        Sent(result={"merged_into": messages[0].pk}) for _ in messages[1:]
    ]


def shipments_poll_task() -> dict:
    message = shipments_poll_enqueue()
    return {"message": message.pk}
