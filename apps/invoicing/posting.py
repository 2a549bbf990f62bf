"""Approved drafts → Xero, up to 50 invoices a call; and the check that Xero still agrees.

Steady state is at most three calls per 50 invoices: look up uncached contacts, create the missing
ones, put the invoices. On a retry (an earlier attempt may have reached Xero) the batch first looks
its References up, so nothing is created twice even if the Idempotency-Key has expired.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.invoicing.connection import xero_call_recorded, xero_client
from apps.invoicing.credits import credit_note_for_posted_draft
from apps.invoicing.drafts import xero_line_tax
from apps.invoicing.models import CreditNoteDraft, InvoiceDraft, XeroContact
from apps.sync.alerts import alert_clear, alert_kind_register, alert_raise
from apps.sync.models import OutboxMessage
from apps.sync.outbox import Failed, Sent, outbox_action, outbox_enqueue
from integrations.http import PeerError
from integrations.xero.client import (
    InvoiceResult,
    XeroClient,
    XeroInvoice,
    allocation_body,
    contact_body,
    credit_note_body,
    invoice_body,
)

XERO_RECONCILIATION = alert_kind_register(
    "xero.reconciliation",
    title="Xero disagrees with posted invoices",
    severity="warning",
    resolves="by itself when a reconciliation finds nothing missing or mismatched",
    auto_resolves=True,
)

PEER = "xero"
# Approved and not yet in Xero; a failed draft that Ops replays (after a fix that did not change
# it) is sent again with its approver. Any change returns a draft to review (services.py).
UNSENT = (InvoiceDraft.Status.APPROVED, InvoiceDraft.Status.FAILED)
BATCH = 50
LANE_RECONCILE = 50
LANE_INVOICES = 40


def _batch_key(kind: str, bodies: list[dict]) -> str:
    """The same bodies give the same key (a retry is replayed by Xero); a corrected body, a new one."""
    canonical = json.dumps(bodies, sort_keys=True, default=str, separators=(",", ":"))
    return f"o2c-{kind}-{hashlib.sha256(canonical.encode()).hexdigest()[:40]}"


def _contacts_ensure(
    client: XeroClient, drafts: list[InvoiceDraft]
) -> tuple[dict[str, str], dict[str, str]]:
    """ContactNumber → ContactID for every draft (cache first, then one find and one bulk create),
    and Xero's words for each contact it refused to create."""
    refused: dict[str, str] = {}
    wanted = {draft.contact_number: draft for draft in drafts}
    known = dict(
        XeroContact.objects.filter(contact_number__in=wanted).values_list(
            "contact_number", "contact_id"
        )
    )
    missing = [number for number in wanted if number not in known]
    if missing:
        found = client.contacts_by_number(missing)
        known.update(found)
        XeroContact.objects.bulk_create(
            [XeroContact(contact_number=n, contact_id=c) for n, c in found.items()],
            ignore_conflicts=True,
        )
        to_create = [number for number in missing if number not in found]
        if to_create:
            bodies = []
            for number in to_create:
                draft = wanted[number]
                first, _, last = draft.contact_name.partition(" ")
                try:
                    bodies.append(
                        contact_body(
                            contact_number=number,
                            # Xero wants unique names among active contacts: the number keeps them apart.
                            name=f"{draft.contact_name} ({number})"[:255],
                            email=draft.contact_email,
                            first_name=first,
                            last_name=last,
                        )
                    )
                except ValueError as error:  # e.g. an email Xero would refuse: fail only its drafts
                    refused[number] = str(error)
            results = []
            if bodies:
                key = _batch_key("contacts", bodies)
                results = client.contacts_put(bodies, idempotency_key=key)
            for result in results:
                if result.contact_id:
                    known[result.contact_number] = result.contact_id
                    XeroContact.objects.get_or_create(
                        contact_number=result.contact_number,
                        defaults={"contact_id": result.contact_id},
                    )
                else:
                    refused[result.contact_number] = "; ".join(result.errors)
    return known, refused


def _limits_record(client: XeroClient) -> None:
    limits = client.last_limits
    if limits is not None:
        xero_call_recorded(
            day_remaining=limits.day_remaining, minute_remaining=limits.minute_remaining
        )


