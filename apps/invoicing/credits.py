"""Credit-note drafts: what Xero must give back after invoicing, to the cent of Shopify's figures.

- A refund recorded after the order was invoiced credits the refunded units the drafts already
  billed (Shopify's refund subtotal and tax for them, shared pro rata by units when only some were
  billed) plus whatever the refund gives back beyond its lines (shipping, an amount). Refunded
  units not yet billed need no credit: later drafts leave them out.
- A parcel that turns out never to have shipped voids its draft, or credits it in full once posted.

A scheduled scan reviews each refund once (in its own transaction) and gives an order where nothing
ships a draft of its own, so neither waits on a webhook order.
"""

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.invoicing.drafts import (
    ORDER_PREFETCH,
    ZERO,
    billed_before,
    draft_totals,
    invoice_draft_build,
    line_description,
    live,
    share,
)
from apps.invoicing.models import (
    DEAD_STATUSES,
    CreditNoteDraft,
    CreditNoteLine,
    DraftLine,
    DraftStatus,
    InvoiceDraft,
    InvoiceDraftLine,
    RefundReview,
)
from apps.orders.models import Order, OrderLine, Refund, Shipment
from apps.orders.warehouse import on_shipment_voided

SCAN_BATCH = 200
UNPOSTED = (DraftStatus.DRAFT, DraftStatus.APPROVED, DraftStatus.FAILED)


def _credited_units(order: Order) -> dict[int, int]:
    rows = (
        CreditNoteLine.objects.filter(draft__order=order, kind=DraftLine.Kind.ITEM)
        .exclude(draft__status__in=DEAD_STATUSES)
        .values("order_line")
        .annotate(q=Sum("quantity"))
    )
    return {row["order_line"]: int(row["q"] or 0) for row in rows}


def _credit_note_create(
    *, order: Order, invoice: InvoiceDraft, lines: list[CreditNoteLine], **fields
) -> CreditNoteDraft:
    subtotal, tax, total = draft_totals(lines, order.taxes_included)
    expected = fields.pop("expected_total", total)
    draft = CreditNoteDraft.objects.create(
        order=order,
        invoice=invoice,
        currency=order.currency,
        line_amount_types="Inclusive" if order.taxes_included else "Exclusive",
        subtotal=subtotal,
        total_tax=tax,
        total=total,
        expected_total=expected,
        variance=total - expected,
        contact_number=invoice.contact_number,
        contact_name=invoice.contact_name,
        contact_email=invoice.contact_email,
        **fields,
    )
    for line in lines:
        line.draft = draft
    CreditNoteLine.objects.bulk_create(lines)
    audit_record(
        actor=None,
        actor_label="system:invoicing",
        verb=verbs.CREDIT_NOTE_CREATED,
        target=draft,
        data={"order": order.name, "total": str(total), "reason": draft.reason},
    )
    return draft


def credit_note_for_refund(*, refund: Refund) -> CreditNoteDraft | None:
    """The credit note a refund needs (None: nothing it refunds was invoiced); reviewed once."""
    with transaction.atomic():
        if refund.order_id is None:
            return None  # the order has not arrived yet: reviewed when it is linked
        order = Order.objects.select_for_update().get(pk=refund.order_id)
        review, created = RefundReview.objects.get_or_create(refund=refund)
        if not created:
            return review.credit_note
        order = Order.objects.prefetch_related(*ORDER_PREFETCH).get(pk=order.pk)
        drafts = list(live(order.invoice_drafts.all()).order_by("pk"))
        if not drafts:
            return None  # refunded before invoicing: the drafts leave the refunded units out
        billed = billed_before(order)
        credited = _credited_units(order)
        by_shopify_id = {line.shopify_id: line for line in order.lines.all()}
        invoiced_lines = {
            row.order_line_id: row
            for row in InvoiceDraftLine.objects.filter(
                draft__in=drafts, kind=DraftLine.Kind.ITEM
            ).order_by("pk")
        }
        inclusive = order.taxes_included
        lines: list[CreditNoteLine] = []
        refund_lines_total = ZERO
        for refund_line in refund.lines.all():
            line_total = refund_line.subtotal + (ZERO if inclusive else refund_line.total_tax)
            refund_lines_total += line_total
            line = by_shopify_id.get(refund_line.line_shopify_id)
            if line is None or line.pk not in invoiced_lines:
                continue
            refunded_all = sum(
                rl.quantity
                for r in order.refunds.all()
                for rl in r.lines.all()
                if rl.line_shopify_id == line.shopify_id
            )
            keep = max(0, line.quantity - refunded_all)  # units Shopify still charges for
            over = max(0, billed.get(line.pk, (0,))[0] - keep) - credited.get(line.pk, 0)
            units = min(refund_line.quantity, over)
            if units <= 0:
                continue
            if units == refund_line.quantity:
                subtotal, tax = refund_line.subtotal, refund_line.total_tax
            else:
                subtotal = share(refund_line.subtotal, units, refund_line.quantity)
                tax = share(refund_line.total_tax, units, refund_line.quantity)
            billed_line = invoiced_lines[line.pk]
            lines.append(
                CreditNoteLine(
                    kind=DraftLine.Kind.ITEM,
                    order_line=line,
                    description=line_description(line),
                    quantity=Decimal(units),
                    unit_amount=line.price,
                    discount_amount=max(ZERO, line.price * units - subtotal),
                    tax_amount=tax,
                    line_amount=subtotal,
                    item_code=billed_line.item_code,
                    account_code=billed_line.account_code,
                    tax_type=billed_line.tax_type,
                    tax_rate=billed_line.tax_rate,
                    source={
                        "refund_id": refund.shopify_id,
                        "refund_line_units": refund_line.quantity,
                        "refund_subtotal": str(refund_line.subtotal),
                        "refund_tax": str(refund_line.total_tax),
                        "units_credited": units,
                    },
                )
            )
        # Shipping or an amount refunded beyond the lines (the first draft billed shipping).
        beyond = refund.amount - refund_lines_total
        if beyond:
            lines.append(
                CreditNoteLine(
                    kind=DraftLine.Kind.ADJUSTMENT,
                    description="Refund of shipping or an amount"[:500],
                    quantity=Decimal(1),
                    unit_amount=beyond,
                    line_amount=beyond,
                    account_code=settings.XERO["SHIPPING_ACCOUNT_CODE"],
                    tax_type="NONE",
                    tax_rate=Decimal(0),
                    source={"refund_id": refund.shopify_id, "refund_amount": str(refund.amount)},
                )
            )
        if not lines:
            return None
        first_item = next((line for line in lines if line.order_line_id), None)
        invoice_pk = invoiced_lines[first_item.order_line_id].draft_id if first_item else None
        invoice = next((d for d in drafts if d.pk == invoice_pk), drafts[0])
        moment = refund.processed_at or refund.shopify_created_at
        review.credit_note = _credit_note_create(
            order=order,
            invoice=invoice,
            lines=lines,
            refund=refund,
            reason=f"Refund {refund.shopify_id}: {refund.note or 'no note'}"[:500],
            reference=f"{settings.XERO['REFERENCE_PREFIX']}REFUND-{refund.shopify_id}",
            credit_date=timezone.localdate(moment),
        )
        review.save(update_fields=["credit_note"])
    return review.credit_note


