"""Invoice drafts as the builder leaves them: an order with a taxed line, one shipment, its draft.

`invoice_draft()` makes rows directly (no Shopify payload, no warehouse): 2 × 20.00 at 20 % VAT,
tax exclusive, so the draft is 40.00 + 8.00 = 48.00 and Shopify expects the same unless a variance
is asked for. Pass `status="posted"` (with `reconciliation=`) for drafts already in Xero; an
approved, posted or failed draft gets an approver, as the database insists.
"""

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

from django.conf import settings

from apps.invoicing.models import CreditNoteDraft, CreditNoteLine, InvoiceDraft, InvoiceDraftLine
from apps.orders.models import Order, Shipment, ShipmentLine, TaxLine
from tests.factories import UserFactory
from tests.orders.factories import OrderFactory, OrderLineFactory

_shipment_ids = itertools.count(700_000_001)
SHIPPED_AT = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
NEEDS_APPROVER = {
    InvoiceDraft.Status.APPROVED,
    InvoiceDraft.Status.POSTED,
    InvoiceDraft.Status.FAILED,
}


def shipped_order(
    *, name: str | None = None, currency: str = "GBP", sku: str = "TEE-BLK-M"
) -> tuple[Order, Shipment]:
    """An order of 2 × 20.00 with VAT 20 % (8.00), shipped whole in one parcel."""
    extra = {"name": name} if name else {}
    order = OrderFactory(
        status=Order.Status.SHIPPED,
        currency=currency,
        subtotal_price=Decimal("40.00"),
        total_tax=Decimal("8.00"),
        total_price=Decimal("48.00"),
        email="ada@example.com",
        customer_id=2**53 + 7,
        customer_first_name="Ada",
        customer_last_name="Lovelace",
        mapping_version=3,
        **extra,
    )
    line = OrderLineFactory(
        order=order, sku=sku, title="Classic tee", variant_title="Black / M", quantity=2
    )
    TaxLine.objects.create(
        order_line=line, title="VAT", rate=Decimal("0.2"), amount=Decimal("8.00")
    )
    shipment_id = next(_shipment_ids)
    shipment = Shipment.objects.create(
        order=order,
        shipbob_shipment_id=shipment_id,
        shipbob_order_id=shipment_id + 1,
        status="Completed",
        carrier="USPS",
        tracking_number=f"9400{shipment_id}",
        tracking_url=f"https://tools.usps.com/go/TrackConfirmAction?tLabels=9400{shipment_id}",
        shipped_at=SHIPPED_AT,
    )
    ShipmentLine.objects.create(shipment=shipment, order_line=line, quantity=2)
    return order, shipment


def invoice_draft(
    *,
    name: str | None = None,
    currency: str = "GBP",
    variance: str = "0.00",
    status: str = InvoiceDraft.Status.DRAFT,
    approver=None,
    reconciliation: str = InvoiceDraft.Reconciliation.UNCHECKED,
    xero_total: str | None = None,
) -> InvoiceDraft:
    """The draft of a shipped order's one shipment, with its item line and where it came from."""
    order, shipment = shipped_order(name=name, currency=currency)
    line = order.lines.get()
    total = Decimal("48.00")
    posted = status == InvoiceDraft.Status.POSTED
    if status in NEEDS_APPROVER and approver is None:
        approver = UserFactory(roles=["Finance"])
    draft = InvoiceDraft.objects.create(
        shipment=shipment,
        order=order,
        reference=f"{settings.XERO['REFERENCE_PREFIX']}{shipment.shipbob_shipment_id}",
        status=status,
        currency=currency,
        line_amount_types="Exclusive",
        subtotal=Decimal("40.00"),
        total_tax=Decimal("8.00"),
        total=total,
        # Shopify says the order is worth `variance` less than the lines add up to.
        expected_total=total - Decimal(variance),
        variance=Decimal(variance),
        mapping_version=order.mapping_version,
        contact_number=str(order.customer_id),
        contact_name="Ada Lovelace",
        contact_email=order.email,
        invoice_date=date(2026, 11, 21),
        due_date=date(2026, 11, 21),
        approved_by=approver if status in NEEDS_APPROVER else None,
        approved_at=SHIPPED_AT if status in NEEDS_APPROVER else None,
        xero_invoice_id=f"inv-{shipment.shipbob_shipment_id}" if posted else "",
        xero_total=Decimal(xero_total) if xero_total else (total if posted else None),
        posted_at=SHIPPED_AT if posted else None,
        reconciliation=reconciliation,
        reconciled_at=SHIPPED_AT
        if reconciliation != InvoiceDraft.Reconciliation.UNCHECKED
        else None,
    )
    InvoiceDraftLine.objects.create(
        draft=draft,
        kind=InvoiceDraftLine.Kind.ITEM,
        order_line=line,
        description="Classic tee — Black / M",
        quantity=Decimal(2),
        unit_amount=Decimal("20.00"),
        tax_amount=Decimal("8.00"),
        line_amount=Decimal("40.00"),
        item_code=line.sku,
        account_code="200",
        tax_type="OUTPUT2",
        source={
            "shopify_line_id": line.shopify_id,
            "sku": line.sku,
            "units_billable": 2,
            "units_billed_before": 0,
            "line_discount": "0.00",
            "line_tax": "8.00",
            "tax_lines": [{"title": "VAT", "rate": "0.200000", "amount": "8.00"}],
            "mapping_version": order.mapping_version,
        },
    )
    return draft


def credit_note(*, status: str = CreditNoteDraft.Status.DRAFT) -> CreditNoteDraft:
    """A credit note for one of a posted draft's two tees: 20.00 + VAT 4.00 = 24.00."""
    invoice = invoice_draft(status=InvoiceDraft.Status.POSTED)
    line = invoice.lines.get()
    note = CreditNoteDraft.objects.create(
        order=invoice.order,
        invoice=invoice,
        reason="Refund 1: damaged",
        reference=f"{invoice.reference}-CN",
        status=status,
        currency=invoice.currency,
        line_amount_types="Exclusive",
        subtotal=Decimal("20.00"),
        total_tax=Decimal("4.00"),
        total=Decimal("24.00"),
        expected_total=Decimal("24.00"),
        contact_number=invoice.contact_number,
        contact_name=invoice.contact_name,
        credit_date=date(2026, 11, 22),
    )
    CreditNoteLine.objects.create(
        draft=note,
        kind=CreditNoteLine.Kind.ITEM,
        order_line=line.order_line,
        description=line.description,
        quantity=Decimal(1),
        unit_amount=Decimal("20.00"),
        tax_amount=Decimal("4.00"),
        line_amount=Decimal("20.00"),
        account_code="200",
        tax_type="OUTPUT2",
    )
    return note
