"""The stand-in store's fulfillment orders and fulfillments (no GraphQL here: schema.py renders them).

Every store order gets one fulfillment order holding its shippable lines; refunds and cancellation
reduce what remains. `fulfillment_apply` is fulfillmentCreate's effect: all-or-nothing, under a
row lock on the order so two callers cannot both take the same remaining quantity.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.sandbox.shopify.models import (
    StoreFulfillment,
    StoreFulfillmentLine,
    StoreFulfillmentOrder,
    StoreFulfillmentOrderLine,
    StoreOrder,
)

Status = StoreFulfillmentOrder.Status
# Shopify refuses fulfillments on fulfillment orders in any other status.
FULFILLABLE = frozenset({Status.OPEN, Status.IN_PROGRESS})


@dataclass(frozen=True)
class FulfillmentRequest:
    """One lineItemsByFulfillmentOrder entry; `lines` None means every remaining line."""

    fulfillment_order_id: int | None
    lines: list[tuple[int | None, object]] | None
    index: int


@dataclass
class FulfillmentOutcome:
    fulfillment: StoreFulfillment | None = None
    user_errors: list[dict] = field(default_factory=list)


def _owed_quantities(payload: dict) -> dict[int, int]:
    """Shippable quantity per REST line id: ordered minus refunded (0 for a cancelled order)."""
    refunded: dict[int, int] = defaultdict(int)
    for refund in payload.get("refunds") or []:
        for item in refund.get("refund_line_items") or []:
            if item.get("line_item_id") is not None:
                refunded[int(item["line_item_id"])] += int(item.get("quantity") or 0)
    cancelled = bool(payload.get("cancelled_at"))
    owed = {}
    for line in payload.get("line_items") or []:
        if line.get("id") is None or not line.get("requires_shipping", True):
            continue
        quantity = int(line.get("quantity") or 0) - refunded[int(line["id"])]
        owed[int(line["id"])] = 0 if cancelled else max(0, quantity)
    return owed


def _status_of(lines: list[StoreFulfillmentOrderLine], *, cancelled: bool) -> str:
    if cancelled or all(line.remaining_quantity == 0 for line in lines):
        return Status.CLOSED
    if any(line.fulfilled_quantity for line in lines):
        return Status.IN_PROGRESS
    return Status.OPEN


def fulfillment_orders_sync(*, order: StoreOrder) -> list[StoreFulfillmentOrder]:
    """Create the order's fulfillment order on first sight; re-apply refunds and cancellation after."""
    payload = order.payload
    owed = _owed_quantities(payload)
    cancelled = bool(payload.get("cancelled_at"))
    skus = {
        int(line["id"]): line.get("sku")
        for line in payload.get("line_items") or []
        if line.get("id") is not None
    }
    with transaction.atomic():
        fulfillment_orders = list(
            StoreFulfillmentOrder.objects.select_for_update()
            .filter(order=order)
            .prefetch_related("lines")
        )
        if not fulfillment_orders:
            if not owed:
                return []  # nothing to ship (gift cards, digital goods): Shopify makes no FO
            fulfillment_order = StoreFulfillmentOrder.objects.create(
                order=order, status=Status.CLOSED if cancelled else Status.OPEN
            )
            lines = StoreFulfillmentOrderLine.objects.bulk_create(
                StoreFulfillmentOrderLine(
                    fulfillment_order=fulfillment_order,
                    line_item_id=line_id,
                    sku=skus.get(line_id),
                    total_quantity=quantity,
                    remaining_quantity=quantity,
                )
                for line_id, quantity in owed.items()
            )
            fulfillment_order.status = _status_of(lines, cancelled=cancelled)
            fulfillment_order.save(update_fields=["status"])
            return [fulfillment_order]
        for fulfillment_order in fulfillment_orders:
            lines = list(fulfillment_order.lines.all())
            for line in lines:
                owed_now = owed.get(line.line_item_id, line.total_quantity)
                # A refund after shipping (a return) cannot un-ship what already went out.
                total = max(owed_now, line.fulfilled_quantity)
                remaining = 0 if cancelled else total - line.fulfilled_quantity
                if (total, remaining) != (line.total_quantity, line.remaining_quantity):
                    line.total_quantity, line.remaining_quantity = total, remaining
                    line.save(update_fields=["total_quantity", "remaining_quantity"])
            status = _status_of(lines, cancelled=cancelled)
            if fulfillment_order.status in FULFILLABLE | {Status.CLOSED} and (
                status != fulfillment_order.status
            ):
                fulfillment_order.status = status
                fulfillment_order.updated_at = timezone.now()
                fulfillment_order.save(update_fields=["status", "updated_at"])
        return fulfillment_orders


