"""The exception sources this layer can see: holds, dead outbox messages, failed receipts, invoice
drafts Xero refused, reply drafts the model failed. Lower apps (inventory) register their own in
`apps.sync.exceptions`; the queue (`apps.ops.selectors.exceptions_*`) lists every registered one.

Each retry goes through the owning app's own audited service; a dry run returns the requests it
would send (`ExternalWrite`), built the way the sender builds them, and changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.invoicing.models import InvoiceDraft
from apps.orders.models import Hold, Order, Shipment
from apps.orders.services import order_holds_release
from apps.orders.warehouse import warehouse_order_body
from apps.support.drafting import reply_draft_request
from apps.support.models import ReplyDraft
from apps.sync.exceptions import (
    ExceptionEntry,
    ExceptionSource,
    ExternalWrite,
    RetryOutcome,
    exception_source_register,
)
from apps.sync.models import OutboxMessage, WebhookReceipt
from apps.sync.replay import outbox_replay, receipt_replay
from apps.web import humanize_value

# Posting failures are listed once, as the draft Xero refused (kind "draft_post_failed").
XERO_POST = ("xero", "invoice_post")


def _order_link(order: Order | None) -> dict:
    if order is None:
        return {}
    return {"order_id": order.pk, "order_name": order.name}


# --- Outbound requests, as the senders build them ------------------------------------------------


def outbox_write(message: OutboxMessage) -> ExternalWrite:
    """The request replaying this message sends, built from the domain row as it is now."""
    if (message.peer, message.action) == ("shipbob", "order_create"):
        order = Order.objects.filter(pk=message.payload.get("order_id")).first()
        if order is not None:
            return _warehouse_write(order)
    if (message.peer, message.action) == XERO_POST:
        draft = InvoiceDraft.objects.filter(pk=message.payload.get("draft_id")).first()
        if draft is not None:
            return _xero_write(draft)
    if (message.peer, message.action) == ("shopify", "fulfillment_create"):
        shipment = Shipment.objects.filter(pk=message.payload.get("shipment_id")).first()
        if shipment is not None:
            return _fulfillment_write(shipment)
    if (message.peer, message.action) == ("mail", "reply_send"):
        draft = ReplyDraft.objects.filter(pk=message.payload.get("draft_id")).first()
        if draft is not None:
            return _mail_write(draft)
    return ExternalWrite(
        peer=message.peer,
        method=message.action,
        url=message.peer,
        body=message.payload,
        note=f"The {message.peer}.{message.action} sender builds its request from this payload "
        f"when it runs; idempotency key {message.idempotency_key}",
    )


def _warehouse_write(order: Order) -> ExternalWrite:
    url = f"{settings.SHIPBOB['BASE_URL']}/order"
    try:
        body = warehouse_order_body(order)
    except (AttributeError, KeyError, ValueError) as error:
        return ExternalWrite("shipbob", "POST", url, note=f"Cannot be built yet: {error}")
    return ExternalWrite("shipbob", "POST", url, body, note=f"reference_id {order.shopify_id}")


def _fulfillment_write(shipment: Shipment) -> ExternalWrite:
    shopify = settings.SHOPIFY
    return ExternalWrite(
        peer="shopify",
        method="POST",
        url=f"{shopify['BASE_URL']}/admin/api/{shopify['API_VERSION']}/graphql.json",
        body={
            "mutation": "fulfillmentCreate",
            "order": shipment.order.admin_graphql_api_id or shipment.order.name,
            "trackingInfo": {
                "company": shipment.carrier,
                "number": shipment.tracking_number,
                "url": shipment.tracking_url,
            },
            "notifyCustomer": True,
        },
        note="The lines are those Shopify still shows open when it is sent.",
    )


def _mail_write(draft: ReplyDraft) -> ExternalWrite:
    return ExternalWrite(
        peer="mail",
        method="SEND",
        url=f"mailto:{draft.ticket.customer_email}",
        body={"subject": draft.ticket.subject, "body": draft.body},
        note="The approved reply, by email.",
    )


def _xero_write(draft: InvoiceDraft) -> ExternalWrite:
    lines = [
        {
            "Description": line.description,
            "Quantity": str(line.quantity),
            "UnitAmount": str(line.unit_amount),
            "AccountCode": line.account_code,
            "TaxType": line.tax_type,
        }
        for line in draft.lines.all()
    ]
    return ExternalWrite(
        peer="xero",
        method="PUT",
        url=f"{settings.XERO['API_URL']}/Invoices?summarizeErrors=false&unitdp=4",
        body={
            "Type": "ACCREC",
            "Reference": draft.reference,
            "Contact": {"ContactNumber": draft.contact_number},
            "CurrencyCode": draft.currency,
            "LineAmountTypes": draft.line_amount_types,
            "Status": settings.XERO["INVOICE_STATUS"],
            "LineItems": lines,
        },
        note=f"Idempotency-Key per batch; Reference {draft.reference}",
    )


# --- Holds ---------------------------------------------------------------------------------------


def _holds_describe(holds) -> list[ExceptionEntry]:
    return [
        ExceptionEntry(
            kind="hold",
            pk=hold.pk,
            since=hold.created_at,
            error=f"{hold.get_reason_display()}: {hold.detail}",
            url=reverse("orders:detail", args=[hold.order_id]),
            **_order_link(hold.order),
        )
        for hold in holds
    ]


def _holds_retry(*, actor, ids: list[int], dry_run: bool) -> RetryOutcome:
    orders = list(
        Order.objects.filter(holds__pk__in=ids, status=Order.Status.HELD).distinct().order_by("pk")
    )
    if dry_run:
        return RetryOutcome(writes=[_warehouse_write(order) for order in orders])
    released = order_holds_release(actor=actor, orders=orders)
    still = [o.name for o in orders if o.pk not in {r.pk for r in released}]
    return RetryOutcome(
        retried=len(released), skipped=[f"{name} is still held: fix its mapping" for name in still]
    )


# --- Dead outbox messages ------------------------------------------------------------------------


def _outbox_open():
    return OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD).exclude(
        peer=XERO_POST[0], action=XERO_POST[1]
    )


def _outbox_describe(messages) -> list[ExceptionEntry]:
    order_ids = [int(m.subject_id) for m in messages if m.subject_type == "orders.order"]
    orders = Order.objects.only("pk", "name").in_bulk(order_ids)
    return [
        ExceptionEntry(
            kind="outbox_dead",
            pk=message.pk,
            since=message.updated_at,
            error=f"{humanize_value(message.peer)} refused {humanize_value(message.action)}: "
            f"{message.last_error or 'no reason given'}",
            url=reverse("ops:outbox-detail", args=[message.pk]),
            **_order_link(
                orders.get(int(message.subject_id))
                if message.subject_type == "orders.order"
                else None
            ),
        )
        for message in messages
    ]


def _outbox_retry(*, actor, ids: list[int], dry_run: bool) -> RetryOutcome:
    result = outbox_replay(actor=actor, ids=ids, dry_run=dry_run)
    if dry_run:
        return RetryOutcome(writes=[outbox_write(m) for m in result.messages])
    return RetryOutcome(retried=result.count)


# --- Failed receipts -----------------------------------------------------------------------------


def _receipts_describe(receipts) -> list[ExceptionEntry]:
    return [
        ExceptionEntry(
            kind="receipt_failed",
            pk=receipt.pk,
            since=receipt.received_at,
            error=f"{humanize_value(receipt.source)} {receipt.topic} could not be applied: "
            f"{receipt.error or 'no reason given'}",
            url=reverse("ops:receipt-detail", args=[receipt.pk]),
        )
        for receipt in receipts
    ]


def _receipts_retry(*, actor, ids: list[int], dry_run: bool) -> RetryOutcome:
    result = receipt_replay(actor=actor, ids=ids, dry_run=dry_run)
    if dry_run:
        # Re-applying a stored delivery reads our own copy: it sends nothing to a peer by itself.
        return RetryOutcome(writes=[])
    return RetryOutcome(retried=result.count)


# --- Invoice drafts Xero refused -----------------------------------------------------------------


def _drafts_describe(drafts) -> list[ExceptionEntry]:
    return [
        ExceptionEntry(
            kind="draft_post_failed",
            pk=draft.pk,
            since=draft.updated_at,
            error=f"Xero refused invoice {draft.reference}: {draft.post_error or 'no reason given'}",
            url=reverse("invoicing:detail", args=[draft.pk]),
            **_order_link(draft.order),
        )
        for draft in drafts
    ]


def _drafts_retry(*, actor, ids: list[int], dry_run: bool) -> RetryOutcome:
    references = InvoiceDraft.objects.filter(
        pk__in=ids, status=InvoiceDraft.Status.FAILED
    ).values_list("reference", flat=True)
    keys = [f"{XERO_POST[0]}.{XERO_POST[1]}:{reference}" for reference in references]
    message_ids = list(
        OutboxMessage.objects.filter(
            idempotency_key__in=keys, status=OutboxMessage.Status.DEAD
        ).values_list("pk", flat=True)
    )
    if not message_ids:
        return RetryOutcome(skipped=["No dead Xero post to replay for these drafts."])
    return _outbox_retry(actor=actor, ids=message_ids, dry_run=dry_run)


# --- Reply drafts the model failed ---------------------------------------------------------------


def _replies_describe(drafts) -> list[ExceptionEntry]:
    return [
        ExceptionEntry(
            kind="reply_draft_failed",
            pk=draft.pk,
            since=draft.updated_at,
            error=f"The AI draft for “{draft.ticket.subject or draft.ticket.customer_email}” failed: "
            f"{draft.error or 'no reason given'}",
            url=reverse("support:ticket", args=[draft.ticket_id]),
            **_order_link(draft.ticket.order),
        )
        for draft in drafts
    ]


def _replies_retry(*, actor, ids: list[int], dry_run: bool) -> RetryOutcome:
    drafts = list(
        ReplyDraft.objects.filter(pk__in=ids, status=ReplyDraft.Status.FAILED).select_related(
            "ticket"
        )
    )
    if dry_run:
        config = settings.AZURE_OPENAI
        return RetryOutcome(
            writes=[
                ExternalWrite(
                    peer="llm",
                    method="POST",
                    url=f"{config['BASE_URL']}/chat/completions",
                    body={"model": config["DEPLOYMENT"], "ticket": draft.ticket.subject},
                    note="A new draft of the reply; nothing reaches the customer without approval.",
                )
                for draft in drafts
            ]
        )
    for draft in drafts:
        with transaction.atomic():
            new = reply_draft_request(ticket=draft.ticket)
            audit_record(
                actor=actor,
                verb=verbs.REPLY_DRAFT_REGENERATED,
                target=new,
                data={"replaces": draft.pk, "via": "exception queue"},
            )
    return RetryOutcome(retried=len(drafts))


SOURCES = (
    ExceptionSource(
        kind="hold",
        label="Held order",
        since="created_at",
        open=lambda: Hold.objects.filter(released_at__isnull=True),
        describe=_holds_describe,
        fix="Add or fix the SKU mapping (Admin → SKU mappings) or the address in Shopify, then retry.",
        retry=_holds_retry,
        related=("order",),
    ),
    ExceptionSource(
        kind="outbox_dead",
        label="Dead outbox message",
        since="updated_at",
        open=_outbox_open,
        describe=_outbox_describe,
        fix="Read the peer's refusal, fix the data it names, then retry (dry run first).",
        retry=_outbox_retry,
    ),
    ExceptionSource(
        kind="receipt_failed",
        label="Failed webhook receipt",
        since="received_at",
        open=lambda: WebhookReceipt.objects.filter(status=WebhookReceipt.Status.FAILED).defer(
            "body", "headers"
        ),
        describe=_receipts_describe,
        fix="Fix what the error names (usually a mapping), then retry: the stored body is re-applied.",
        retry=_receipts_retry,
    ),
    ExceptionSource(
        kind="draft_post_failed",
        label="Invoice Xero refused",
        since="updated_at",
        open=lambda: InvoiceDraft.objects.filter(status=InvoiceDraft.Status.FAILED),
        describe=_drafts_describe,
        fix="Finance corrects the account or tax code on the draft, then Ops retries the post.",
        retry=_drafts_retry,
        related=("order",),
    ),
    ExceptionSource(
        kind="reply_draft_failed",
        label="AI reply draft failed",
        since="updated_at",
        open=lambda: ReplyDraft.objects.filter(status=ReplyDraft.Status.FAILED).defer(
            "prompt_system", "prompt_user", "raw_output", "context_snapshot"
        ),
        describe=_replies_describe,
        fix="Retry drafts a new reply; if the model keeps failing, Support writes the reply by hand.",
        retry=_replies_retry,
        related=("ticket__order",),
    ),
)


def exception_sources_register() -> None:
    for source in SOURCES:
        exception_source_register(source)