def line_items(draft: InvoiceDraft | CreditNoteDraft) -> list[dict]:
    """Xero LineItems. Tax is left to Xero's own arithmetic (its rate, rounded per line) where that
    comes to Shopify's figure; a line where it would not carries Shopify's tax as TaxAmount."""
    inclusive = draft.line_amount_types == "Inclusive"
    lines = []
    for line in draft.lines.all():
        item = {
            "Description": line.description,
            "Quantity": line.quantity,
            "UnitAmount": line.unit_amount,
            "AccountCode": line.account_code,
            "TaxType": line.tax_type,
        }
        agrees = line.tax_rate is not None and line.tax_amount == xero_line_tax(
            line_amount=line.line_amount, rate=line.tax_rate, inclusive=inclusive
        )
        if not agrees:
            item["TaxAmount"] = line.tax_amount
        if line.item_code:
            item["ItemCode"] = line.item_code
        if line.discount_amount:
            item["DiscountAmount"] = line.discount_amount
        lines.append(item)
    return lines


def _invoice(draft: InvoiceDraft, contact_id: str) -> dict:
    lines = line_items(draft)
    return invoice_body(
        reference=draft.reference,
        contact_id=contact_id,
        date=draft.invoice_date,
        due_date=draft.due_date,
        currency=draft.currency,
        line_amount_types=draft.line_amount_types,
        status=settings.XERO["INVOICE_STATUS"],
        lines=lines,
    )


@transaction.atomic
def _posted(message: OutboxMessage, result: dict) -> None:
    if result.get("skipped"):
        return
    draft = InvoiceDraft.objects.select_for_update().get(pk=message.payload["draft_id"])
    # Voided while the post was in flight: it reached Xero all the same, so it is credited.
    voided = draft.status == InvoiceDraft.Status.VOIDED
    draft.status = InvoiceDraft.Status.POSTED
    draft.xero_invoice_id = result["invoice_id"]
    draft.xero_total = Decimal(result["total"]) if result.get("total") is not None else None
    draft.posted_at = timezone.now()
    draft.post_error = ""
    if draft.xero_total is not None:
        matched = draft.xero_total == draft.total
        draft.reconciliation = (
            InvoiceDraft.Reconciliation.MATCHED
            if matched
            else InvoiceDraft.Reconciliation.MISMATCHED
        )
        draft.reconciled_at = timezone.now()
    draft.save()
    if voided:
        credit_note_for_posted_draft(draft=draft, reason=draft.void_reason or "Voided in flight")
    for credit_note in draft.credit_notes.filter(status=CreditNoteDraft.Status.POSTED):
        allocation_enqueue(credit_note=credit_note)


@transaction.atomic
def _post_dead(message: OutboxMessage, error: PeerError) -> None:
    draft = InvoiceDraft.objects.select_for_update().get(pk=message.payload["draft_id"])
    draft.status = InvoiceDraft.Status.FAILED
    draft.post_error = error.message
    draft.save(update_fields=["status", "post_error", "updated_at"])


@dataclass(frozen=True)
class _Documents:
    """How one kind of approved draft reaches Xero: the model, the result's id key, the batch's
    name (in its idempotency key), the Reference lookup, the batch PUT and the body of one."""

    model: type[InvoiceDraft] | type[CreditNoteDraft]
    id_key: str
    batch: str
    lookup: Callable[[XeroClient, list[str]], list[XeroInvoice]]
    put: Callable[[XeroClient, list[dict], str], list[InvoiceResult]]
    body: Callable[[Any, str], dict]


def _drafts_post(messages: list[OutboxMessage], documents: _Documents) -> list:
    """Approved drafts → one Xero batch PUT, contacts first; a retry or replay looks each
    Reference up before sending, so a draft that reached Xero is never created twice."""
    drafts = documents.model.objects.prefetch_related("lines").in_bulk(
        [m.payload["draft_id"] for m in messages]
    )
    outcomes: dict[int, object] = {}
    sendable = []
    for message in messages:
        draft = drafts[message.payload["draft_id"]]
        if draft.status not in UNSENT or draft.approved_by_id is None:
            outcomes[message.pk] = Sent(result={"skipped": draft.status})
        else:
            sendable.append((message, draft))
    if sendable:
        client = xero_client()
        try:
            # Any earlier attempt (a retry, or a replay after a failure) may have reached Xero.
            if any(message.attempts > 1 or message.last_error for message, _ in sendable):
                existing = {
                    document.reference: document
                    for document in documents.lookup(client, [d.reference for _, d in sendable])
                }
                for message, draft in list(sendable):
                    found = existing.get(draft.reference)
                    if found:
                        outcomes[message.pk] = Sent(
                            result={
                                documents.id_key: found.invoice_id,
                                "total": str(found.total),
                                "found": True,
                            }
                        )
                        sendable.remove((message, draft))
            if sendable:
                contacts, refused = _contacts_ensure(client, [d for _, d in sendable])
                for message, draft in list(sendable):
                    if draft.contact_number not in contacts:
                        words = refused.get(draft.contact_number) or "Xero did not create it"
                        outcomes[message.pk] = Failed(
                            error=PeerError(
                                PEER, f"contact {draft.contact_number}: {words}", retryable=False
                            )
                        )
                        sendable.remove((message, draft))
            if sendable:
                bodies = [documents.body(d, contacts[d.contact_number]) for _, d in sendable]
                results = documents.put(client, bodies, _batch_key(documents.batch, bodies))
                for (message, _draft), result in zip(sendable, results, strict=True):
                    if result.has_errors:
                        outcomes[message.pk] = Failed(
                            error=PeerError(
                                PEER, "; ".join(result.errors) or "Xero refused it", retryable=False
                            )
                        )
                    else:
                        outcomes[message.pk] = Sent(
                            result={
                                documents.id_key: result.invoice_id,
                                "total": str(result.total),
                                "status": result.status,
                            }
                        )
        finally:
            _limits_record(client)
            client.close()
    return [outcomes[message.pk] for message in messages]


