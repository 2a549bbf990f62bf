"""Finance's decisions on invoice and credit-note drafts: approve (one or many), reject, correct
codes. All audited; a correction after approval returns the draft to review."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.invoicing.models import (
    CreditNoteDraft,
    CreditNoteLine,
    DraftStatus,
    InvoiceDraft,
    InvoiceDraftLine,
)
from apps.sync.models import OutboxMessage
from apps.sync.outbox import outbox_enqueue

APPROVE_PERMISSION = "invoicing.approve_invoicedraft"
LANE_INVOICES = 40  # invoices can wait until morning; orders cannot (DESIGN.md §3)
# Audit verbs per kind of draft: invoice_draft.approved, credit_note.approved, …


def _require_approver(actor) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied("Only Finance approves or rejects invoice and credit-note drafts.")


def _post_enqueue(*, action: str, draft: InvoiceDraft | CreditNoteDraft) -> OutboxMessage:
    """Queue the draft for Xero; a message left dead or skipped by an earlier approval (the draft
    went back to review) is opened again under the same key, so Xero still sees one Reference."""
    message = outbox_enqueue(
        peer="xero",
        action=action,
        idempotency_key=f"xero.{action}:{draft.reference}",
        payload={"draft_id": draft.pk, "reference": draft.reference},
        priority=LANE_INVOICES,
        subject=draft,
    )
    reopen = message.status == OutboxMessage.Status.DEAD or (
        message.status == OutboxMessage.Status.DONE and (message.result or {}).get("skipped")
    )
    if reopen:
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxMessage.Status.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            last_error="",
            result=None,
        )
    return message


def invoice_post_enqueue(*, draft: InvoiceDraft) -> OutboxMessage:
    return _post_enqueue(action="invoice_post", draft=draft)


def credit_note_post_enqueue(*, draft: CreditNoteDraft) -> OutboxMessage:
    return _post_enqueue(action="credit_note_post", draft=draft)


def _drafts_approve(*, actor, model, drafts: list, enqueue) -> list:
    _require_approver(actor)
    approved = []
    for candidate in drafts:
        with transaction.atomic():
            draft = model.objects.select_for_update().get(pk=candidate.pk)
            if draft.status != DraftStatus.DRAFT:
                continue
            draft.status = DraftStatus.APPROVED
            draft.approved_by = actor
            draft.approved_at = timezone.now()
            draft.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
            enqueue(draft=draft)
            audit_record(
                actor=actor,
                verb=verbs.INVOICE_DRAFT_APPROVED
                if model is InvoiceDraft
                else verbs.CREDIT_NOTE_APPROVED,
                target=draft,
                data={
                    "total": str(draft.total),
                    "currency": draft.currency,
                    "variance": str(draft.variance),
                },
            )
            approved.append(draft)
    return approved


def invoice_drafts_approve(*, actor, drafts: list[InvoiceDraft]) -> list[InvoiceDraft]:
    """Approve drafts awaiting approval and queue them for Xero, in one transaction per draft."""
    return _drafts_approve(
        actor=actor, model=InvoiceDraft, drafts=drafts, enqueue=invoice_post_enqueue
    )


def credit_notes_approve(*, actor, drafts: list[CreditNoteDraft]) -> list[CreditNoteDraft]:
    """Approve credit-note drafts awaiting approval and queue them for Xero, one transaction each."""
    return _drafts_approve(
        actor=actor, model=CreditNoteDraft, drafts=drafts, enqueue=credit_note_post_enqueue
    )


def _draft_reject(*, actor, model, draft, reason: str):
    _require_approver(actor)
    reason = reason.strip()
    if not reason:
        raise ValidationError("Say why the draft is rejected.")
    draft = model.objects.select_for_update().get(pk=draft.pk)
    if draft.status != DraftStatus.DRAFT:
        raise ValidationError(
            f"Only a draft awaiting approval can be rejected (this one is {draft.status})."
        )
    draft.status = DraftStatus.REJECTED
    draft.rejected_by = actor
    draft.rejected_at = timezone.now()
    draft.reject_reason = reason
    draft.save(
        update_fields=["status", "rejected_by", "rejected_at", "reject_reason", "updated_at"]
    )
    audit_record(
        actor=actor,
        verb=verbs.INVOICE_DRAFT_REJECTED if model is InvoiceDraft else verbs.CREDIT_NOTE_REJECTED,
        target=draft,
        data={"reason": reason},
    )
    return draft


@transaction.atomic
def invoice_draft_reject(*, actor, draft: InvoiceDraft, reason: str) -> InvoiceDraft:
    return _draft_reject(actor=actor, model=InvoiceDraft, draft=draft, reason=reason)


@transaction.atomic
def credit_note_reject(*, actor, draft: CreditNoteDraft, reason: str) -> CreditNoteDraft:
    return _draft_reject(actor=actor, model=CreditNoteDraft, draft=draft, reason=reason)


@transaction.atomic
def invoice_draft_line_correct(
    *, actor, line: InvoiceDraftLine | CreditNoteLine, account_code: str, tax_type: str
) -> InvoiceDraftLine | CreditNoteLine:
    """Finance corrects a line's account or tax code (audited). A draft Xero refused, and so was
    approved once, goes back to review: what is posted is always what someone approved."""
    _require_approver(actor)
    line = type(line).objects.select_related("draft").select_for_update().get(pk=line.pk)
    draft = line.draft
    if not draft.codes_correctable:
        raise ValidationError(
            "Codes can only be corrected before approval, or after Xero refused the draft."
        )
    account_code, tax_type = account_code.strip(), tax_type.strip()
    if not account_code or not tax_type:
        raise ValidationError("Account code and tax type are both required.")
    before = {"account_code": line.account_code, "tax_type": line.tax_type}
    line.account_code, line.tax_type = account_code, tax_type
    if before["tax_type"] != tax_type:
        line.tax_rate = None  # Xero's rate for a hand-picked type is unknown: post our tax figure
    line.save(update_fields=["account_code", "tax_type", "tax_rate"])
    is_invoice = isinstance(draft, InvoiceDraft)
    audit_record(
        actor=actor,
        verb=verbs.INVOICE_DRAFT_LINE_CORRECTED if is_invoice else verbs.CREDIT_NOTE_LINE_CORRECTED,
        target=draft,
        data={
            "line": line.pk,
            "before": before,
            "after": {"account_code": account_code, "tax_type": tax_type},
        },
    )
    if draft.status != DraftStatus.DRAFT:
        previous = draft.status
        draft.status = DraftStatus.DRAFT
        draft.approved_by = None
        draft.approved_at = None
        draft.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
        audit_record(
            actor=actor,
            verb=verbs.INVOICE_DRAFT_REOPENED if is_invoice else verbs.CREDIT_NOTE_REOPENED,
            target=draft,
            data={"from": previous, "why": "codes changed after approval"},
        )
    return line