def fulfillment_orders_of(*, shopify_id: int) -> list[StoreFulfillmentOrder]:
    """The order's fulfillment orders (created now for an order written without them)."""
    rows = list(
        StoreFulfillmentOrder.objects.filter(order__shopify_id=shopify_id).prefetch_related("lines")
    )
    if rows:
        return rows
    order = StoreOrder.objects.filter(shopify_id=shopify_id).first()
    if order is None:
        return []
    fulfillment_orders_sync(order=order)
    return list(StoreFulfillmentOrder.objects.filter(order=order).prefetch_related("lines"))


def _error(message: str, *path: object) -> dict:
    return {"field": ["fulfillment", *(str(p) for p in path)], "message": message}


def _positive_int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        return None
    return int(value) if value > 0 else None


def fulfillment_apply(
    *,
    requests: list[FulfillmentRequest],
    tracking: dict,
    notify_customer: bool,
    message: str = "",
) -> FulfillmentOutcome:
    """fulfillmentCreate: validate every requested line, then fulfil all of them or none."""
    outcome = FulfillmentOutcome()
    errors = outcome.user_errors
    if not requests:
        errors.append(
            _error("Line items by fulfillment order can't be blank", "lineItemsByFulfillmentOrder")
        )
        return outcome
    ids = [r.fulfillment_order_id for r in requests if r.fulfillment_order_id is not None]
    known = StoreFulfillmentOrder.objects.filter(pk__in=ids).values_list("pk", "order_id")
    order_ids = {order_id for _, order_id in known}
    if len(order_ids) > 1:
        errors.append(
            _error(
                "All fulfillment orders must belong to the same order.",
                "lineItemsByFulfillmentOrder",
            )
        )
        return outcome
    with transaction.atomic():
        # Lock the order first: every fulfillment of one order is taken in turn.
        order = StoreOrder.objects.select_for_update().filter(pk__in=order_ids).first()
        rows = {
            fo.pk: fo for fo in StoreFulfillmentOrder.objects.select_for_update().filter(pk__in=ids)
        }
        lines_of = defaultdict(dict)
        for line in StoreFulfillmentOrderLine.objects.select_for_update().filter(
            fulfillment_order_id__in=list(rows)
        ):
            lines_of[line.fulfillment_order_id][line.pk] = line
        taken: dict[int, int] = defaultdict(int)  # FO line pk → quantity in this request
        for request in requests:
            where = ("lineItemsByFulfillmentOrder", request.index)
            fulfillment_order = rows.get(request.fulfillment_order_id or -1)
            if fulfillment_order is None:
                errors.append(
                    _error("Fulfillment order does not exist.", *where, "fulfillmentOrderId")
                )
                continue
            if fulfillment_order.status not in FULFILLABLE:
                errors.append(
                    _error(
                        f"Fulfillment order {fulfillment_order.gid} has an unfulfillable status= "
                        f"{fulfillment_order.status.lower()}.",
                        *where,
                        "fulfillmentOrderId",
                    )
                )
                continue
            lines = lines_of[fulfillment_order.pk]
            wanted = (
                [
                    (pk, line.remaining_quantity)
                    for pk, line in lines.items()
                    if line.remaining_quantity
                ]
                if request.lines is None
                else request.lines
            )
            if not wanted:
                errors.append(_error("There are no items to fulfill.", *where))
                continue
            for position, (line_pk, raw_quantity) in enumerate(wanted):
                at = (*where, "fulfillmentOrderLineItems", position)
                line = lines.get(line_pk or -1)
                if line is None:
                    errors.append(
                        _error(
                            "Fulfillment order line item does not exist on this fulfillment order.",
                            *at,
                            "id",
                        )
                    )
                    continue
                quantity = _positive_int(raw_quantity)
                if quantity is None:
                    errors.append(_error("Quantity must be greater than 0.", *at, "quantity"))
                    continue
                taken[line.pk] += quantity
                if taken[line.pk] > line.remaining_quantity:
                    errors.append(
                        _error(
                            "Invalid fulfillment order line item quantity requested: "
                            f"{taken[line.pk]} of {line.gid} exceeds remaining quantity "
                            f"{line.remaining_quantity}.",
                            *at,
                            "quantity",
                        )
                    )
        if errors or order is None:
            return outcome
        now = timezone.now()
        fulfillment = StoreFulfillment.objects.create(
            order=order,
            tracking_company=str(tracking.get("company") or "")[:255],
            tracking_number=str(tracking.get("number") or "")[:255],
            tracking_url=str(tracking.get("url") or "")[:1000],
            notify_customer=bool(notify_customer),
            message=message or "",
            created_at=now,
        )
        by_pk = {pk: line for lines in lines_of.values() for pk, line in lines.items()}
        for line_pk, quantity in taken.items():
            line = by_pk[line_pk]
            line.remaining_quantity -= quantity
            line.fulfilled_quantity += quantity
            line.save(update_fields=["remaining_quantity", "fulfilled_quantity"])
            StoreFulfillmentLine.objects.create(
                fulfillment=fulfillment, fulfillment_order_line=line, quantity=quantity
            )
        for fulfillment_order in rows.values():
            fulfillment_order.status = _status_of(
                list(lines_of[fulfillment_order.pk].values()), cancelled=False
            )
            fulfillment_order.updated_at = now
            fulfillment_order.save(update_fields=["status", "updated_at"])
        _order_fulfilled(order, fulfillment, now)
        outcome.fulfillment = fulfillment
    return outcome


