"""Order intake: upsert from Shopify, resolve lines through the mapping tables, hold or make ready."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.inventory.services import LineKey, mapping_version_current, sku_resolve_many
from apps.orders.events import order_event
from apps.orders.models import (
    DiscountAllocation,
    Hold,
    Order,
    OrderLine,
    Refund,
    RefundLine,
    ShippingLine,
    TaxLine,
)
from apps.orders.shopify_payload import OrderData, RefundData, state_rank
from apps.orders.taxes import tax_problems
from apps.orders.warehouse import order_cancellation_enqueue, order_submission_enqueue
from apps.sync.alerts import alert_clear, alert_kind_register, alert_raise

ORDER_FIELDS = (
    "admin_graphql_api_id",
    "name",
    "order_number",
    "email",
    "phone",
    "customer_id",
    "customer_first_name",
    "customer_last_name",
    "shipping_address",
    "currency",
    "subtotal_price",
    "total_discounts",
    "total_tax",
    "total_shipping",
    "total_price",
    "current_total_price",
    "taxes_included",
    "financial_status",
    "fulfillment_status",
    "cancelled_at",
    "cancel_reason",
    "tags",
    "test",
)


# `via` of the reconciliation poll (webhooks pass their topic).
POLL = "poll"


@dataclass(frozen=True)
class UpsertOutcome:
    order: Order
    applied: bool  # False: the payload was not newer than what we hold, nothing changed
    created: bool = False


def order_upsert(*, data: OrderData, via: str, receipt_id: int | None = None) -> UpsertOutcome:
    """Create or update an order from Shopify's view of it; an older state changes nothing.

    Older is `state_rank`'s order: `updated_at`, then (in the same second) the content, so a
    cancellation stamped in the second of the previous update is applied, not dropped.

    `via` names the path (a webhook topic or "poll") and `receipt_id` the stored delivery, for the
    timeline. Webhooks and the reconciliation poll both come through here, so they converge.
    """
    trace = {"via": via, "updated_at": data.updated_at.isoformat(), "receipt_id": receipt_id}
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(shopify_id=data.shopify_id).first()
        created = False
        if order is None:
            try:
                with transaction.atomic():
                    order = _order_create(data)
                    created = True
            except IntegrityError:
                # Another worker created it first; take its row lock and carry on as an update.
                order = Order.objects.select_for_update().get(shopify_id=data.shopify_id)
        if not created and data.rank <= order_state_rank(order):
            # A webhook repeat is worth a line on the timeline; the poll re-reading an order that
            # has not changed is routine (its overlap does it every run) and would flood it.
            if via != POLL:
                order_event(
                    order=order,
                    kind="shopify.stale",
                    message=f"Ignored an older or repeated copy from Shopify ({via})",
                    data=trace,
                )
            return UpsertOutcome(order=order, applied=False)
        if not created:
            for name in ORDER_FIELDS:
                setattr(order, name, getattr(data, name))
            order.shopify_created_at = data.created_at
            order.shopify_updated_at = data.updated_at
            order.save()
        _lines_replace(order, data)
        for refund in data.refunds:
            refund_record(data=refund)
        Refund.objects.filter(order__isnull=True, order_shopify_id=order.shopify_id).update(
            order=order
        )
        order_event(
            order=order,
            kind="shopify.created" if created else "shopify.updated",
            message=f"{'Received' if created else 'Updated'} from Shopify ({via})",
            data=trace,
        )
        order_resolve(order=order)
    return UpsertOutcome(order=order, applied=True, created=created)


def order_state_rank(order: Order) -> tuple:
    """Our copy's place in `state_rank`'s order (compare with `OrderData.rank`)."""
    return state_rank(
        updated_at=order.shopify_updated_at,
        cancelled_at=order.cancelled_at,
        financial_status=order.financial_status,
        fulfillment_status=order.fulfillment_status,
    )


def _order_create(data: OrderData) -> Order:
    return Order.objects.create(
        shopify_id=data.shopify_id,
        shopify_created_at=data.created_at,
        shopify_updated_at=data.updated_at,
        **{name: getattr(data, name) for name in ORDER_FIELDS},
    )


def _lines_replace(order: Order, data: OrderData) -> None:
    existing = {line.shopify_id: line for line in order.lines.all()}
    keep = set()
    for item in data.lines:
        values = {
            "sku": item.sku,
            "variant_id": item.variant_id,
            "product_id": item.product_id,
            "title": item.title,
            "variant_title": item.variant_title,
            "quantity": item.quantity,
            "fulfillable_quantity": item.fulfillable_quantity,
            "price": item.price,
            "total_discount": item.total_discount,
            "requires_shipping": item.requires_shipping,
            "gift_card": item.gift_card,
            "taxable": item.taxable,
        }
        line = existing.get(item.shopify_id)
        if line is None:
            line = OrderLine.objects.create(order=order, shopify_id=item.shopify_id, **values)
        else:
            for name, value in values.items():
                setattr(line, name, value)
            line.save()
            line.tax_lines.all().delete()
            line.discount_allocations.all().delete()
        keep.add(item.shopify_id)
        TaxLine.objects.bulk_create(
            TaxLine(order_line=line, title=tax.title, rate=tax.rate, amount=tax.amount)
            for tax in item.tax_lines
        )
        DiscountAllocation.objects.bulk_create(
            DiscountAllocation(order_line=line, amount=amount, discount_application_index=index)
            for amount, index in item.discount_allocations
        )
    order.lines.exclude(shopify_id__in=keep).delete()
    order.shipping_lines.all().delete()
    for item in data.shipping_lines:
        shipping = ShippingLine.objects.create(
            order=order,
            shopify_id=item.shopify_id,
            code=item.code,
            title=item.title,
            price=item.price,
            discounted_price=item.discounted_price,
        )
        TaxLine.objects.bulk_create(
            TaxLine(shipping_line=shipping, title=tax.title, rate=tax.rate, amount=tax.amount)
            for tax in item.tax_lines
        )


def refund_record(*, data: RefundData) -> Refund:
    """Record a refund against its lines (idempotent on the refund id; the order may come later)."""
    with transaction.atomic():
        refund, created = Refund.objects.get_or_create(
            shopify_id=data.shopify_id,
            defaults={
                "order_shopify_id": data.order_shopify_id,
                "order": Order.objects.filter(shopify_id=data.order_shopify_id).first(),
                "note": data.note,
                "shopify_created_at": data.created_at,
                "processed_at": data.processed_at,
                "amount": data.amount,
            },
        )
        if created:
            RefundLine.objects.bulk_create(
                RefundLine(
                    refund=refund,
                    line_shopify_id=line.line_shopify_id,
                    quantity=line.quantity,
                    subtotal=line.subtotal,
                    total_tax=line.total_tax,
                    restock_type=line.restock_type,
                )
                for line in data.lines
            )
            if refund.order_id:
                order_event(
                    order=refund.order,
                    kind="shopify.refund",
                    message=f"Refund of {data.amount} {refund.order.currency} recorded",
                    data={"refund_id": data.shopify_id, "lines": len(data.lines)},
                )
    return refund


def _problems(order: Order, lines: list[OrderLine]) -> list[tuple[OrderLine | None, str, str]]:
    # A line a person decided about (not shipped, by hand) never goes to the warehouse.
    warehouse = [line for line in lines if not line.handling]
    for line in lines:
        if line.handling:
            line.sku_mapping = None
    resolutions = sku_resolve_many(
        lines=[LineKey(line.sku, line.variant_id, line.title) for line in warehouse]
    )
    problems = []
    for line, resolution in zip(warehouse, resolutions, strict=True):
        line.sku_mapping = resolution.mapping
        if not resolution.resolved:
            problems.append((line, resolution.problem, resolution.detail))
    if not any(line.quantity > 0 for line in lines):
        problems.append(
            (
                None,
                Hold.Reason.NO_QUANTITY,
                "Every line of the order has quantity 0: there is nothing to ship or invoice. "
                "Check the order in Shopify; cancel it there if it is empty.",
            )
        )
    for line, detail in tax_problems(order, lines):
        problems.append((line, Hold.Reason.UNMAPPED_TAX, detail))
    shippable = any(line.requires_shipping and line.quantity > 0 for line in lines)
    if shippable and not (order.shipping_address or {}).get("address1"):
        problems.append(
            (
                None,
                Hold.Reason.NO_SHIPPING_ADDRESS,
                "The order has shippable lines but no shipping address. Add one in Shopify.",
            )
        )
    return problems


def order_resolve(*, order: Order, actor=None) -> Order:
    """Resolve every line through the mapping tables and set the order held, ready or cancelled.

    Runs inside the caller's transaction with the order row locked. Holds that no longer apply are
    released; new problems open new holds. Only orders not yet handed on are touched.
    """
    if order.cancelled_at and order.status in Order.AT_WAREHOUSE:
        return _order_cancel_at_warehouse(order)
    if order.status not in Order.RESOLVABLE:
        return order
    previous = order.status
    open_holds = list(order.holds.filter(released_at__isnull=True))
    if order.cancelled_at:
        order.status = Order.Status.CANCELLED
        holds_close(holds=open_holds, actor=actor)
    else:
        lines = list(order.lines.all())
        problems = _problems(order, lines)
        OrderLine.objects.bulk_update(lines, ["sku_mapping"])
        wanted = {
            (line.pk if line else None, reason): (line, detail) for line, reason, detail in problems
        }
        still_open = {(hold.line_id, hold.reason): hold for hold in open_holds}
        holds_close(holds=[h for key, h in still_open.items() if key not in wanted], actor=actor)
        for key, (line, detail) in wanted.items():
            if key not in still_open:
                hold = Hold.objects.create(
                    order=order,
                    line=line,
                    reason=key[1],
                    detail=detail,
                    # The SKU names a SKU problem (the holds list groups by it), not a tax one.
                    sku=(line.sku or "") if line and key[1] != Hold.Reason.UNMAPPED_TAX else "",
                    variant_id=line.variant_id if line else None,
                )
                _hold_alert(hold)
        order.status = Order.Status.HELD if wanted else Order.Status.READY
        order.mapping_version = mapping_version_current()
    if order.status != previous:
        order.save(update_fields=["status", "mapping_version", "updated_at"])
        order_event(
            order=order,
            kind=f"status.{order.status}",
            message=f"Status {previous} → {order.status}",
            data={"from": previous, "to": order.status, "mapping_version": order.mapping_version},
        )
        if order.status == Order.Status.READY and _warehouse_ships_any(order):
            # An order where nothing ships (services, lines a person marked not shipped) has no
            # warehouse order; invoicing drafts it on its own.
            order_submission_enqueue(order=order)
    else:
        order.save(update_fields=["mapping_version", "updated_at"])
    return order


def _warehouse_ships_any(order: Order) -> bool:
    return order.lines.filter(
        requires_shipping=True,
        quantity__gt=0,
        handling="",
        sku_mapping__warehouse_managed=True,
    ).exists()


def _order_cancel_at_warehouse(order: Order) -> Order:
    """Shopify cancelled an order the warehouse already holds: stop it there too, if still possible."""
    previous = order.status
    order.status = Order.Status.CANCELLED
    order.save(update_fields=["status", "updated_at"])
    order_event(
        order=order,
        kind="status.cancelled",
        message=f"Status {previous} → cancelled; asking the warehouse to cancel",
        data={"from": previous, "to": order.status},
    )
    order_cancellation_enqueue(order=order)
    return order


# One alert per hold reason, grouping its items: "12 SKU(s) unmapped: A, B, …".
HOLD_ALERT_GROUPS = {
    Hold.Reason.UNKNOWN_SKU: "{count} SKU(s) unmapped; orders using them are held",
    Hold.Reason.AMBIGUOUS_SKU: "{count} SKU(s) mapped twice; orders using them are held",
    Hold.Reason.NO_SKU: "{count} line(s) without SKU; their orders are held",
    Hold.Reason.NO_SHIPPING_ADDRESS: "{count} order(s) without a shipping address are held",
    Hold.Reason.NO_QUANTITY: "{count} order(s) with no line quantity are held",
    Hold.Reason.UNMAPPED_TAX: "{count} order(s) with a tax line not mapped to Xero are held",
}
for _reason, _label in HOLD_ALERT_GROUPS.items():
    alert_kind_register(
        f"order.hold.{_reason}",
        title=f"Orders held: {Hold.Reason(_reason).label}",
        severity="warning",
        resolves="item by item, by itself, once no open order is held for it (fixed and released)",
        auto_resolves=True,
        group_label=_label,
    )


# Holds about the order as a whole: their alert names the order, not a SKU or variant.
ORDER_WIDE_REASONS = (
    Hold.Reason.NO_SHIPPING_ADDRESS,
    Hold.Reason.NO_QUANTITY,
    Hold.Reason.UNMAPPED_TAX,
)


def _hold_subject(order: Order, reason: str, sku: str, variant_id: int | None) -> str:
    """What a hold is about, as its alert lists it: the SKU, the variant, or the order number."""
    if reason in ORDER_WIDE_REASONS:
        return f"order {order.name}"
    if sku:
        return sku.upper()
    return f"variant {variant_id}" if variant_id else f"order {order.name}"


def holds_close(*, holds: list[Hold], actor, note: str = "") -> None:
    """Close holds (inside the caller's transaction); each item leaves its alert once no open hold
    is about it, after commit."""
    now = timezone.now()
    user = actor if getattr(actor, "is_authenticated", False) else None
    for hold in holds:
        hold.released_at = now
        hold.released_by = user
        hold.release_note = note or hold.release_note
        hold.save(update_fields=["released_at", "released_by", "release_note"])
        _hold_alert_clear(hold)


def _hold_alert_clear(hold: Hold) -> None:
    """The item leaves its alert once no open hold of the same reason is about it."""
    still_held = Hold.objects.filter(released_at__isnull=True, reason=hold.reason)
    if hold.reason in ORDER_WIDE_REASONS:
        still_held = still_held.filter(order_id=hold.order_id)
    elif hold.sku:
        still_held = still_held.filter(sku__iexact=hold.sku)
    elif hold.variant_id:
        still_held = still_held.filter(variant_id=hold.variant_id, sku="")
    else:
        still_held = still_held.filter(order_id=hold.order_id)
    if still_held.exists():
        return
    subject = _hold_subject(hold.order, hold.reason, hold.sku, hold.variant_id)
    transaction.on_commit(
        lambda: alert_clear(
            dedupe_key=f"order.hold.{hold.reason}",
            subject=subject,
            reason="no open order is held for it any more",
        )
    )


def _hold_alert(hold: Hold) -> None:
    subject = _hold_subject(hold.order, hold.reason, hold.sku, hold.variant_id)
    url = reverse("orders:hold-list")
    transaction.on_commit(
        lambda: alert_raise(
            kind=f"order.hold.{hold.reason}",
            dedupe_key=f"order.hold.{hold.reason}",
            message=f"Held: {subject} ({hold.reason})",
            subject=subject,
            link=url,
        )
    )


def order_holds_release(*, actor, orders: list[Order]) -> list[Order]:
    """Re-resolve held orders after a fix (one order, or every order the fix affects); audited."""
    released = []
    for candidate in orders:
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=candidate.pk)
            if order.status != Order.Status.HELD:
                continue
            order_resolve(order=order, actor=actor)
            audit_record(
                actor=actor,
                verb=verbs.ORDER_HOLD_RELEASED,
                target=order,
                data={"result": order.status, "mapping_version": order.mapping_version},
            )
            if order.status != Order.Status.HELD:
                released.append(order)
    return released
