"""Many pipeline rows at once (bulk inserts), for the query-budget tests of the control room."""

import itertools
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from apps.invoicing.models import InvoiceDraft
from apps.orders.models import Hold, Order, OrderLine, Shipment
from apps.support.models import ReplyDraft, Ticket
from apps.sync.models import OutboxMessage, WebhookReceipt

_serial = itertools.count(1)
STATUSES = [
    Order.Status.RECEIVED,
    Order.Status.HELD,
    Order.Status.READY,
    Order.Status.SUBMITTED,
    Order.Status.SHIPPED,
    Order.Status.FULFILLED,
    Order.Status.FULFILLED,
    Order.Status.FULFILLED,
]


def pipeline_seed(n: int, *, approver) -> None:
    """`n` orders over every stage, with lines, holds, shipments, drafts, outbox rows, receipts
    and tickets; about one in eight of each kind of exception."""
    now = timezone.now()
    money = Decimal("24.00")
    orders = []
    for i in range(n):
        k = next(_serial)
        orders.append(
            Order(
                shopify_id=10**12 + k,
                name=f"#{50000 + k}",
                status=STATUSES[i % len(STATUSES)],
                email=f"buyer{k}@example.com",
                currency="GBP",
                subtotal_price=money,
                total_price=money,
                shopify_created_at=now - timedelta(minutes=i % 3000),
                shopify_updated_at=now,
                submitted_at=now - timedelta(minutes=i % 600),
            )
        )
    orders = Order.objects.bulk_create(orders)
    OrderLine.objects.bulk_create(
        OrderLine(
            order=o, shopify_id=o.shopify_id, sku="SKU-1", title="Mug", quantity=1, price=money
        )
        for o in orders
    )
    Hold.objects.bulk_create(
        Hold(order=o, reason=Hold.Reason.UNKNOWN_SKU, detail="SKU-1 is not mapped", sku="SKU-1")
        for o in orders
        if o.status == Order.Status.HELD
    )
    shipped = [o for o in orders if o.status in (Order.Status.SHIPPED, Order.Status.FULFILLED)]
    shipments = Shipment.objects.bulk_create(
        Shipment(order=o, shipbob_shipment_id=o.shopify_id, shipped_at=now - timedelta(hours=1))
        for o in shipped
    )
    InvoiceDraft.objects.bulk_create(
        InvoiceDraft(
            shipment=s,
            order_id=s.order_id,
            reference=f"SHIP-{s.shipbob_shipment_id}",
            status=InvoiceDraft.Status.FAILED if i % 8 == 0 else InvoiceDraft.Status.DRAFT,
            currency="GBP",
            line_amount_types="Exclusive",
            subtotal=money,
            total_tax=0,
            total=money,
            expected_total=money,
            contact_number="1",
            invoice_date=now.date(),
            due_date=now.date(),
            approved_by=approver if i % 8 == 0 else None,
            approved_at=now if i % 8 == 0 else None,
            post_error="Account code 999 is not valid" if i % 8 == 0 else "",
        )
        for i, s in enumerate(shipments)
    )
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            peer="shipbob",
            action="order_create",
            idempotency_key=f"shipbob.order_create:{o.shopify_id}",
            payload={"order_id": o.pk},
            priority=10,
            status=OutboxMessage.Status.DEAD if i % 8 == 0 else OutboxMessage.Status.DONE,
            last_error="422: shipping method unknown" if i % 8 == 0 else "",
            subject_type="orders.order",
            subject_id=str(o.pk),
            done_at=None if i % 8 == 0 else now,
        )
        for i, o in enumerate(orders)
    )
    WebhookReceipt.objects.bulk_create(
        WebhookReceipt(
            source="shopify",
            delivery_id=f"d-{o.shopify_id}",
            topic="orders/create",
            body=b"{}",
            status=WebhookReceipt.Status.FAILED if i % 8 == 1 else WebhookReceipt.Status.APPLIED,
            error="no line_items" if i % 8 == 1 else "",
        )
        for i, o in enumerate(orders)
    )
    tickets = Ticket.objects.bulk_create(
        Ticket(thread_id=f"t-{o.shopify_id}", customer_email=o.email, subject="Where?", order=o)
        for o in orders[::10]
    )
    ReplyDraft.objects.bulk_create(
        ReplyDraft(
            ticket=t,
            status=ReplyDraft.Status.FAILED if i % 4 == 0 else ReplyDraft.Status.READY,
            error="model timed out" if i % 4 == 0 else "",
        )
        for i, t in enumerate(tickets)
    )
