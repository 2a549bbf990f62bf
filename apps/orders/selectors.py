"""Read queries for the order pages and for operators' scripts."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Upper

from apps.audit.models import AuditEvent
from apps.inventory.models import SkuMapping
from apps.orders.models import Hold, Order, OrderLine, PollWatermark
from apps.orders.reconcile import WATERMARK as SHOPIFY_POLL_WATERMARK
from apps.orders.reconcile import poll_lag_seconds
from apps.sync.links import OUTBOX_MESSAGE, RECEIPT, link_for
from apps.sync.models import OutboxMessage, WebhookReceipt
from apps.sync.selectors import outbox_backlog, outbox_counts, receipt_counts


def _per_order_count(model, **filters) -> Coalesce:
    rows = (
        model.objects.filter(order=OuterRef("pk"), **filters)
        .order_by()
        .values("order")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def order_search(*, status: str = "", query: str = "") -> QuerySet[Order]:
    """Orders for the list: filtered by status, searched by order name or email.

    The per-row counts are subqueries, not joins: the paginator's COUNT drops them, and the page
    query computes them for its rows only.
    """
    orders = Order.objects.annotate(
        line_count=_per_order_count(OrderLine),
        open_holds=_per_order_count(Hold, released_at__isnull=True),
    )
    if status:
        orders = orders.filter(status=status)
    query = query.strip()
    if query:
        name = query if query.startswith("#") else f"#{query}"
        orders = orders.filter(
            Q(name__iexact=name)
            | Q(name__iexact=query)
            | Q(email__iexact=query)
            | Q(email__istartswith=query)
        )
    return orders.order_by("-shopify_created_at", "-id")


def skus_mapped() -> QuerySet:
    """Every mapped SKU, upper-cased (a subquery for 'not mapped any more')."""
    return SkuMapping.objects.annotate(u=Upper("shopify_sku")).values("u")


def holds_open() -> QuerySet[Hold]:
    return (
        Hold.objects.filter(released_at__isnull=True)
        .select_related("order", "line")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    source: str  # "order", "receipt", "hold", "outbox", "audit"
    title: str
    detail: str = ""
    url: str = ""
    status: str = ""


def order_timeline(order: Order) -> list[TimelineEntry]:
    """Everything that happened to one order, oldest first: a fixed number of queries."""
    entries: list[TimelineEntry] = []
    receipt_ids = set()
    for event in order.events.all():
        entries.append(TimelineEntry(event.at, "order", event.message, status=event.kind))
        if event.data.get("receipt_id"):
            receipt_ids.add(event.data["receipt_id"])
    for receipt in WebhookReceipt.objects.filter(pk__in=receipt_ids).only(
        "pk", "source", "topic", "received_at", "status", "error", "delivery_id"
    ):
        entries.append(
            TimelineEntry(
                receipt.received_at,
                "receipt",
                f"Webhook {receipt.topic} received",
                receipt.error or f"delivery {receipt.delivery_id}",
                url=link_for(RECEIPT, pk=receipt.pk),
                status=receipt.status,
            )
        )
    for hold in order.holds.select_related("line", "released_by"):
        entries.append(
            TimelineEntry(
                hold.created_at,
                "hold",
                f"Held: {hold.get_reason_display()}",
                hold.detail,
                status="held",
            )
        )
        if hold.released_at:
            who = hold.released_by.email if hold.released_by else "automatically"
            entries.append(
                TimelineEntry(
                    hold.released_at,
                    "hold",
                    f"Hold released: {hold.get_reason_display()}",
                    f"released {who}",
                    status="released",
                )
            )
    for message in OutboxMessage.objects.filter(
        subject_type="orders.order", subject_id=str(order.pk)
    ):
        entries.append(
            TimelineEntry(
                message.created_at,
                "outbox",
                f"{message.peer}.{message.action}",
                message.last_error or f"{message.attempts} attempt(s)",
                url=link_for(OUTBOX_MESSAGE, pk=message.pk),
                status=message.status,
            )
        )
    for audit in AuditEvent.objects.filter(target_type="orders.order", target_id=str(order.pk)):
        entries.append(
            TimelineEntry(audit.at, "audit", f"{audit.verb} by {audit.actor_label}", status="audit")
        )
    entries.sort(key=lambda entry: entry.at)
    return entries


def pipeline_counts() -> dict:
    """Counts by status for `pipeline_status --json` and the dashboard (one query per table)."""
    orders = dict(Order.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "orders": {status: orders.get(status, 0) for status in Order.Status.values},
        "receipts": receipt_counts(),
        "outbox": outbox_counts(),
        "holds_open": Hold.objects.filter(released_at__isnull=True).count(),
        "warehouse": outbox_backlog(peer="shipbob"),
        "shopify_poll": shopify_poll_state(),
    }


def shopify_poll_state() -> dict:
    """The Shopify reconciliation poll's watermark, its age (the lag) and whether a pass is open."""
    mark = PollWatermark.objects.filter(name=SHOPIFY_POLL_WATERMARK).first()
    if mark is None:
        return {"watermark": None, "lag_seconds": None, "pass_in_progress": False}
    return {
        "watermark": mark.value.isoformat(),
        "lag_seconds": poll_lag_seconds(mark),
        "pass_in_progress": bool(mark.cursor),
    }
