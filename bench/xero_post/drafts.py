"""The Django side of the Xero posting bench: reset, approved drafts in bulk, the stand-in's records.

Import after `django.setup()`. Orders come from the storefront simulator's `order_build` (discounts,
several tax lines, tax-inclusive GBP/EUR shops, shipping) parsed by the real `order_from_rest`, and
are bulk-created already shipped in one parcel each; every draft is then built by the real
`invoice_draft_for_shipment` and approved by the real `invoice_drafts_approve`, which queues the
`xero.invoice_post` outbox messages the pump sends. Each order has its own customer: a share of
them is "already known" (a contact in the stand-in's books, and by default in our XeroContact cache
too, as after an earlier posting); the rest are new to Xero and must be created.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from bench.common import tables_reset

# Shipment ids far from the demo's and the tests', so a bench draft is recognisable (SHIP-73…).
SHIPMENT_ID_BASE = 7_300_000_000_000
APPROVER_EMAIL = "bench-finance@example.com"

# Emptied before a run: orders, drafts, the contact cache, the connection (so the token fetch is
# counted), outbox and budget state, and the Xero stand-in's books, counters, windows and faults.
RESET_TABLES = (
    "invoicing_invoicedraftline",
    "invoicing_invoicedraft",
    "invoicing_xerocontact",
    "invoicing_xeroconnection",
    "orders_shipmentline",
    "orders_shipment",
    "orders_orderevent",
    "orders_hold",
    "orders_refundline",
    "orders_refund",
    "orders_discountallocation",
    "orders_taxline",
    "orders_shippingline",
    "orders_orderline",
    "orders_order",
    "sync_outboxmessage",
    "sync_ratebudget",
    "sync_pumplease",
    "sync_alert",
    "sandbox_sandboxfault",
    "sandbox_xero_invoice",
    "sandbox_xero_contact",
    "sandbox_xero_idempotentanswer",
    "sandbox_xero_callcount",
    "sandbox_xero_ratewindow",
    "sandbox_xero_inflight",
    "sandbox_xero_issuedtoken",
    "django_q_ormq",
    "django_q_task",
    "django_q_schedule",
)


def bench_tables_reset() -> None:
    """Empty every table the bench writes or measures (PostgreSQL: one TRUNCATE)."""
    tables_reset(RESET_TABLES)


def bench_approver():
    """The finance person who approves the bench's drafts (the Finance role's permission)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from apps.accounts.roles import FINANCE

    user, _ = get_user_model().objects.get_or_create(email=APPROVER_EMAIL)
    user.groups.add(Group.objects.get(name=FINANCE))
    return get_user_model().objects.get(pk=user.pk)  # fresh: no cached permissions


@dataclass
class BenchDrafts:
    references: list[str]
    drafts: int
    approved: int
    queued: int  # xero.invoice_post outbox messages waiting
    contacts_new: int  # customers Xero does not know yet
    contacts_known: int  # customers with a contact in the stand-in's books
    contacts_cached: int  # ... and in our XeroContact cache
    currencies: dict[str, int]
    inclusive: int
    with_discount: int
    lines: int
    variance_flagged: int
    build_seconds: float


def _orders_build(n: int, rng: random.Random) -> list:
    """n OrderData from the simulator's payloads, every one with its own customer and order id."""
    from apps.orders.shopify_payload import order_from_rest
    from apps.sandbox.shopify.simulator import SimulatorConfig, order_build

    config = SimulatorConfig(sku_missing_rate=0.0, unknown_sku_rate=0.0, cancel_rate=0.0)
    now = timezone.now() - timedelta(hours=1)
    seen_orders: set[int] = set()
    seen_customers: set[int] = set()
    orders = []
    number = 500_000
    while len(orders) < n:
        number += 1
        payload, _shop = order_build(rng, number=number, config=config, at=now)
        data = order_from_rest(payload)
        if data.shopify_id in seen_orders or data.customer_id in seen_customers:
            continue
        seen_orders.add(data.shopify_id)
        seen_customers.add(data.customer_id)
        orders.append(data)
    return orders


