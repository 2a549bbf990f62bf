"""The ShipBob stand-in's behaviour: creating and cancelling orders, stock, JSON shapes, the window.

Shapes follow ShipBob's order and shipment view models (see integrations/shipbob/client.py).
Everything that changes an order bumps its `updated_at`, which is what `LastUpdateStartDate` reads.
"""

import math
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.sandbox.shipbob.models import (
    InventoryItem,
    OrderCreateAttempt,
    RateWindow,
    WarehouseOrder,
    WarehouseOrderProduct,
    WarehouseShipment,
    WarehouseShipmentProduct,
    WebhookEvent,
)

DEFAULTS = {
    "WINDOW_SECONDS": 60.0,
    "LIMIT": 150,
    "SHIP_AFTER_SECONDS": 30.0,
    "DELIVER_AFTER_SECONDS": 120.0,
    "PARTIAL_RATE": 0.15,
    "EXCEPTION_RATE": 0.03,
    # Parcels the warehouse itself cancels before they ship (order.shipment.cancelled).
    "CANCEL_RATE": 0.01,
    "DUPLICATE_RATE": 0.1,
    "DROP_RATE": 0.05,
}
DUPLICATE_MESSAGE = "Cannot insert order with existing ReferenceId"
LOCATION = {"id": 7, "name": "Cicero (IL)"}
# Shipments past these details have been picked: ShipBob no longer lets them be cancelled.
PICKED_DETAILS = frozenset({"Picked", "Packed"})


def sandbox_config() -> dict:
    return {**DEFAULTS, **getattr(settings, "SANDBOX_SHIPBOB", {})}


