"""What a support agent does with a draft: edit, give reasons for flags, approve and send, reject,
regenerate.

Only an approved draft is ever sent: the service checks it, and a database constraint refuses a
sent or approved row without an approver. Every step is audited; an edit is stored as a diff.
"""

import difflib

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.support.drafting import claim_dict, flag_dict, reply_draft_request
from apps.support.guardrails import guardrails_check
from apps.support.models import ReplyDraft
from apps.sync.models import OutboxMessage
from apps.sync.outbox import outbox_enqueue

APPROVE_PERMISSION = "support.approve_replydraft"
REVIEWABLE = (ReplyDraft.Status.READY, ReplyDraft.Status.NEEDS_HUMAN)


def _require_agent(actor) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied("Only Support agents approve and send replies.")


def _locked(draft: ReplyDraft) -> ReplyDraft:
    return ReplyDraft.objects.select_for_update().select_related("ticket").get(pk=draft.pk)


# Flags about the model's call itself, not its text: they stay whatever the agent writes.
CALL_FLAGS = frozenset({"content_filter", "needs_human", "low_confidence"})
REASON_MAX = 500


def _reasons_apply(draft: ReplyDraft, reasons: dict[int, str]) -> None:
    """The agent's reasons, by the index of the flag on the screen they saw (this version)."""
    for index, reason in reasons.items():
        reason = str(reason or "").strip()[:REASON_MAX]
        if reason and isinstance(index, int) and 0 <= index < len(draft.flags):
            draft.flags[index] = {**draft.flags[index], "reason": reason}


def _flags_recheck(draft: ReplyDraft) -> None:
    """Check the agent's text like the model's: what the agent sends must be grounded too.

    A reason written for a flag stays with it while the same problem is still in the text; the
    second opinion (not asked again on an edit) keeps the flags whose words are still there.
    """
    reasons = {(f["code"], f["excerpt"]): f.get("reason", "") for f in draft.flags}
    kept = [flag for flag in draft.flags if flag["code"] in CALL_FLAGS]
    second = [
        flag
        for flag in draft.flags
        if flag["code"] == "second_opinion"
        and (not flag["excerpt"] or flag["excerpt"] in draft.body)
    ]
    review = guardrails_check(
        reply=draft.body,
        context=draft.context_snapshot or {},
        cited_policy_ids=draft.cited_policy_ids,
        link_allowlist=settings.SUPPORT["LINK_ALLOWLIST"],
    )
    found = [flag_dict(f) for f in review.flags if f.code not in CALL_FLAGS]
    flags = []
    for flag in kept + second + found:
        if reasons.get((flag["code"], flag["excerpt"])):
            flag = {**flag, "reason": reasons[(flag["code"], flag["excerpt"])]}
        flags.append(flag)
    draft.flags = flags
    second_claims = [
        c
        for c in draft.claims
        if "(second opinion)" in c.get("source", "") and c.get("excerpt", "") in draft.body
    ]
    draft.claims = [claim_dict(c) for c in review.claims] + second_claims


def _edit(actor, draft: ReplyDraft, body: str) -> None:
    body = body.replace("\r\n", "\n").strip()
    if body == draft.body:
        return
    diff = "".join(
        difflib.unified_diff(
            draft.body.splitlines(keepends=True), body.splitlines(keepends=True), "before", "after"
        )
    )
    draft.body = body
    draft.version += 1
    before = len(draft.unreasoned_flags)
    _flags_recheck(draft)
    audit_record(
        actor=actor,
        verb=verbs.REPLY_DRAFT_EDITED,
        target=draft,
        data={
            "diff": diff,
            "version": draft.version,
            "flags": [f["code"] for f in draft.flags],
            "new_unreasoned": len(draft.unreasoned_flags) - before,
        },
    )


def _version_check(draft: ReplyDraft, version: int | None) -> None:
    if version is not None and version != draft.version:
        raise ValidationError(
            "This draft changed after you opened it (someone else edited or acted on it). "
            "Nothing was approved: read the current text and try again."
        )


@transaction.atomic
def reply_draft_edit(
    *,
    actor,
    draft: ReplyDraft,
    body: str,
    version: int | None = None,
    reasons: dict[int, str] | None = None,
) -> ReplyDraft:
    """Save the agent's text and reasons, if the draft is still the version the agent saw."""
    _require_agent(actor)
    draft = _locked(draft)
    if draft.status not in REVIEWABLE:
        raise ValidationError(
            f"This draft can no longer be edited (it is {draft.get_status_display().lower()})."
        )
    _version_check(draft, version)
    _reasons_apply(draft, reasons or {})
    _edit(actor, draft, body)
    draft.save(update_fields=["body", "flags", "claims", "version", "updated_at"])
    return draft


def reply_send_enqueue(*, draft: ReplyDraft) -> OutboxMessage:
    return outbox_enqueue(
        peer="mail",
        action="reply_send",
        idempotency_key=f"mail.reply_send:{draft.pk}",
        payload={"draft_id": draft.pk},
        priority=5,
        subject=draft.ticket,
    )