def _order_fulfilled(order: StoreOrder, fulfillment: StoreFulfillment, now: datetime) -> None:
    """Reflect a fulfillment on the REST order: quantities, statuses, `fulfillments`, updated_at."""
    lines = list(
        StoreFulfillmentOrderLine.objects.filter(fulfillment_order__order=order).values(
            "line_item_id", "remaining_quantity", "fulfilled_quantity", "total_quantity"
        )
    )
    remaining, fulfilled = defaultdict(int), defaultdict(int)
    for line in lines:
        remaining[line["line_item_id"]] += line["remaining_quantity"]
        fulfilled[line["line_item_id"]] += line["fulfilled_quantity"]
    payload = order.payload
    for item in payload.get("line_items") or []:
        line_id = item.get("id")
        if line_id not in remaining:
            continue
        item["fulfillable_quantity"] = remaining[line_id]
        if fulfilled[line_id]:
            item["fulfillment_status"] = "fulfilled" if not remaining[line_id] else "partial"
    if any(fulfilled.values()):
        payload["fulfillment_status"] = "fulfilled" if not any(remaining.values()) else "partial"
    stamp = now.astimezone(UTC).isoformat(timespec="seconds")
    shipped = {
        line.fulfillment_order_line.line_item_id: line.quantity
        for line in fulfillment.lines.select_related("fulfillment_order_line")
    }
    payload.setdefault("fulfillments", []).append(
        {
            "id": fulfillment.pk,
            "admin_graphql_api_id": fulfillment.gid,
            "order_id": payload.get("id"),
            "name": f"{payload.get('name', '')}.{len(payload.get('fulfillments') or []) + 1}",
            "status": "success",
            "created_at": stamp,
            "updated_at": stamp,
            "tracking_company": fulfillment.tracking_company or None,
            "tracking_number": fulfillment.tracking_number or None,
            "tracking_numbers": [fulfillment.tracking_number]
            if fulfillment.tracking_number
            else [],
            "tracking_url": fulfillment.tracking_url or None,
            "tracking_urls": [fulfillment.tracking_url] if fulfillment.tracking_url else [],
            "line_items": [
                {"id": line_id, "quantity": quantity} for line_id, quantity in shipped.items()
            ],
        }
    )
    # Strictly later than before, so an updated_at poll with a watermark sees the change.
    updated = max(now, order.updated_at + timedelta(microseconds=1))
    payload["updated_at"] = updated.astimezone(UTC).isoformat()
    order.payload = payload
    order.updated_at = updated
    order.save(update_fields=["payload", "updated_at"])


def fulfillments_count(*, shopify_id: int) -> int:
    """How many fulfillments the store holds for an order (tests assert "fulfilled once")."""
    return StoreFulfillment.objects.filter(order__shopify_id=shopify_id).count()