INVOICES = _Documents(
    model=InvoiceDraft,
    id_key="invoice_id",
    batch="invoices",
    lookup=lambda client, references: client.invoices_by_reference(references),
    put=lambda client, bodies, key: client.invoices_put(bodies, idempotency_key=key),
    body=_invoice,
)


@outbox_action(PEER, "invoice_post", batch_size=BATCH, on_done=_posted, on_dead=_post_dead)
def xero_invoice_post(messages: list[OutboxMessage]) -> list:
    return _drafts_post(messages, INVOICES)


# --- Credit notes -------------------------------------------------------------------------------


def allocation_enqueue(*, credit_note: CreditNoteDraft) -> OutboxMessage | None:
    """Queue the allocation of a posted credit note to its posted invoice (in the caller's
    transaction). Xero allocates only AUTHORISED documents: with DRAFT postings Finance allocates
    in Xero after approving both there."""
    if settings.XERO["INVOICE_STATUS"] != "AUTHORISED" or credit_note.allocated_at:
        return None
    if not (credit_note.xero_credit_note_id and credit_note.invoice.xero_invoice_id):
        return None
    return outbox_enqueue(
        peer=PEER,
        action="credit_note_allocate",
        idempotency_key=f"xero.credit_note_allocate:{credit_note.reference}",
        payload={"credit_note_id": credit_note.pk},
        priority=LANE_INVOICES,
        subject=credit_note,
    )


@transaction.atomic
def _credit_posted(message: OutboxMessage, result: dict) -> None:
    if result.get("skipped"):
        return
    draft = CreditNoteDraft.objects.select_for_update().get(pk=message.payload["draft_id"])
    draft.status = CreditNoteDraft.Status.POSTED
    draft.xero_credit_note_id = result["credit_note_id"]
    draft.xero_total = Decimal(result["total"]) if result.get("total") is not None else None
    draft.posted_at = timezone.now()
    draft.post_error = ""
    draft.save()
    allocation_enqueue(credit_note=draft)


@transaction.atomic
def _credit_post_dead(message: OutboxMessage, error: PeerError) -> None:
    draft = CreditNoteDraft.objects.select_for_update().get(pk=message.payload["draft_id"])
    draft.status = CreditNoteDraft.Status.FAILED
    draft.post_error = error.message
    draft.save(update_fields=["status", "post_error", "updated_at"])


def _credit_note(draft: CreditNoteDraft, contact_id: str) -> dict:
    return credit_note_body(
        reference=draft.reference,
        contact_id=contact_id,
        date=draft.credit_date,
        currency=draft.currency,
        line_amount_types=draft.line_amount_types,
        status=settings.XERO["INVOICE_STATUS"],
        lines=line_items(draft),
    )


CREDIT_NOTES = _Documents(
    model=CreditNoteDraft,
    id_key="credit_note_id",
    batch="credit-notes",
    lookup=lambda client, references: client.credit_notes_by_reference(references),
    put=lambda client, bodies, key: client.credit_notes_put(bodies, idempotency_key=key),
    body=_credit_note,
)


@outbox_action(
    PEER, "credit_note_post", batch_size=BATCH, on_done=_credit_posted, on_dead=_credit_post_dead
)
def xero_credit_note_post(messages: list[OutboxMessage]) -> list:
    """Approved credit notes → Xero's CreditNotes, 50 a call, looked up by Reference on a retry."""
    return _drafts_post(messages, CREDIT_NOTES)