def reply_draft_approve(
    *,
    actor,
    draft: ReplyDraft,
    body: str | None = None,
    version: int | None = None,
    reasons: dict[int, str] | None = None,
) -> ReplyDraft:
    """Approve exactly this text, as of the version the agent saw, and queue it for sending.

    Every flag needs the text fixed or a reason written. An edit or reasons given with the approval
    are saved (and the text re-checked) first, so a flag the edit raises is shown to the agent even
    when the approval is then refused for it; the approval itself compares, under the row lock,
    the text the agent submitted and the version they saw with what is stored.
    """
    _require_agent(actor)
    current = ReplyDraft.objects.get(pk=draft.pk)
    if current.status not in REVIEWABLE:
        raise ValidationError(
            f"Only a draft under review can be approved (this one is {current.status})."
        )
    body = current.body if body is None else body
    draft = reply_draft_edit(actor=actor, draft=draft, body=body, version=version, reasons=reasons)
    refused = _approve(actor=actor, draft=draft, body=body, version=draft.version)
    if refused:
        raise ValidationError(refused)
    return ReplyDraft.objects.get(pk=draft.pk)


@transaction.atomic
def _approve(*, actor, draft: ReplyDraft, body: str, version: int) -> str:
    """ "" when approved; else why not (the refusal is audited and committed)."""
    draft = _locked(draft)
    if draft.status not in REVIEWABLE:
        return f"Only a draft under review can be approved (this one is {draft.status})."
    if draft.version != version or draft.body != body.replace("\r\n", "\n").strip():
        return (
            "This draft changed after you opened it (someone else edited it). Nothing was "
            "approved: read the current text and try again."
        )
    if not draft.body.strip():
        return "The reply is empty."
    if draft.unreasoned_flags:
        open_flags = [draft.flags[i] for i in draft.unreasoned_flags]
        audit_record(
            actor=actor,
            verb=verbs.REPLY_DRAFT_APPROVAL_REFUSED,
            target=draft,
            data={
                "version": draft.version,
                "unreasoned": [{"code": f["code"], "excerpt": f["excerpt"]} for f in open_flags],
                "reasons": _reasons_given(draft),
            },
        )
        return (
            f"{len(open_flags)} flag(s) still open: fix the text, or write a reason for each "
            "flag before approving."
        )
    draft.status = ReplyDraft.Status.APPROVED
    draft.approved_by = actor
    draft.approved_at = timezone.now()
    draft.save()
    audit_record(
        actor=actor,
        verb=verbs.REPLY_DRAFT_APPROVED,
        target=draft,
        data={"body": draft.body, "version": draft.version, "reasons": _reasons_given(draft)},
    )
    reply_send_enqueue(draft=draft)
    return ""


def _reasons_given(draft: ReplyDraft) -> list[dict]:
    return [
        {"code": f["code"], "excerpt": f["excerpt"], "reason": f["reason"]}
        for f in draft.flags
        if f.get("reason")
    ]


def reply_draft_bulk_approvable(draft: ReplyDraft) -> bool:
    """Bulk approval: a ready draft with no flag at all and every claim verified."""
    return draft.status == ReplyDraft.Status.READY and not draft.flags and draft.all_claims_verified


def reply_drafts_approve_unflagged(*, actor, drafts: list[ReplyDraft]) -> list[ReplyDraft]:
    """Bulk approval: only ready drafts with no flag and every claim verified; the rest need a look."""
    _require_agent(actor)
    approved = []
    for draft in drafts:
        if reply_draft_bulk_approvable(draft):
            # As listed: a change since the list was read refuses the approval.
            approved.append(
                reply_draft_approve(
                    actor=actor, draft=draft, body=draft.body, version=draft.version
                )
            )
    return approved


@transaction.atomic
def reply_draft_reject(*, actor, draft: ReplyDraft, reason: str) -> ReplyDraft:
    _require_agent(actor)
    draft = _locked(draft)
    if not reason.strip():
        raise ValidationError("Say why the draft is rejected.")
    if draft.status not in (*REVIEWABLE, ReplyDraft.Status.FAILED):
        raise ValidationError(f"This draft cannot be rejected (it is {draft.status}).")
    draft.status = ReplyDraft.Status.REJECTED
    draft.rejected_by = actor
    draft.reject_reason = reason.strip()
    draft.save(update_fields=["status", "rejected_by", "reject_reason", "updated_at"])
    audit_record(
        actor=actor,
        verb=verbs.REPLY_DRAFT_REJECTED,
        target=draft,
        data={"reason": draft.reject_reason},
    )
    return draft


@transaction.atomic
def reply_draft_regenerate(*, actor, draft: ReplyDraft, instruction: str) -> ReplyDraft:
    _require_agent(actor)
    draft = _locked(draft)
    new = reply_draft_request(ticket=draft.ticket, instruction=instruction.strip())
    audit_record(
        actor=actor,
        verb=verbs.REPLY_DRAFT_REGENERATED,
        target=new,
        data={"instruction": instruction, "replaces": draft.pk},
    )
    return new