def _shipped_orders_create(datas: list, *, batch: int) -> list:
    """Bulk-create the orders as shipped in one parcel each; returns their Shipments."""
    from apps.inventory.models import SkuMapping
    from apps.inventory.services import mapping_version_current
    from apps.orders.models import (
        DiscountAllocation,
        Order,
        OrderLine,
        Shipment,
        ShipmentLine,
        ShippingLine,
        TaxLine,
    )
    from apps.orders.services import ORDER_FIELDS

    mappings = {m.shopify_sku: m for m in SkuMapping.objects.all()}
    version = mapping_version_current()
    shipped_at = timezone.now() - timedelta(minutes=30)
    shipments: list = []
    for start in range(0, len(datas), batch):
        chunk = datas[start : start + batch]
        with transaction.atomic():
            orders = Order.objects.bulk_create(
                Order(
                    shopify_id=data.shopify_id,
                    shopify_created_at=data.created_at,
                    shopify_updated_at=data.updated_at,
                    status=Order.Status.SHIPPED,
                    mapping_version=version,
                    warehouse_order_id=SHIPMENT_ID_BASE + start + index,
                    submitted_at=shipped_at,
                    **{name: getattr(data, name) for name in ORDER_FIELDS},
                )
                for index, data in enumerate(chunk)
            )
            lines, taxes, discounts = [], [], []
            for order, data in zip(orders, chunk, strict=True):
                for item in data.lines:
                    line = OrderLine(
                        order=order,
                        shopify_id=item.shopify_id,
                        sku=item.sku,
                        variant_id=item.variant_id,
                        product_id=item.product_id,
                        title=item.title,
                        variant_title=item.variant_title,
                        quantity=item.quantity,
                        fulfillable_quantity=0,
                        price=item.price,
                        total_discount=item.total_discount,
                        requires_shipping=item.requires_shipping,
                        gift_card=item.gift_card,
                        taxable=item.taxable,
                        sku_mapping=mappings[item.sku],
                    )
                    lines.append(line)
                    taxes += [
                        TaxLine(order_line=line, title=t.title, rate=t.rate, amount=t.amount)
                        for t in item.tax_lines
                    ]
                    discounts += [
                        DiscountAllocation(
                            order_line=line, amount=amount, discount_application_index=position
                        )
                        for amount, position in item.discount_allocations
                    ]
            OrderLine.objects.bulk_create(lines)
            shipping_lines, shipping_taxes = [], []
            for order, data in zip(orders, chunk, strict=True):
                for item in data.shipping_lines:
                    shipping = ShippingLine(
                        order=order,
                        shopify_id=item.shopify_id,
                        code=item.code,
                        title=item.title,
                        price=item.price,
                        discounted_price=item.discounted_price,
                    )
                    shipping_lines.append(shipping)
                    shipping_taxes += [
                        TaxLine(shipping_line=shipping, title=t.title, rate=t.rate, amount=t.amount)
                        for t in item.tax_lines
                    ]
            ShippingLine.objects.bulk_create(shipping_lines)
            TaxLine.objects.bulk_create(taxes + shipping_taxes)
            DiscountAllocation.objects.bulk_create(discounts)
            parcels = Shipment.objects.bulk_create(
                Shipment(
                    order=order,
                    shipbob_shipment_id=SHIPMENT_ID_BASE + start + index,
                    shipbob_order_id=order.warehouse_order_id,
                    status="Completed",
                    carrier="USPS",
                    tracking_number=f"9400{SHIPMENT_ID_BASE + start + index}",
                    shipped_at=shipped_at,
                    fulfillment_status=Shipment.FulfillmentStatus.DONE,
                )
                for index, order in enumerate(orders)
            )
            by_order = {}
            for line in lines:
                by_order.setdefault(line.order_id, []).append(line)
            ShipmentLine.objects.bulk_create(
                ShipmentLine(shipment=parcel, order_line=line, quantity=line.quantity)
                for parcel in parcels
                for line in by_order[parcel.order_id]
                if line.requires_shipping
            )
            shipments += parcels
    return shipments


def _known_contacts_seed(drafts: list, *, cached: bool) -> None:
    """Contacts Xero already holds for these drafts (as an earlier posting left them)."""
    from apps.invoicing.models import XeroContact
    from apps.sandbox.xero.books import DEMO_TENANT_ID
    from apps.sandbox.xero.models import Contact

    rows = []
    for draft in drafts:
        first, _, last = draft.contact_name.partition(" ")
        rows.append(
            Contact(
                tenant_id=DEMO_TENANT_ID,
                contact_id=str(uuid.uuid4()),
                contact_number=draft.contact_number,
                # The name _contacts_ensure gives a contact it creates.
                name=f"{draft.contact_name} ({draft.contact_number})"[:255],
                email=draft.contact_email,
                first_name=first,
                last_name=last,
            )
        )
    Contact.objects.bulk_create(rows, batch_size=1000)
    if cached:
        XeroContact.objects.bulk_create(
            [XeroContact(contact_number=c.contact_number, contact_id=c.contact_id) for c in rows],
            batch_size=1000,
        )