def credit_note_for_posted_draft(*, draft: InvoiceDraft, reason: str) -> CreditNoteDraft:
    """Credit a posted draft in full (its parcel never shipped). Idempotent on the draft."""
    reference = f"{settings.XERO['REFERENCE_PREFIX']}VOID-{draft.reference}"[:255]
    existing = CreditNoteDraft.objects.filter(reference=reference).first()
    if existing:
        return existing
    lines = [
        CreditNoteLine(
            kind=line.kind,
            order_line=line.order_line,
            description=line.description,
            quantity=line.quantity,
            unit_amount=line.unit_amount,
            discount_amount=line.discount_amount,
            tax_amount=line.tax_amount,
            line_amount=line.line_amount,
            item_code=line.item_code,
            account_code=line.account_code,
            tax_type=line.tax_type,
            tax_rate=line.tax_rate,
            source={"credits_invoice_line": line.pk},
        )
        for line in draft.lines.all()
    ]
    return _credit_note_create(
        order=draft.order,
        invoice=draft,
        lines=lines,
        reason=f"{reason[:400]} (credits {draft.reference} in full)",
        reference=reference,
        credit_date=timezone.localdate(),
        expected_total=draft.total,
    )


@on_shipment_voided
def invoice_draft_void(shipment: Shipment) -> InvoiceDraft | None:
    """A recorded parcel never shipped: void its unposted draft, or credit the posted one.

    Runs inside the transaction that records the news (the order row is locked there)."""
    draft = InvoiceDraft.objects.select_for_update().filter(shipment=shipment).first()
    if draft is None:
        return None
    reason = f"Parcel {shipment.shipbob_shipment_id} never shipped ({shipment.status or 'voided'})"
    if draft.status in UNPOSTED:
        previous = draft.status
        draft.status = DraftStatus.VOIDED
        draft.void_reason = reason
        draft.save(update_fields=["status", "void_reason", "updated_at"])
        audit_record(
            actor=None,
            actor_label="system:invoicing",
            verb=verbs.INVOICE_DRAFT_VOIDED,
            target=draft,
            data={"from": previous, "reason": reason},
        )
    elif draft.status == DraftStatus.POSTED:
        credit_note_for_posted_draft(draft=draft, reason=reason)
    return draft


def invoicing_scan() -> dict:
    """Scheduled: review new refunds (credit notes) and draft orders where nothing ships."""
    refunds = list(
        Refund.objects.filter(order__isnull=False)
        .exclude(Exists(RefundReview.objects.filter(refund=OuterRef("pk"))))
        .order_by("pk")[:SCAN_BATCH]
    )
    credit_notes = sum(credit_note_for_refund(refund=refund) is not None for refund in refunds)
    ships = OrderLine.objects.filter(
        order=OuterRef("pk"),
        requires_shipping=True,
        handling="",
        sku_mapping__warehouse_managed=True,
    )
    unshipped = (
        Order.objects.filter(status__in=[Order.Status.READY, Order.Status.SUBMITTED])
        .exclude(Exists(ships))
        .exclude(Exists(InvoiceDraft.objects.filter(order=OuterRef("pk"))))
        .order_by("pk")[:SCAN_BATCH]
    )
    drafts = 0
    for candidate in unshipped:
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=candidate.pk)
            if not order.invoice_drafts.exists():
                drafts += invoice_draft_build(order=order, shipment=None) is not None
    return {"refunds_reviewed": len(refunds), "credit_notes": credit_notes, "drafts": drafts}
