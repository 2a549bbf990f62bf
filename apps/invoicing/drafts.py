"""Invoice drafts, right to the cent: one per shipment, plus one for an order where nothing ships.

Each shipped unit is billed at Shopify's unit price; its discount and tax are Shopify's own figures
for the line, shared pro rata by quantity, with the last units of a line taking the remainder so
the shares add up exactly. Refunded units are not billed. Shipping and every line the warehouse
never ships (no SKU marked not shipped or by hand, not warehouse-managed, no shipping required) go
on the order's first draft; an order where nothing ships gets one draft of its own. The draft that
bills the order's last units is checked against Shopify's current total (less credit notes): a
drift of a few cents becomes a rounding line; anything larger flags a variance.

Each line posts under the Xero tax type its Shopify tax lines map to (apps/inventory), and carries
that type's rate so the draft can do Xero's own arithmetic (tax per line, rounded to the cent).
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.invoicing.models import (
    DEAD_STATUSES,
    CreditNoteDraft,
    DraftLine,
    InvoiceDraft,
    InvoiceDraftLine,
)
from apps.orders.models import Order, OrderLine, Shipment
from apps.orders.taxes import tax_types_for
from apps.orders.warehouse import on_shipment_recorded

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
ORDER_PREFETCH = (
    "lines__tax_lines",
    "lines__discount_allocations",
    "lines__sku_mapping__components",
    "refunds__lines",
    "shipping_lines__tax_lines",
)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def live(drafts: QuerySet) -> QuerySet:
    """Drafts that count towards the order's money: not rejected, not voided."""
    return drafts.exclude(status__in=DEAD_STATUSES)


def xero_line_tax(*, line_amount: Decimal, rate: Decimal, inclusive: bool) -> Decimal:
    """The tax Xero itself computes for a line: its rate on the line amount, rounded per line."""
    if inclusive:
        return cents(line_amount * rate / (HUNDRED + rate))
    return cents(line_amount * rate / HUNDRED)


def ships(line: OrderLine) -> bool:
    """Whether the warehouse ships this line (else it is billed on the order's first draft)."""
    mapping = line.sku_mapping
    return bool(
        line.requires_shipping
        and not line.handling
        and mapping is not None
        and mapping.warehouse_managed
        and mapping.components.all()
    )


@dataclass(frozen=True)
class LineFigures:
    """A Shopify line after refunds: what is still to be billed, in Shopify's own figures."""

    quantity: int  # units that will be billed in all (ordered − refunded)
    discount: Decimal
    tax: Decimal


def line_figures(line: OrderLine) -> LineFigures:
    discount = sum((d.amount for d in line.discount_allocations.all()), ZERO) or line.total_discount
    tax = sum((t.amount for t in line.tax_lines.all()), ZERO)
    refunded_qty = 0
    refunded_subtotal = refunded_tax = ZERO
    for refund in line.order.refunds.all():
        for refund_line in refund.lines.all():
            if refund_line.line_shopify_id == line.shopify_id:
                refunded_qty += refund_line.quantity
                refunded_subtotal += refund_line.subtotal
                refunded_tax += refund_line.total_tax
    refunded_qty = min(refunded_qty, line.quantity)
    # Shopify's refund subtotal is price × quantity less the discount those units carried.
    refunded_discount = (
        max(ZERO, line.price * refunded_qty - refunded_subtotal) if refunded_qty else ZERO
    )
    return LineFigures(
        quantity=line.quantity - refunded_qty,
        discount=max(ZERO, discount - refunded_discount),
        tax=max(ZERO, tax - refunded_tax),
    )


def billed_before(order: Order) -> dict[int, tuple[int, Decimal, Decimal]]:
    """Per order line: units, discount and tax already on the order's live drafts (one query)."""
    rows = (
        InvoiceDraftLine.objects.filter(draft__order=order, kind=InvoiceDraftLine.Kind.ITEM)
        .exclude(draft__status__in=DEAD_STATUSES)
        .values("order_line")
        .annotate(q=Sum("quantity"), d=Sum("discount_amount"), t=Sum("tax_amount"))
    )
    return {
        row["order_line"]: (int(row["q"] or 0), row["d"] or ZERO, row["t"] or ZERO) for row in rows
    }


def share(total: Decimal, part: int, whole: int) -> Decimal:
    return cents(total * part / whole) if whole else ZERO


def line_description(line: OrderLine) -> str:
    return f"{line.title}{' — ' + line.variant_title if line.variant_title else ''}"[:500]


