"""The warehouse floor: ships submitted orders after a delay and tells the portal, as ShipBob does.

One `shipping_tick` picks orders half-way through the delay (from then on ShipBob refuses a
cancel), ships them after it — sometimes in two parcels, the second one delay later — puts some in
exception (out of stock) or cancels them instead, marks parcels delivered, and sends every owed event over real HTTP, signed with
Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`, `x-webhook-topic`).
Some deliveries are sent twice with the same webhook-id; some are dropped for good (the portal's
poll must find those). Undeliverable events are retried on the next ticks.
"""

import json
import logging
import random
import string
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.sandbox.shipbob import warehouse
from apps.sandbox.shipbob.models import (
    WarehouseOrder,
    WarehouseShipment,
    WarehouseShipmentProduct,
    WebhookEvent,
)
from integrations.shipbob.webhooks import webhook_sign

logger = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhooks/shipbob/"
MAX_SEND_ATTEMPTS = 8


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _usps(rng: random.Random) -> tuple[str, str, str, str]:
    number = "9400111" + _digits(rng, 15)
    url = f"https://tools.usps.com/go/TrackConfirmAction?tLabels={number}"
    return "USPS", "Ground Advantage", number, url


def _ups(rng: random.Random) -> tuple[str, str, str, str]:
    shipper = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(6))
    number = f"1Z{shipper}03{_digits(rng, 8)}"
    return "UPS", "Ground", number, f"https://www.ups.com/track?tracknum={number}"


def _fedex(rng: random.Random) -> tuple[str, str, str, str]:
    number = _digits(rng, 12)
    url = f"https://www.fedex.com/fedextrack/?trknbr={number}"
    return "FedEx", "Home Delivery", number, url


CARRIERS: tuple[tuple[Callable[[random.Random], tuple[str, str, str, str]], float], ...] = (
    (_usps, 0.6),
    (_ups, 0.3),
    (_fedex, 0.1),
)


def tracking_make(rng: random.Random) -> tuple[str, str, str, str]:
    """(carrier, service, tracking number, tracking URL), carriers weighted like a DTC warehouse."""
    makers, weights = zip(*CARRIERS, strict=True)
    return rng.choices(makers, weights=weights)[0](rng)