def approved_drafts_create(
    *, n: int, known_share: float = 0.5, known_cached: bool = True, seed: int = 11, batch: int = 500
) -> BenchDrafts:
    """n shipped orders → n real drafts → approved and queued for Xero; known customers seeded."""
    import time

    from apps.invoicing.drafts import invoice_draft_for_shipment
    from apps.invoicing.models import InvoiceDraft
    from apps.invoicing.services import invoice_drafts_approve
    from apps.sync.models import OutboxMessage
    from o2c_portal.management.commands.seed_demo import demo_mappings_seed

    started = time.monotonic()
    demo_mappings_seed()
    rng = random.Random(seed)
    shipments = _shipped_orders_create(_orders_build(n, rng), batch=batch)
    drafts = [invoice_draft_for_shipment(shipment=shipment) for shipment in shipments]
    drafts = [draft for draft in drafts if draft is not None]
    # Known customers are spread over the queue, so every batch of 50 carries the same mix.
    known = rng.sample(drafts, k=round(len(drafts) * known_share))
    _known_contacts_seed(known, cached=known_cached)
    approved = invoice_drafts_approve(actor=bench_approver(), drafts=drafts)
    rows = InvoiceDraft.objects.filter(pk__in=[d.pk for d in drafts])
    return BenchDrafts(
        references=[d.reference for d in drafts],
        drafts=len(drafts),
        approved=len(approved),
        queued=OutboxMessage.objects.filter(
            peer="xero", action="invoice_post", status=OutboxMessage.Status.PENDING
        ).count(),
        contacts_new=len(drafts) - len(known),
        contacts_known=len(known),
        contacts_cached=len(known) if known_cached else 0,
        currencies=dict(Counter(rows.values_list("currency", flat=True))),
        inclusive=rows.filter(line_amount_types="Inclusive").count(),
        with_discount=rows.filter(lines__discount_amount__gt=0).distinct().count(),
        lines=sum(rows.annotate(n=Count("lines")).values_list("n", flat=True)),
        variance_flagged=rows.exclude(variance=0).count(),
        build_seconds=round(time.monotonic() - started, 1),
    )


# --- What the stand-in and our side recorded ------------------------------------------------------


def stand_in_counters() -> tuple[dict[str, int], dict[str, int]]:
    """The stand-in's calls let through and calls answered 429, per kind ("PUT Invoices", "token"…)."""
    from apps.sandbox.xero.models import CallCount

    calls, throttled = {}, {}
    for row in CallCount.objects.all():
        calls[row.kind] = row.calls
        if row.throttled:
            throttled[row.kind] = row.throttled
    return calls, throttled


@dataclass
class PostingRecords:
    references: int  # our drafts' references
    invoices: int  # invoices the stand-in holds for them
    references_posted: int  # references with at least one invoice in the stand-in
    duplicates: int  # invoices beyond the first per reference (must be 0)
    max_per_reference: int
    drafts_posted: int
    ids_matching: int  # drafts whose xero_invoice_id is the stand-in's invoice for the reference
    totals_matching: int  # ... and whose Xero total equals the draft's total
    failed: int
    dead: int
    contacts_created: int  # contacts the stand-in holds beyond the ones seeded as known
    idempotent_replays: int
    first_invoice_at: float | None  # epoch seconds
    last_invoice_at: float | None


def posting_records(references: list[str], *, contacts_seeded: int) -> PostingRecords:
    from apps.invoicing.models import InvoiceDraft
    from apps.sandbox.xero.models import Contact, IdempotentAnswer, Invoice
    from apps.sync.models import OutboxMessage

    invoices = Invoice.objects.filter(reference__in=references)
    per_reference = dict(
        invoices.values("reference").annotate(n=Count("id")).values_list("reference", "n")
    )
    remote = {
        reference: (invoice_id, total)
        for reference, invoice_id, total in invoices.values_list("reference", "invoice_id", "total")
    }
    drafts = InvoiceDraft.objects.filter(reference__in=references)
    ids = totals = 0
    for reference, invoice_id, total, xero_total in drafts.filter(
        status=InvoiceDraft.Status.POSTED
    ).values_list("reference", "xero_invoice_id", "total", "xero_total"):
        found = remote.get(reference)
        ids += found is not None and found[0] == invoice_id
        totals += found is not None and found[0] == invoice_id and found[1] == total == xero_total
    span = invoices.aggregate(first=Min("updated_at"), last=Max("updated_at"))
    return PostingRecords(
        references=len(references),
        invoices=sum(per_reference.values()),
        references_posted=len(per_reference),
        duplicates=sum(n - 1 for n in per_reference.values()),
        max_per_reference=max(per_reference.values(), default=0),
        drafts_posted=drafts.filter(status=InvoiceDraft.Status.POSTED).count(),
        ids_matching=ids,
        totals_matching=totals,
        failed=drafts.filter(status=InvoiceDraft.Status.FAILED).count(),
        dead=OutboxMessage.objects.filter(peer="xero", status=OutboxMessage.Status.DEAD).count(),
        contacts_created=Contact.objects.count() - contacts_seeded,
        idempotent_replays=sum(IdempotentAnswer.objects.values_list("replays", flat=True)),
        first_invoice_at=span["first"].timestamp() if span["first"] else None,
        last_invoice_at=span["last"].timestamp() if span["last"] else None,
    )


def invoice_times() -> list[float]:
    """Every stand-in invoice's creation time (epoch seconds), oldest first."""
    from apps.sandbox.xero.models import Invoice

    return [
        moment.timestamp()
        for moment in Invoice.objects.order_by("updated_at").values_list("updated_at", flat=True)
    ]
