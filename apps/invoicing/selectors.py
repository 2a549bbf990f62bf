"""Read queries for the finance pages: the draft queue, its totals, one draft, reconciliation."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from apps.audit.models import AuditEvent
from apps.invoicing.models import (
    DEAD_STATUSES,
    CreditNoteDraft,
    InvoiceDraft,
    InvoiceDraftLine,
    RefundReview,
)
from apps.orders.models import Order, Refund
from apps.sync.models import OutboxMessage

CENT = Decimal("0.01")
MONEY = DecimalField(max_digits=14, decimal_places=2)


def invoice_drafts_search(
    *, status: str = "", variance_only: bool = False, currency: str = "", query: str = ""
) -> QuerySet[InvoiceDraft]:
    """Drafts for the finance queue: by status, variance, currency, order name or reference."""
    drafts = InvoiceDraft.objects.select_related("order", "shipment")
    if status:
        drafts = drafts.filter(status=status)
    if variance_only:
        drafts = drafts.exclude(variance=0)
    if currency:
        drafts = drafts.filter(currency=currency)
    query = query.strip()
    if query:
        name = query if query.startswith("#") else f"#{query}"
        prefix = settings.XERO["REFERENCE_PREFIX"]
        drafts = drafts.filter(
            Q(order__name__iexact=name)
            | Q(order__name__iexact=query)
            | Q(reference__iexact=query)
            # A bare shipment id finds its draft without the reference prefix.
            | Q(reference__iexact=f"{prefix}{query}")
        )
    return drafts.order_by("-created_at", "-id")


def invoice_draft_totals(drafts: QuerySet[InvoiceDraft]) -> list[dict]:
    """Per currency of the given drafts: how many, their total and tax, how many are flagged."""
    rows = list(
        drafts.order_by()
        .values("currency")
        .annotate(
            count=Count("pk"),
            total=Sum("total"),
            tax=Sum("total_tax"),
            flagged=Count("pk", filter=~Q(variance=0)),
        )
        .order_by("currency")
    )
    for row in rows:
        # SQLite sums decimals without their scale (48, not 48.00): money shows in cents.
        row["total"] = (row["total"] or Decimal(0)).quantize(CENT)
        row["tax"] = (row["tax"] or Decimal(0)).quantize(CENT)
    return rows


def invoice_draft_currencies() -> list[str]:
    return list(
        InvoiceDraft.objects.order_by("currency").values_list("currency", flat=True).distinct()
    )


def invoice_draft_for_page(pk: int) -> QuerySet[InvoiceDraft]:
    """One draft with what its page shows: order, shipment, approver, lines with their order line."""
    return (
        InvoiceDraft.objects.select_related("order", "shipment", "approved_by", "rejected_by")
        .prefetch_related(Prefetch("lines", InvoiceDraftLine.objects.select_related("order_line")))
        .filter(pk=pk)
    )


def draft_audit(draft: InvoiceDraft | CreditNoteDraft) -> QuerySet[AuditEvent]:
    """The draft's audit rows, oldest first: created, corrected, approved or rejected."""
    return AuditEvent.objects.filter(
        target_type=draft._meta.label_lower, target_id=str(draft.pk)
    ).order_by("at", "id")


def credit_notes_search(*, status: str = "") -> QuerySet[CreditNoteDraft]:
    notes = CreditNoteDraft.objects.select_related("order", "invoice")
    if status:
        notes = notes.filter(status=status)
    return notes.order_by("-created_at", "-id")


def credit_note_for_page(pk: int) -> QuerySet[CreditNoteDraft]:
    return (
        CreditNoteDraft.objects.select_related("order", "invoice", "approved_by", "rejected_by")
        .prefetch_related("lines")
        .filter(pk=pk)
    )


def invoices_posted(*, state: str = "") -> QuerySet[InvoiceDraft]:
    """Drafts that reached Xero, for the reconciliation report, newest check first."""
    drafts = InvoiceDraft.objects.filter(status=InvoiceDraft.Status.POSTED).select_related("order")
    if state:
        drafts = drafts.filter(reconciliation=state)
    return drafts.order_by("-posted_at", "-id")


def reconciliation_counts() -> dict[str, int]:
    """Posted drafts per reconciliation state, every state present (zero when none)."""
    rows = (
        InvoiceDraft.objects.filter(status=InvoiceDraft.Status.POSTED)
        .order_by()
        .values("reconciliation")
        .annotate(n=Count("pk"))
    )
    counts = dict.fromkeys(InvoiceDraft.Reconciliation.values, 0)
    counts.update({row["reconciliation"]: row["n"] for row in rows})
    return counts


def reconciliation_last_check() -> OutboxMessage | None:
    """The latest reconciliation pass (its outbox message carries the counts it found)."""
    return (
        OutboxMessage.objects.filter(peer="xero", action="invoices_reconcile")
        .order_by("-created_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class OrderMoney:
    order_id: int
    name: str
    currency: str
    shopify_total: Decimal
    invoiced: Decimal
    credited: Decimal

    @property
    def difference(self) -> Decimal:
        return self.invoiced - self.credited - self.shopify_total


def orders_money_check() -> tuple[int, list[OrderMoney]]:
    """Every fully shipped order: its drafts minus its credit notes against Shopify's current
    total (rejected and voided ones left out). Returns (orders checked, those that differ).

    An order with a refund the invoicing scan has not reviewed yet (it runs every minute) is left
    for the next check: see `orders_awaiting_refund_review`."""
    live = ~Q(status__in=DEAD_STATUSES)
    orders = (
        Order.objects.filter(status__in=[Order.Status.SHIPPED, Order.Status.FULFILLED])
        .exclude(pk__in=orders_awaiting_refund_review())
        .annotate(
            invoiced=Coalesce(
                Subquery(_sum_per_order(InvoiceDraft, live)), Value(Decimal(0)), output_field=MONEY
            ),
            credited=Coalesce(
                Subquery(_sum_per_order(CreditNoteDraft, live)),
                Value(Decimal(0)),
                output_field=MONEY,
            ),
        )
        .order_by("pk")
    )
    checked, differing = 0, []
    for order in orders.iterator(chunk_size=2000):
        checked += 1
        total = (
            order.current_total_price
            if order.current_total_price is not None
            else order.total_price
        )
        # SQLite sums decimals without their scale: money is compared and shown in cents.
        row = OrderMoney(
            order.pk,
            order.name,
            order.currency,
            total,
            Decimal(order.invoiced).quantize(CENT),
            Decimal(order.credited).quantize(CENT),
        )
        if row.difference.quantize(CENT) != 0:
            differing.append(row)
    return checked, differing


def _sum_per_order(model, live: Q):
    return (
        model.objects.filter(live, order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(s=Sum("total"))
        .values("s")
    )


def orders_awaiting_refund_review() -> QuerySet[Order]:
    """Orders with a Shopify refund the invoicing scan has not reviewed yet (a credit note may
    be due)."""
    unreviewed = Refund.objects.filter(order=OuterRef("pk")).exclude(
        Exists(RefundReview.objects.filter(refund=OuterRef("pk")))
    )
    return Order.objects.filter(Exists(unreviewed)).values("pk")