def _split(shipment: WarehouseShipment, *, ship_at: datetime) -> WarehouseShipment | None:
    """Move part of a parcel's products into a second parcel that ships later (None: nothing to
    split). Several lines: the later half goes; one line of quantity ≥ 2: part of it goes."""
    lines = list(shipment.products.all())
    if len(lines) >= 2:
        moving = [(line, line.quantity) for line in lines[(len(lines) + 1) // 2 :]]
    elif lines and lines[0].quantity >= 2:
        moving = [(lines[0], lines[0].quantity // 2)]
    else:
        return None
    rest = WarehouseShipment.objects.create(
        order=shipment.order,
        status_detail="Picked",
        ship_not_before=ship_at,
        created_at=shipment.updated_at,
        updated_at=shipment.updated_at,
    )
    for line, quantity in moving:
        WarehouseShipmentProduct.objects.create(
            shipment=rest,
            inventory_id=line.inventory_id,
            reference_id=line.reference_id,
            name=line.name,
            quantity=quantity,
        )
        if quantity == line.quantity:
            line.delete()
        else:
            line.quantity -= quantity
            line.save(update_fields=["quantity"])
    return rest


def _ship(shipment: WarehouseShipment, *, now: datetime, rng: random.Random) -> None:
    carrier, service, number, url = tracking_make(rng)
    shipment.status = WarehouseShipment.Status.COMPLETED
    shipment.status_detail = ""
    shipment.status_description = ""
    shipment.carrier, shipment.carrier_service = carrier, service
    shipment.tracking_number, shipment.tracking_url = number, url
    shipment.shipped_at = shipment.updated_at = now
    shipment.save()
    warehouse.stock_ship((p.inventory_id, p.quantity) for p in shipment.products.all())


def _order_touch(order_id: int, *, now: datetime) -> WarehouseOrder:
    order = warehouse.orders_with_lines().get(pk=order_id)
    warehouse.order_status_refresh(order)
    order.updated_at = now
    order.save(update_fields=["status", "updated_at"])
    return warehouse.orders_with_lines().get(pk=order_id)


# Why a parcel stops, as ShipBob's status details name it, and the event it announces.
STOPS = {
    WarehouseShipment.Status.EXCEPTION: (
        "OutOfStock",
        "No Stock On Hand For Sku",
        "order.shipment.exception",
    ),
    WarehouseShipment.Status.CANCELLED: (
        "Cancelled",
        "Cancelled by the warehouse",
        "order.shipment.cancelled",
    ),
}


def _parcel_stop(shipment: WarehouseShipment, *, now: datetime, status: str) -> None:
    """The parcel will not ship as is (Exception) or at all (Cancelled): say so in a signed event."""
    detail, description, topic = STOPS[status]
    shipment.status = status
    shipment.status_detail = detail
    shipment.status_description = description
    shipment.updated_at = now
    shipment.save()
    order = _order_touch(shipment.order_id, now=now)
    fresh = order.shipments.get(pk=shipment.pk)
    warehouse.event_queue(topic=topic, payload=warehouse.shipment_json(fresh, order), order=order)


def _ship_one(
    shipment_id: int,
    *,
    now: datetime,
    rng: random.Random,
    ship_after: timedelta,
    partial_rate: float,
    exception_rate: float,
    cancel_rate: float,
    result: dict,
) -> None:
    with transaction.atomic():
        shipment = (
            warehouse.locked(WarehouseShipment.objects.filter(pk=shipment_id))
            .select_related("order")
            .first()
        )
        # Re-checked under the lock: a cancel may have come in since the candidates were listed.
        if (
            shipment is None
            or shipment.status != WarehouseShipment.Status.PROCESSING
            or shipment.order.status == WarehouseOrder.Status.CANCELLED
        ):
            return
        first_parcel = shipment.ship_not_before is None
        if first_parcel and rng.random() < exception_rate:
            _parcel_stop(shipment, now=now, status=WarehouseShipment.Status.EXCEPTION)
            result["exceptions"] += 1
            return
        if first_parcel and rng.random() < cancel_rate:
            warehouse.stock_commit(
                ((p.inventory_id, p.quantity) for p in shipment.products.all()), sign=-1
            )
            _parcel_stop(shipment, now=now, status=WarehouseShipment.Status.CANCELLED)
            result["cancelled"] += 1
            return
        if first_parcel and rng.random() < partial_rate:
            shipment.updated_at = now
            if _split(shipment, ship_at=now + ship_after) is not None:
                result["split"] += 1
        _ship(shipment, now=now, rng=rng)
        order = _order_touch(shipment.order_id, now=now)
        warehouse.event_queue(
            topic="order.shipped", payload=warehouse.order_json(order), order=order
        )
        result["shipped"] += 1


def _deliver_one(shipment_id: int, *, now: datetime, result: dict) -> None:
    with transaction.atomic():
        updated = WarehouseShipment.objects.filter(pk=shipment_id, delivered_at=None).update(
            delivered_at=now, updated_at=now
        )
        if not updated:
            return
        shipment = WarehouseShipment.objects.get(pk=shipment_id)
        order = _order_touch(shipment.order_id, now=now)
        warehouse.event_queue(
            topic="order.shipment.delivered",
            payload=warehouse.shipment_json(order.shipments.get(pk=shipment_id), order),
            order=order,
        )
        result["delivered"] += 1


def webhook_body(event: WebhookEvent) -> bytes:
    return json.dumps(event.payload, separators=(",", ":")).encode()


def webhook_headers(event: WebhookEvent, body: bytes, *, secret: str | None = None) -> dict:
    """The headers ShipBob sends: Standard Webhooks signature (fresh timestamp) and the topic."""
    secret = secret if secret is not None else settings.SHIPBOB["WEBHOOK_SECRET"]
    timestamp = int(time.time())
    return {
        "Content-Type": "application/json",
        "User-Agent": "ShipBob-Webhooks/2026-07 (sandbox)",
        "webhook-id": event.webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_sign(
            secret=secret, msg_id=event.webhook_id, timestamp=timestamp, body=body
        ),
        "x-webhook-topic": event.topic,
    }


def events_send(
    *,
    url: str,
    rng: random.Random,
    duplicate_rate: float,
    drop_rate: float,
    client: httpx.Client,
    result: dict,
) -> None:
    pending = WebhookEvent.objects.filter(
        sent_at=None, dropped=False, attempts__lt=MAX_SEND_ATTEMPTS
    ).order_by("id")
    for event in list(pending):
        if event.attempts == 0 and rng.random() < drop_rate:
            WebhookEvent.objects.filter(pk=event.pk).update(dropped=True)
            result["dropped"] += 1
            continue
        copies = 2 if rng.random() < duplicate_rate else 1
        body = webhook_body(event)
        delivered = 0
        status = None
        for _ in range(copies):
            try:
                response = client.post(url, content=body, headers=webhook_headers(event, body))
                status = response.status_code
                delivered += response.is_success
            except httpx.HTTPError as error:
                logger.warning("shipbob stand-in: webhook %s failed: %s", event.webhook_id, error)
                status = None
        WebhookEvent.objects.filter(pk=event.pk).update(
            attempts=F("attempts") + 1,
            deliveries=F("deliveries") + delivered,
            last_status=status,
            sent_at=timezone.now() if delivered else None,
        )
        if delivered:
            result["sent"] += 1
            result["duplicates"] += delivered - 1
        else:
            result["failed"] += 1


def shipping_tick(
    *,
    now: datetime | None = None,
    ship_after_seconds: float | None = None,
    deliver_after_seconds: float | None = None,
    partial_rate: float | None = None,
    exception_rate: float | None = None,
    cancel_rate: float | None = None,
    duplicate_rate: float | None = None,
    drop_rate: float | None = None,
    seed: int | None = None,
    target_url: str | None = None,
    client: httpx.Client | None = None,
    send: bool = True,
) -> dict:
    """One pass of the warehouse; unset arguments come from settings.SANDBOX_SHIPBOB."""
    config = warehouse.sandbox_config()
    now = now or timezone.now()
    rng = random.Random(seed)  # noqa: S311 - a simulation, not security
    ship_after = timedelta(
        seconds=float(
            config["SHIP_AFTER_SECONDS"] if ship_after_seconds is None else ship_after_seconds
        )
    )
    deliver_after = timedelta(
        seconds=float(
            config["DELIVER_AFTER_SECONDS"]
            if deliver_after_seconds is None
            else deliver_after_seconds
        )
    )

    def rate(value: float | None, key: str) -> float:
        return float(config[key] if value is None else value)

    result = dict.fromkeys(
        (
            "picked",
            "shipped",
            "split",
            "exceptions",
            "cancelled",
            "delivered",
            "sent",
            "duplicates",
        ),
        0,
    )
    result.update(dropped=0, failed=0)
    open_orders = [WarehouseOrder.Status.PROCESSING, WarehouseOrder.Status.PARTIALLY_FULFILLED]
    # Picking starts half-way through the delay: from then on a cancel is refused.
    result["picked"] = WarehouseShipment.objects.filter(
        status=WarehouseShipment.Status.PROCESSING,
        status_detail="",
        ship_not_before=None,
        order__status__in=open_orders,
        order__created_at__lte=now - ship_after / 2,
    ).update(status_detail="Picked", updated_at=now)
    due = WarehouseShipment.objects.filter(
        status=WarehouseShipment.Status.PROCESSING, order__status__in=open_orders
    ).filter(
        # First parcels wait the order's delay; a split-off parcel waits for its own time.
        Q(ship_not_before=None, order__created_at__lte=now - ship_after)
        | Q(ship_not_before__lte=now)
    )
    for shipment_id in list(due.order_by("id").values_list("pk", flat=True)):
        _ship_one(
            shipment_id,
            now=now,
            rng=rng,
            ship_after=ship_after,
            partial_rate=rate(partial_rate, "PARTIAL_RATE"),
            exception_rate=rate(exception_rate, "EXCEPTION_RATE"),
            cancel_rate=rate(cancel_rate, "CANCEL_RATE"),
            result=result,
        )
    delivering = WarehouseShipment.objects.filter(
        status=WarehouseShipment.Status.COMPLETED,
        delivered_at=None,
        shipped_at__lte=now - deliver_after,
    )
    for shipment_id in list(delivering.order_by("id").values_list("pk", flat=True)):
        _deliver_one(shipment_id, now=now, result=result)
    if send:
        url = target_url or settings.O2C_PUBLIC_URL + WEBHOOK_PATH
        own = client is None
        client = client or httpx.Client(timeout=httpx.Timeout(5.0, connect=1.0))
        try:
            events_send(
                url=url,
                rng=rng,
                duplicate_rate=rate(duplicate_rate, "DUPLICATE_RATE"),
                drop_rate=rate(drop_rate, "DROP_RATE"),
                client=client,
                result=result,
            )
        finally:
            if own:
                client.close()
    return result


def shipping_tick_task() -> dict:
    """Demo schedule task (every minute): one warehouse pass with the SANDBOX_SHIPBOB settings."""
    return shipping_tick()
