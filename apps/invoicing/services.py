"""Finance's decisions on invoice drafts: approve (one or many), reject, correct codes. All audited."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.invoicing.models import InvoiceDraft, InvoiceDraftLine
from apps.sync.models import OutboxMessage
from apps.sync.outbox import outbox_enqueue

APPROVE_PERMISSION = "invoicing.approve_invoicedraft"
LANE_INVOICES = 40  # invoices can wait until morning; orders cannot (DESIGN.md §3)


def _require_approver(actor) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied("Only Finance approves or rejects invoice drafts.")


def invoice_post_enqueue(*, draft: InvoiceDraft) -> OutboxMessage:
    return outbox_enqueue(
        peer="xero",
        action="invoice_post",
        idempotency_key=f"xero.invoice_post:{draft.reference}",
        payload={"draft_id": draft.pk, "reference": draft.reference},
        priority=LANE_INVOICES,
        subject=draft,
    )


def invoice_drafts_approve(*, actor, drafts: list[InvoiceDraft]) -> list[InvoiceDraft]:
    """Approve drafts awaiting approval and queue them for Xero, in one transaction per draft."""
    _require_approver(actor)
    approved = []
    for candidate in drafts:
        with transaction.atomic():
            draft = InvoiceDraft.objects.select_for_update().get(pk=candidate.pk)
            if draft.status != InvoiceDraft.Status.DRAFT:
                continue
            draft.status = InvoiceDraft.Status.APPROVED
            draft.approved_by = actor
            draft.approved_at = timezone.now()
            draft.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
            invoice_post_enqueue(draft=draft)
            audit_record(
                actor=actor,
                verb=verbs.INVOICE_DRAFT_APPROVED,
                target=draft,
                data={
                    "total": str(draft.total),
                    "currency": draft.currency,
                    "variance": str(draft.variance),
                },
            )
            approved.append(draft)
    return approved


@transaction.atomic
def invoice_draft_reject(*, actor, draft: InvoiceDraft, reason: str) -> InvoiceDraft:
    _require_approver(actor)
    reason = reason.strip()
    if not reason:
        raise ValidationError("Say why the draft is rejected.")
    draft = InvoiceDraft.objects.select_for_update().get(pk=draft.pk)
    if draft.status != InvoiceDraft.Status.DRAFT:
        raise ValidationError(
            f"Only a draft awaiting approval can be rejected (this one is {draft.status})."
        )
    draft.status = InvoiceDraft.Status.REJECTED
    draft.rejected_by = actor
    draft.rejected_at = timezone.now()
    draft.reject_reason = reason
    draft.save(
        update_fields=["status", "rejected_by", "rejected_at", "reject_reason", "updated_at"]
    )
    audit_record(
        actor=actor, verb=verbs.INVOICE_DRAFT_REJECTED, target=draft, data={"reason": reason}
    )
    return draft


@transaction.atomic
def invoice_draft_line_correct(
    *, actor, line: InvoiceDraftLine, account_code: str, tax_type: str
) -> InvoiceDraftLine:
    """Finance corrects a line's account or tax code before approval (the change is audited)."""
    _require_approver(actor)
    line = InvoiceDraftLine.objects.select_related("draft").select_for_update().get(pk=line.pk)
    if not line.draft.codes_correctable:
        raise ValidationError(
            "Codes can only be corrected before approval, or after Xero refused the draft."
        )
    account_code, tax_type = account_code.strip(), tax_type.strip()
    if not account_code or not tax_type:
        raise ValidationError("Account code and tax type are both required.")
    before = {"account_code": line.account_code, "tax_type": line.tax_type}
    line.account_code, line.tax_type = account_code, tax_type
    line.save(update_fields=["account_code", "tax_type"])
    audit_record(
        actor=actor,
        verb=verbs.INVOICE_DRAFT_LINE_CORRECTED,
        target=line.draft,
        data={
            "line": line.pk,
            "before": before,
            "after": {"account_code": account_code, "tax_type": tax_type},
        },
    )
    return line