def tax_fields(resolution, *, fallback: str, line_amount: Decimal, tax: Decimal, inclusive: bool):
    """tax_type, tax_rate and the source notes for a line (Xero's own figure beside Shopify's)."""
    if not resolution.resolved:
        # The order should have been held; a draft is still made and flagged for Finance.
        return fallback, None, {"tax_type_problem": resolution.problem}
    xero_tax = xero_line_tax(
        line_amount=line_amount, rate=resolution.xero_rate, inclusive=inclusive
    )
    return (
        resolution.tax_type,
        resolution.xero_rate,
        {"xero_tax": str(xero_tax), "xero_tax_agrees": xero_tax == tax},
    )


def _item_lines(
    shipment: Shipment | None, order: Order, *, first: bool
) -> tuple[list[InvoiceDraftLine], bool]:
    """The draft's item lines, and whether this draft bills the last unbilled units of the order."""
    lines = []
    shipped = {sl.order_line_id: sl.quantity for sl in shipment.lines.all()} if shipment else {}
    complete = True
    billed = billed_before(order)
    order_lines = list(order.lines.all())
    resolutions = dict(zip(order_lines, tax_types_for(order, order_lines), strict=True))
    inclusive = order.taxes_included
    for line in order_lines:
        figures = line_figures(line)
        done_qty, done_discount, done_tax = billed.get(line.pk, (0, ZERO, ZERO))
        left = max(0, figures.quantity - done_qty)
        # A shipped line bills what this parcel carried; any other line bills in full, first.
        billable_now = shipped.get(line.pk, 0) if ships(line) else (left if first else 0)
        quantity = min(billable_now, left)
        if done_qty + quantity < figures.quantity:
            complete = False
        if quantity == 0:
            continue
        if done_qty + quantity == figures.quantity:  # the last units take the remainder
            discount, tax = figures.discount - done_discount, figures.tax - done_tax
        else:
            discount = share(figures.discount, quantity, figures.quantity)
            tax = share(figures.tax, quantity, figures.quantity)
        mapping = line.sku_mapping
        line_amount = line.price * quantity - discount
        tax_type, rate, tax_source = tax_fields(
            resolutions[line],
            fallback=mapping.xero_tax_type if mapping else "NONE",
            line_amount=line_amount,
            tax=tax,
            inclusive=inclusive,
        )
        lines.append(
            InvoiceDraftLine(
                kind=InvoiceDraftLine.Kind.ITEM,
                order_line=line,
                description=line_description(line),
                quantity=Decimal(quantity),
                unit_amount=line.price,
                discount_amount=discount,
                tax_amount=tax,
                line_amount=line_amount,
                item_code=mapping.xero_item_code if mapping else "",
                account_code=mapping.xero_account_code
                if mapping
                else settings.XERO["SALES_ACCOUNT_CODE"],
                tax_type=tax_type,
                tax_rate=rate,
                source={
                    "shopify_line_id": line.shopify_id,
                    "sku": line.sku,
                    "ships": ships(line),
                    "handling": line.handling,
                    "units_billable": figures.quantity,
                    "units_billed_before": done_qty,
                    "line_discount": str(figures.discount),
                    "line_tax": str(figures.tax),
                    "tax_lines": [
                        {"title": t.title, "rate": str(t.rate), "amount": str(t.amount)}
                        for t in line.tax_lines.all()
                    ],
                    "mapping_version": order.mapping_version,
                    **tax_source,
                },
            )
        )
    return lines, complete


def _shipping_lines(order: Order) -> list[InvoiceDraftLine]:
    lines = []
    shipping_lines = list(order.shipping_lines.all())
    resolutions = tax_types_for(order, shipping_lines)
    for shipping, resolution in zip(shipping_lines, resolutions, strict=True):
        if shipping.price == 0 and shipping.discounted_price == 0:
            continue
        tax = sum((t.amount for t in shipping.tax_lines.all()), ZERO)
        discount = shipping.price - shipping.discounted_price
        tax_type, rate, tax_source = tax_fields(
            resolution,
            fallback=settings.XERO["SHIPPING_TAX_TYPE"],
            line_amount=shipping.price - discount,
            tax=tax,
            inclusive=order.taxes_included,
        )
        lines.append(
            InvoiceDraftLine(
                kind=InvoiceDraftLine.Kind.SHIPPING,
                description=f"Shipping: {shipping.title or shipping.code}"[:500],
                quantity=Decimal(1),
                unit_amount=shipping.price,
                discount_amount=discount,
                tax_amount=tax,
                line_amount=shipping.price - discount,
                account_code=settings.XERO["SHIPPING_ACCOUNT_CODE"],
                tax_type=tax_type,
                tax_rate=rate,
                source={
                    "shopify_shipping_line_id": shipping.shopify_id,
                    "code": shipping.code,
                    **tax_source,
                },
            )
        )
    return lines


