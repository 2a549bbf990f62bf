"""An invoice draft per shipment, right to the cent.

Each shipped unit is billed at Shopify's unit price; its discount and tax are Shopify's own figures
for the line, shared pro rata by quantity, with the last units of a line taking the remainder so
the shares add up exactly. Refunded units are not billed. Shipping goes on the order's first draft.
The draft that bills the order's last units is checked against Shopify's total: a drift of a few
cents (Xero's or our rounding) becomes a rounding line; anything larger flags a variance.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.invoicing.models import InvoiceDraft, InvoiceDraftLine
from apps.orders.models import Order, OrderLine, Shipment
from apps.orders.warehouse import on_shipment_recorded

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


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


def _billed_before(order: Order) -> dict[int, tuple[int, Decimal, Decimal]]:
    """Per order line: units, discount and tax already on the order's other live drafts (one query)."""
    rows = (
        InvoiceDraftLine.objects.filter(draft__order=order, kind=InvoiceDraftLine.Kind.ITEM)
        .exclude(draft__status=InvoiceDraft.Status.REJECTED)
        .values("order_line")
        .annotate(q=Sum("quantity"), d=Sum("discount_amount"), t=Sum("tax_amount"))
    )
    return {
        row["order_line"]: (int(row["q"] or 0), row["d"] or ZERO, row["t"] or ZERO) for row in rows
    }


def _share(total: Decimal, part: int, whole: int) -> Decimal:
    return cents(total * part / whole) if whole else ZERO


def _item_lines(shipment: Shipment, order: Order) -> tuple[list[InvoiceDraftLine], bool]:
    """The draft's item lines, and whether this draft bills the last unbilled units of the order."""
    lines = []
    shipped = {sl.order_line_id: sl.quantity for sl in shipment.lines.all()}
    complete = True
    billed = _billed_before(order)
    for line in order.lines.all():
        figures = line_figures(line)
        done_qty, done_discount, done_tax = billed.get(line.pk, (0, ZERO, ZERO))
        quantity = min(shipped.get(line.pk, 0), max(0, figures.quantity - done_qty))
        if done_qty + quantity < figures.quantity and line.requires_shipping:
            complete = False
        if quantity == 0:
            continue
        if done_qty + quantity == figures.quantity:  # the last units take the remainder
            discount, tax = figures.discount - done_discount, figures.tax - done_tax
        else:
            discount = _share(figures.discount, quantity, figures.quantity)
            tax = _share(figures.tax, quantity, figures.quantity)
        mapping = line.sku_mapping
        lines.append(
            InvoiceDraftLine(
                kind=InvoiceDraftLine.Kind.ITEM,
                order_line=line,
                description=f"{line.title}{' — ' + line.variant_title if line.variant_title else ''}"[
                    :500
                ],
                quantity=Decimal(quantity),
                unit_amount=line.price,
                discount_amount=discount,
                tax_amount=tax,
                line_amount=line.price * quantity - discount,
                item_code=mapping.xero_item_code if mapping else "",
                account_code=mapping.xero_account_code
                if mapping
                else settings.XERO["SALES_ACCOUNT_CODE"],
                tax_type=mapping.xero_tax_type if mapping else settings.XERO["SHIPPING_TAX_TYPE"],
                source={
                    "shopify_line_id": line.shopify_id,
                    "sku": line.sku,
                    "units_billable": figures.quantity,
                    "units_billed_before": done_qty,
                    "line_discount": str(figures.discount),
                    "line_tax": str(figures.tax),
                    "tax_lines": [
                        {"title": t.title, "rate": str(t.rate), "amount": str(t.amount)}
                        for t in line.tax_lines.all()
                    ],
                    "mapping_version": order.mapping_version,
                },
            )
        )
    return lines, complete


def _shipping_lines(order: Order) -> list[InvoiceDraftLine]:
    lines = []
    for shipping in order.shipping_lines.all():
        if shipping.price == 0 and shipping.discounted_price == 0:
            continue
        tax = sum((t.amount for t in shipping.tax_lines.all()), ZERO)
        discount = shipping.price - shipping.discounted_price
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
                tax_type=settings.XERO["SHIPPING_TAX_TYPE"],
                source={"shopify_shipping_line_id": shipping.shopify_id, "code": shipping.code},
            )
        )
    return lines


def _totals(lines: list[InvoiceDraftLine], inclusive: bool) -> tuple[Decimal, Decimal, Decimal]:
    amounts = sum((line.line_amount for line in lines), ZERO)
    tax = sum((line.tax_amount for line in lines), ZERO)
    if inclusive:
        return amounts - tax, tax, amounts
    return amounts, tax, amounts + tax


def invoice_draft_for_shipment(*, shipment: Shipment) -> InvoiceDraft | None:
    """Build the draft for one shipment (idempotent: a shipment has at most one draft)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=shipment.order_id)
        existing = InvoiceDraft.objects.filter(shipment=shipment).first()
        if existing:
            return existing
        order = Order.objects.prefetch_related(
            "lines__tax_lines",
            "lines__discount_allocations",
            "lines__sku_mapping",
            "refunds__lines",
            "shipping_lines__tax_lines",
        ).get(pk=order.pk)
        items, complete = _item_lines(shipment, order)
        first = not order.invoice_drafts.exclude(status=InvoiceDraft.Status.REJECTED).exists()
        lines = items + (_shipping_lines(order) if first else [])
        if not lines:
            return None
        inclusive = order.taxes_included
        subtotal, tax, total = _totals(lines, inclusive)
        expected = total
        variance = ZERO
        if complete:
            shopify_total = (
                order.current_total_price
                if order.current_total_price is not None
                else order.total_price
            )
            before = (
                order.invoice_drafts.exclude(status=InvoiceDraft.Status.REJECTED).aggregate(
                    s=Sum("total")
                )["s"]
                or ZERO
            )
            expected = shopify_total - before
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
                        source={"shopify_total": str(shopify_total), "drafts_before": str(before)},
                    )
                )
                subtotal, tax, total = _totals(lines, inclusive)
            variance = total - expected
        shipped_on = (
            timezone.localdate(shipment.shipped_at) if shipment.shipped_at else timezone.localdate()
        )
        draft = InvoiceDraft.objects.create(
            shipment=shipment,
            order=order,
            reference=f"{settings.XERO['REFERENCE_PREFIX']}{shipment.shipbob_shipment_id}",
            currency=order.currency,
            line_amount_types="Inclusive" if inclusive else "Exclusive",
            subtotal=subtotal,
            total_tax=tax,
            total=total,
            expected_total=expected,
            variance=variance,
            mapping_version=order.mapping_version,
            contact_number=_contact_number(order),
            contact_name=order.customer_name or order.email or "Shopify customer",
            contact_email=order.email,
            invoice_date=shipped_on,
            due_date=shipped_on + timedelta(days=settings.XERO["DUE_DAYS"]),
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


def _contact_number(order: Order) -> str:
    if settings.XERO["CONTACT_MODE"] == "customer" and order.customer_id:
        return str(order.customer_id)
    return settings.XERO["SALES_CONTACT_NUMBER"]


@on_shipment_recorded
def _draft_on_shipment(shipment: Shipment) -> None:
    invoice_draft_for_shipment(shipment=shipment)