@transaction.atomic
def _allocated(message: OutboxMessage, result: dict) -> None:
    CreditNoteDraft.objects.filter(pk=message.payload["credit_note_id"]).update(
        allocated_at=timezone.now(), allocation_error=""
    )


@transaction.atomic
def _allocation_dead(message: OutboxMessage, error: PeerError) -> None:
    CreditNoteDraft.objects.filter(pk=message.payload["credit_note_id"]).update(
        allocation_error=error.message
    )


@outbox_action(PEER, "credit_note_allocate", on_done=_allocated, on_dead=_allocation_dead)
def xero_credit_note_allocate(messages: list[OutboxMessage]) -> list:
    """One allocation call per credit note (Xero has no batch for them); a retry looks first."""
    notes = CreditNoteDraft.objects.select_related("invoice").in_bulk(
        [m.payload["credit_note_id"] for m in messages]
    )
    outcomes = []
    client = xero_client()
    try:
        for message in messages:
            note = notes[message.payload["credit_note_id"]]
            invoice_id = note.invoice.xero_invoice_id
            if message.attempts > 1 and invoice_id in client.credit_note_allocations(
                note.xero_credit_note_id
            ):
                outcomes.append(Sent(result={"found": True}))
                continue
            body = allocation_body(
                invoice_id=invoice_id,
                amount=min(note.total, note.invoice.total),
                date=timezone.localdate(),
            )
            errors = client.credit_note_allocate(
                note.xero_credit_note_id,
                body,
                idempotency_key=f"o2c-allocation-{note.reference}"[:128],
            )
            if errors:
                outcomes.append(Failed(error=PeerError(PEER, "; ".join(errors), retryable=False)))
            else:
                outcomes.append(Sent(result={"invoice_id": invoice_id}))
    finally:
        _limits_record(client)
        client.close()
    return outcomes


# --- Reconciliation ------------------------------------------------------------------------------


def invoices_reconcile_enqueue() -> OutboxMessage:
    """Scheduled: one reconciliation pass per minute bucket, on the Xero lane after postings."""
    bucket = timezone.now().strftime("%Y-%m-%dT%H:%M")
    return outbox_enqueue(
        peer=PEER,
        action="invoices_reconcile",
        idempotency_key=f"xero.invoices_reconcile:{bucket}",
        payload={},
        priority=LANE_RECONCILE,
    )


def invoices_reconcile_task() -> dict:
    return {"message": invoices_reconcile_enqueue().pk}


@outbox_action(PEER, "invoices_reconcile")
def xero_invoices_reconcile(messages: list[OutboxMessage]) -> list:
    """Check every posted draft against Xero by Reference, 50 at a time: matched, missing, mismatched."""
    posted = list(
        InvoiceDraft.objects.filter(status=InvoiceDraft.Status.POSTED).order_by(
            "reconciled_at", "pk"
        )[:1000]
    )
    counts = {"matched": 0, "missing": 0, "mismatched": 0}
    if posted:
        client = xero_client()
        try:
            for start in range(0, len(posted), BATCH):
                chunk = posted[start : start + BATCH]
                found = {
                    inv.reference: inv
                    for inv in client.invoices_by_reference([d.reference for d in chunk])
                }
                now = timezone.now()
                for draft in chunk:
                    invoice = found.get(draft.reference)
                    if invoice is None:
                        state = InvoiceDraft.Reconciliation.MISSING
                    elif invoice.total != draft.total:
                        state = InvoiceDraft.Reconciliation.MISMATCHED
                    else:
                        state = InvoiceDraft.Reconciliation.MATCHED
                    counts[state] += 1
                    InvoiceDraft.objects.filter(pk=draft.pk).update(
                        reconciliation=state,
                        reconciled_at=now,
                        xero_total=invoice.total if invoice else draft.xero_total,
                    )
        finally:
            _limits_record(client)
            client.close()
    if not (counts["missing"] or counts["mismatched"]):
        alert_clear(dedupe_key=XERO_RECONCILIATION.name, reason="Xero agrees with every invoice")
    else:
        alert_raise(
            kind="xero.reconciliation",
            severity="warning",
            dedupe_key="xero.reconciliation",
            message=f"Xero disagrees with {counts['missing']} missing and {counts['mismatched']} mismatched invoices.",
            link=reverse("invoicing:reconciliation"),
        )
    return [Sent(result=counts)] + [
        Sent(result={"merged_into": messages[0].pk}) for _ in messages[1:]
    ]