def draft_totals(lines: list[DraftLine], inclusive: bool) -> tuple[Decimal, Decimal, Decimal]:
    amounts = sum((line.line_amount for line in lines), ZERO)
    tax = sum((line.tax_amount for line in lines), ZERO)
    if inclusive:
        return amounts - tax, tax, amounts
    return amounts, tax, amounts + tax


def shopify_current_total(order: Order) -> Decimal:
    return order.current_total_price if order.current_total_price is not None else order.total_price


def credited(order: Order) -> Decimal:
    """What the order's live credit notes give back."""
    return live(CreditNoteDraft.objects.filter(order=order)).aggregate(s=Sum("total"))[
        "s"
    ] or Decimal(0)


def contact_number_for(order: Order) -> str:
    if settings.XERO["CONTACT_MODE"] == "customer" and order.customer_id:
        return str(order.customer_id)
    return settings.XERO["SALES_CONTACT_NUMBER"]


def invoice_draft_build(*, order: Order, shipment: Shipment | None) -> InvoiceDraft | None:
    """Build one draft (for a shipment, or for an order where nothing ships); the caller holds the
    order's row lock. None when there is nothing left to bill."""
    order = Order.objects.prefetch_related(*ORDER_PREFETCH).get(pk=order.pk)
    first = not live(order.invoice_drafts.all()).exists()
    items, complete = _item_lines(shipment, order, first=first)
    lines = items + (_shipping_lines(order) if first else [])
    if not lines:
        return None
    inclusive = order.taxes_included
    subtotal, tax, total = draft_totals(lines, inclusive)
    expected = total
    variance = ZERO
    if complete:
        shopify_total = shopify_current_total(order)
        before = live(order.invoice_drafts.all()).aggregate(s=Sum("total"))["s"] or ZERO
        credits = credited(order)
        # Drafts − credit notes must come to Shopify's current total.
        expected = shopify_total - before + credits
        drift = expected - total
        if drift and abs(drift) <= settings.XERO["ROUNDING_TOLERANCE"]:
            lines.append(
                InvoiceDraftLine(
                    kind=InvoiceDraftLine.Kind.ROUNDING,
                    description="Rounding",
                    quantity=Decimal(1),
                    unit_amount=drift,
                    line_amount=drift,
                    account_code=settings.XERO["ROUNDING_ACCOUNT_CODE"],
                    tax_type="NONE",
                    tax_rate=Decimal(0),
                    source={
                        "shopify_total": str(shopify_total),
                        "drafts_before": str(before),
                        "credit_notes": str(credits),
                    },
                )
            )
            subtotal, tax, total = draft_totals(lines, inclusive)
        variance = total - expected
    moment = shipment.shipped_at if shipment and shipment.shipped_at else None
    issued = timezone.localdate(moment) if moment else timezone.localdate()
    key = shipment.shipbob_shipment_id if shipment else f"ORDER-{order.shopify_id}"
    draft = InvoiceDraft.objects.create(
        shipment=shipment,
        order=order,
        reference=f"{settings.XERO['REFERENCE_PREFIX']}{key}",
        currency=order.currency,
        line_amount_types="Inclusive" if inclusive else "Exclusive",
        subtotal=subtotal,
        total_tax=tax,
        total=total,
        expected_total=expected,
        variance=variance,
        mapping_version=order.mapping_version,
        contact_number=contact_number_for(order),
        contact_name=order.customer_name or order.email or "Shopify customer",
        contact_email=order.email,
        invoice_date=issued,
        due_date=issued + timedelta(days=settings.XERO["DUE_DAYS"]),
    )
    for line in lines:
        line.draft = draft
    InvoiceDraftLine.objects.bulk_create(lines)
    audit_record(
        actor=None,
        actor_label="system:invoicing",
        verb=verbs.INVOICE_DRAFT_CREATED,
        target=draft,
        data={"order": order.name, "total": str(total), "variance": str(variance)},
    )
    return draft


def invoice_draft_for_shipment(*, shipment: Shipment) -> InvoiceDraft | None:
    """Build the draft for one shipment (idempotent: a shipment has at most one draft)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=shipment.order_id)
        existing = InvoiceDraft.objects.filter(shipment=shipment).first()
        if existing:
            return existing
        return invoice_draft_build(order=order, shipment=shipment)


@on_shipment_recorded
def _draft_on_shipment(shipment: Shipment) -> None:
    invoice_draft_for_shipment(shipment=shipment)