def stamp(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def locked(queryset):
    return queryset.select_for_update() if connection.features.has_select_for_update else queryset


# --- the sliding window ---------------------------------------------------------------------------
@dataclass(frozen=True)
class WindowAnswer:
    allowed: bool
    remaining: int
    retry_after: int = 0


def window_take(*, key: str) -> WindowAnswer:
    """Count one call in the key's sliding window, or refuse it (429) with the wait until a slot.

    The row is locked (SELECT … FOR UPDATE; SQLite's BEGIN IMMEDIATE) so every process shares it.
    """
    config = sandbox_config()
    window, limit = float(config["WINDOW_SECONDS"]), int(config["LIMIT"])
    with transaction.atomic():
        RateWindow.objects.bulk_create([RateWindow(key=key)], ignore_conflicts=True)
        row = locked(RateWindow.objects.filter(key=key)).get()
        now = time.time()  # read after the lock: the last holder's calls are all in the past
        stamps = sorted(s for s in row.stamps if s > now - window)
        if len(stamps) < limit:
            stamps.append(now)
            row.calls_total += 1
            answer = WindowAnswer(True, limit - len(stamps))
        else:
            row.throttled_total += 1
            wait = max(1, math.ceil(stamps[0] + window - now))
            answer = WindowAnswer(False, 0, wait)
        row.stamps = stamps
        row.updated_at = timezone.now()
        row.save()
    return answer


# --- stock ----------------------------------------------------------------------------------------
# One SKU starts short so the demo shows it running low (and its sell-out ETA) within minutes.
DEMO_SHORT_STOCK = {"TEE-BLK-M": 45}


def inventory_seed() -> int:
    """The demo catalogue's single items at their warehouse ids (bundles ship as components)."""
    from apps.sandbox.catalogue import warehouse_items

    rows = [
        InventoryItem(
            inventory_id=inventory_id,
            sku=item.sku,
            name=f"{item.title} {item.variant_title}".strip(),
            on_hand=DEMO_SHORT_STOCK.get(item.sku, 500 - 40 * index),
        )
        for index, (inventory_id, item) in enumerate(warehouse_items())
    ]
    before = InventoryItem.objects.count()
    InventoryItem.objects.bulk_create(rows, ignore_conflicts=True)
    return InventoryItem.objects.count() - before


def inventory_ensure() -> None:
    if not InventoryItem.objects.exists():
        inventory_seed()


def stock_commit(lines: Iterable[tuple[int, int]], *, sign: int) -> None:
    for inventory_id, quantity in lines:
        InventoryItem.objects.filter(inventory_id=inventory_id).update(
            committed=F("committed") + sign * quantity
        )


def stock_restock(*, inventory_id: int, quantity: int) -> InventoryItem:
    """Goods received at the warehouse: on hand (and so fulfillable) goes up."""
    if quantity < 1:
        raise ValueError("restock at least one unit")
    with transaction.atomic():
        item = locked(InventoryItem.objects.filter(inventory_id=inventory_id)).get()
        item.on_hand += quantity
        item.save(update_fields=["on_hand"])
    return item


def stock_ship(lines: Iterable[tuple[int, int]]) -> None:
    for inventory_id, quantity in lines:
        InventoryItem.objects.filter(inventory_id=inventory_id).update(
            committed=F("committed") - quantity, on_hand=F("on_hand") - quantity
        )


# --- JSON shapes ----------------------------------------------------------------------------------
def problem(status: int, errors: dict[str, list[str]], title: str = "") -> dict:
    """ASP.NET ValidationProblemDetails, which is what ShipBob's API answers errors with."""
    return {
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title": title or "One or more validation errors occurred.",
        "status": status,
        "errors": errors,
    }


def shipment_json(shipment: WarehouseShipment, order: WarehouseOrder) -> dict:
    products: dict[tuple[str, int], dict] = {}
    for line in shipment.products.all():
        products[(line.reference_id, line.inventory_id)] = {
            "id": line.inventory_id,
            "reference_id": line.reference_id,
            "name": line.name,
            "sku": line.reference_id,
            "inventory_items": [
                {"id": line.inventory_id, "name": line.name, "quantity": line.quantity}
            ],
        }
    details = []
    if shipment.status_detail:
        details.append(
            {
                "id": 1,
                "name": shipment.status_detail,
                "description": shipment.status_description or shipment.status_detail,
                "inventory_id": None,
            }
        )
    tracking = None
    if shipment.tracking_number:
        tracking = {
            "carrier": shipment.carrier,
            "carrier_service": shipment.carrier_service,
            "tracking_number": shipment.tracking_number,
            "tracking_url": shipment.tracking_url,
            "shipping_date": stamp(shipment.shipped_at),
            "bol": None,
            "pro_number": None,
            "scac": None,
        }
    return {
        "id": shipment.pk,
        "order_id": order.pk,
        "reference_id": order.reference_id,
        "recipient": order.recipient,
        "created_date": stamp(shipment.created_at),
        "last_update_at": stamp(shipment.updated_at),
        "last_tracking_update_at": stamp(shipment.shipped_at),
        "status": shipment.status,
        "status_details": details,
        "location": LOCATION,
        "ship_option": order.shipping_method,
        "tracking": tracking,
        "products": list(products.values()),
        "estimated_fulfillment_date": None,
        "actual_fulfillment_date": stamp(shipment.shipped_at),
        "estimated_fulfillment_date_status": "Unavailable",
        "is_tracking_uploaded": False,
        "delivery_date": stamp(shipment.delivered_at),
        "require_signature": False,
        "gift_message": None,
    }


def order_json(order: WarehouseOrder) -> dict:
    return {
        "id": order.pk,
        "created_date": stamp(order.created_at),
        "purchase_date": None,
        "reference_id": order.reference_id,
        "order_number": order.order_number or order.reference_id,
        "status": order.status,
        "type": order.order_type,
        "channel": {"id": int(order.channel_id or 0), "name": "O2C Portal"},
        "shipping_method": order.shipping_method,
        "recipient": order.recipient,
        "products": [
            {
                "id": line.inventory_id,
                "reference_id": line.reference_id,
                "sku": line.reference_id,
                "name": line.name,
                "quantity": line.quantity,
                "quantity_unit_of_measure_code": None,
                "external_line_id": index,
            }
            for index, line in enumerate(order.products.all(), start=1)
        ],
        "tags": [],
        "shipments": [shipment_json(s, order) for s in order.shipments.all()],
        "gift_message": None,
        "shipping_terms": {"carrier_type": "Parcel", "payment_term": "MerchantResponsible"},
    }


def orders_with_lines():
    return WarehouseOrder.objects.prefetch_related("products", "shipments__products")


# --- orders ---------------------------------------------------------------------------------------
class OrderRefused(Exception):
    def __init__(self, status: int, body: dict) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


def attempt_count(*, reference_id: str) -> None:
    """One more POST for this reference_id (counted before anything can refuse it)."""
    now = timezone.now()
    OrderCreateAttempt.objects.bulk_create(
        [OrderCreateAttempt(reference_id=reference_id, attempts=0, first_at=now, last_at=now)],
        ignore_conflicts=True,
    )
    OrderCreateAttempt.objects.filter(reference_id=reference_id).update(
        attempts=F("attempts") + 1, last_at=now
    )


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def order_body_errors(body) -> dict[str, list[str]]:
    """Model-binding checks (400): the required fields and their lengths."""
    if not isinstance(body, dict):
        return {"": ["A non-empty request body is required."]}
    errors: dict[str, list[str]] = {}
    reference = body.get("reference_id")
    if not isinstance(reference, str) or not 1 <= len(reference) <= 300:
        errors["ReferenceId"] = ["The field ReferenceId must be a string of 1 to 300 characters."]
    if not _text(body.get("shipping_method")):
        errors["ShippingMethod"] = ["The ShippingMethod field is required."]
    if body.get("type") not in ("DTC", "DropShip", "B2B"):
        errors["Type"] = ["The Type field must be one of DTC, DropShip, B2B."]
    recipient = body.get("recipient")
    if not isinstance(recipient, dict):
        errors["Recipient"] = ["The Recipient field is required."]
    else:
        if not _text(recipient.get("name")):
            errors["Recipient.Name"] = ["The Name field is required."]
        address = recipient.get("address")
        if not isinstance(address, dict):
            errors["Recipient.Address"] = ["The Address field is required."]
        else:
            for key, label in (("address1", "Address1"), ("city", "City"), ("country", "Country")):
                if not _text(address.get(key)):
                    errors[f"Recipient.Address.{label}"] = [f"The {label} field is required."]
    products = body.get("products")
    if not isinstance(products, list) or not products:
        errors["Products"] = ["The Products field is required."]
    else:
        for index, product in enumerate(products):
            if not isinstance(product, dict):
                errors[f"Products[{index}]"] = ["Each product must be an object."]
                continue
            quantity = product.get("quantity")
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
                errors[f"Products[{index}].Quantity"] = ["Quantity must be at least 1."]
            if (
                product.get("inventory_id") is None
                and product.get("id") is None
                and not _text(product.get("reference_id"))
            ):
                errors[f"Products[{index}]"] = ["Either Id or ReferenceId is required."]
    return errors


@dataclass
class _Line:
    inventory_id: int
    reference_id: str
    name: str
    quantity: int
    extra: dict = field(default_factory=dict)


def _lines_resolve(products: list[dict]) -> list[_Line]:
    """Products to inventory items: by inventory_id (or ShipBob's product `id`), else by SKU."""
    inventory_ensure()
    lines = []
    for index, product in enumerate(products):
        given = product.get("inventory_id", product.get("id"))
        reference = _text(product.get("reference_id"))
        if given is not None:
            item = InventoryItem.objects.filter(inventory_id=int(given)).first()
            if item is None:
                raise OrderRefused(
                    422,
                    problem(
                        422,
                        {f"Products[{index}]": [f"Inventory item {given} does not exist."]},
                        "Unprocessable Entity",
                    ),
                )
        else:
            item = InventoryItem.objects.filter(sku=reference).first()
            if item is None:
                name = _text(product.get("name"))
                if not name:
                    raise OrderRefused(
                        422,
                        problem(
                            422,
                            {
                                f"Products[{index}].Name": [
                                    f"No product with reference id {reference}: "
                                    "a name is required to create it."
                                ]
                            },
                            "Unprocessable Entity",
                        ),
                    )
                # ShipBob creates an unknown reference_id's product when it comes with a name.
                top = InventoryItem.objects.order_by("-inventory_id").first()
                item = InventoryItem.objects.create(
                    inventory_id=(top.inventory_id + 1) if top else 800001, sku=reference, name=name
                )
        lines.append(
            _Line(item.inventory_id, reference or item.sku, item.name, product["quantity"])
        )
    return lines


def order_create(*, body: dict, channel_id: str) -> WarehouseOrder:
    """Create the order with one Processing shipment holding every product; OrderRefused if not."""
    reference = body["reference_id"]
    if WarehouseOrder.objects.filter(reference_id=reference).exists():
        raise _duplicate(reference)
    lines = _lines_resolve(body["products"])
    now = timezone.now()
    try:
        with transaction.atomic():
            order = WarehouseOrder.objects.create(
                reference_id=reference,
                order_number=_text(body.get("order_number"))[:400],
                channel_id=channel_id,
                order_type=body["type"],
                shipping_method=_text(body["shipping_method"])[:100],
                recipient=body["recipient"],
                created_at=now,
                updated_at=now,
            )
            WarehouseOrderProduct.objects.bulk_create(
                WarehouseOrderProduct(
                    order=order,
                    inventory_id=line.inventory_id,
                    reference_id=line.reference_id,
                    name=line.name,
                    quantity=line.quantity,
                )
                for line in lines
            )
            shipment = WarehouseShipment.objects.create(order=order, created_at=now, updated_at=now)
            WarehouseShipmentProduct.objects.bulk_create(
                WarehouseShipmentProduct(
                    shipment=shipment,
                    inventory_id=line.inventory_id,
                    reference_id=line.reference_id,
                    name=line.name,
                    quantity=line.quantity,
                )
                for line in lines
            )
            stock_commit(((line.inventory_id, line.quantity) for line in lines), sign=1)
            OrderCreateAttempt.objects.filter(reference_id=reference).update(
                created=F("created") + 1
            )
    except IntegrityError:
        # Two creates of one reference_id raced: the loser gets what a late duplicate gets.
        raise _duplicate(reference) from None
    return orders_with_lines().get(pk=order.pk)


def _duplicate(reference: str) -> OrderRefused:
    OrderCreateAttempt.objects.filter(reference_id=reference).update(duplicates=F("duplicates") + 1)
    return OrderRefused(
        422, problem(422, {"ReferenceId": [DUPLICATE_MESSAGE]}, "Unprocessable Entity")
    )


def order_status_refresh(order: WarehouseOrder) -> None:
    """The order's status from its shipments, as ShipBob derives it."""
    shipments = list(order.shipments.all())
    live = [s for s in shipments if s.status != WarehouseShipment.Status.CANCELLED]
    shipped = [s for s in live if s.shipped_at]
    if not live:
        order.status = WarehouseOrder.Status.CANCELLED
    elif len(shipped) == len(live):
        order.status = WarehouseOrder.Status.FULFILLED
    elif shipped:
        order.status = WarehouseOrder.Status.PARTIALLY_FULFILLED
    elif any(s.status == WarehouseShipment.Status.EXCEPTION for s in live):
        order.status = WarehouseOrder.Status.EXCEPTION
    else:
        order.status = WarehouseOrder.Status.PROCESSING


def event_queue(*, topic: str, payload: dict, order: WarehouseOrder | None) -> WebhookEvent:
    return WebhookEvent.objects.create(
        webhook_id=f"msg_{uuid.uuid4().hex}", topic=topic, payload=payload, order=order
    )


@dataclass(frozen=True)
class CancelOutcome:
    ok: bool
    body: dict
    status: int = 200


def order_cancel(*, order_id: int) -> CancelOutcome | None:
    """Cancel every shipment while none is picked or shipped; None when the order is unknown."""
    with transaction.atomic():
        order = locked(WarehouseOrder.objects.filter(pk=order_id)).first()
        if order is None:
            return None
        shipments = list(order.shipments.all())
        if order.status == WarehouseOrder.Status.CANCELLED:
            results = [
                {"action": "Cancel", "shipment_id": s.pk, "is_success": True, "reason": ""}
                for s in shipments
            ]
            return CancelOutcome(True, _cancel_body(order, results))
        blocking = [
            s
            for s in shipments
            if s.status != WarehouseShipment.Status.CANCELLED
            and (s.shipped_at or s.status_detail in PICKED_DETAILS)
        ]
        if blocking:
            what = ", ".join(
                f"shipment {s.pk} is {'shipped' if s.shipped_at else s.status_detail.lower()}"
                for s in blocking
            )
            return CancelOutcome(
                False,
                problem(
                    422,
                    {"Order": [f"Order {order.pk} cannot be cancelled: {what}."]},
                    "Unprocessable Entity",
                ),
                422,
            )
        now = timezone.now()
        results = []
        for shipment in shipments:
            if shipment.status == WarehouseShipment.Status.CANCELLED:
                continue
            stock_commit(((p.inventory_id, p.quantity) for p in shipment.products.all()), sign=-1)
            shipment.status = WarehouseShipment.Status.CANCELLED
            shipment.status_detail = "Cancelled"
            shipment.status_description = "Cancelled by the merchant"
            shipment.updated_at = now
            shipment.save()
            results.append(
                {
                    "action": "Cancel",
                    "shipment_id": shipment.pk,
                    "is_success": True,
                    "reason": "Order cancelled",
                }
            )
        order.status = WarehouseOrder.Status.CANCELLED
        order.updated_at = now
        order.save(update_fields=["status", "updated_at"])
        order = orders_with_lines().get(pk=order.pk)
        for shipment in order.shipments.all():
            event_queue(
                topic="order.shipment.cancelled",
                payload=shipment_json(shipment, order),
                order=order,
            )
        return CancelOutcome(True, _cancel_body(order, results))


def _cancel_body(order: WarehouseOrder, results: list[dict]) -> dict:
    return {
        "order_id": order.pk,
        "order": order_json(order),
        "status": "Success",
        "canceled_shipment_results": results,
    }
