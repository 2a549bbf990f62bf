"""What a support agent does with a draft: edit, acknowledge flags, approve and send, reject, regenerate.

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
from apps.support.drafting import reply_draft_request
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


def _flags_recheck(draft: ReplyDraft, also_acknowledged=frozenset()) -> None:
    """Check the agent's text like the model's: what the agent sends must be grounded too.

    Flags already acknowledged stay acknowledged when the same problem is still there.
    """
    acknowledged = {
        (flag["code"], flag["excerpt"])
        for i, flag in enumerate(draft.flags)
        if i in set(draft.flags_acknowledged)
    } | set(also_acknowledged)
    kept = [flag for flag in draft.flags if flag["code"] in CALL_FLAGS]
    found = guardrails_check(
        reply=draft.body,
        context=draft.context_snapshot or {},
        cited_policy_ids=draft.cited_policy_ids,
        link_allowlist=settings.SUPPORT["LINK_ALLOWLIST"],
    )
    text_flags = [
        {"code": f.code, "detail": f.detail, "excerpt": f.excerpt}
        for f in found
        if f.code not in CALL_FLAGS
    ]
    new_keys = {(f["code"], f["excerpt"]) for f in text_flags}
    # Never drop a flag whose text is still there (even if the checker would word it differently
    # now), nor one the agent acknowledged: the trail keeps what was seen and accepted.
    still_there = [
        flag
        for flag in draft.flags
        if flag["code"] not in CALL_FLAGS
        and (flag["code"], flag["excerpt"]) not in new_keys
        and (
            (flag["excerpt"] and flag["excerpt"] in draft.body)
            or (flag["code"], flag["excerpt"]) in acknowledged
        )
    ]
    # In reading order, as the agent sees them highlighted.
    text_flags = sorted(still_there + text_flags, key=lambda f: draft.body.find(f["excerpt"]))
    draft.flags = kept + text_flags
    draft.flags_acknowledged = [
        i for i, flag in enumerate(draft.flags) if (flag["code"], flag["excerpt"]) in acknowledged
    ]


def _edit(actor, draft: ReplyDraft, body: str, acknowledged=frozenset()) -> None:
    body = body.replace("\r\n", "\n").strip()
    if body == draft.body:
        return
    diff = "".join(
        difflib.unified_diff(
            draft.body.splitlines(keepends=True), body.splitlines(keepends=True), "before", "after"
        )
    )
    draft.body = body
    before = len(draft.unacknowledged_flags)
    _flags_recheck(draft, acknowledged)
    audit_record(
        actor=actor,
        verb=verbs.REPLY_DRAFT_EDITED,
        target=draft,
        data={
            "diff": diff,
            "flags": [f["code"] for f in draft.flags],
            "new_unacknowledged": len(draft.unacknowledged_flags) - before,
        },
    )


@transaction.atomic
def reply_draft_edit(
    *, actor, draft: ReplyDraft, body: str, acknowledged=frozenset()
) -> ReplyDraft:
    _require_agent(actor)
    draft = _locked(draft)
    if draft.status not in REVIEWABLE:
        raise ValidationError(
            f"This draft can no longer be edited (it is {draft.get_status_display().lower()})."
        )
    _edit(actor, draft, body, acknowledged)
    draft.save(update_fields=["body", "flags", "flags_acknowledged", "updated_at"])
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


def _flag_keys(draft: ReplyDraft, indexes) -> set[tuple[str, str]]:
    return {
        (draft.flags[i]["code"], draft.flags[i]["excerpt"])
        for i in indexes
        if isinstance(i, int) and 0 <= i < len(draft.flags)
    }


def reply_draft_approve(
    *, actor, draft: ReplyDraft, body: str | None = None, acknowledged: list[int] | None = None
) -> ReplyDraft:
    """Approve exactly this text and queue it for sending. Every flag must be acknowledged first.

    An edit made on approval is saved (and re-checked) first, so a flag the edit raises is shown
    to the agent even when the approval is refused for it.
    """
    _require_agent(actor)
    draft = ReplyDraft.objects.get(pk=draft.pk)
    if draft.status not in REVIEWABLE:
        raise ValidationError(
            f"Only a draft under review can be approved (this one is {draft.status})."
        )
    keys = _flag_keys(draft, acknowledged or [])
    if body is not None and body.replace("\r\n", "\n").strip() != draft.body:
        draft = reply_draft_edit(actor=actor, draft=draft, body=body, acknowledged=keys)
    return _approve(actor=actor, draft=draft, acknowledged_keys=keys)


@transaction.atomic
def _approve(*, actor, draft: ReplyDraft, acknowledged_keys: set[tuple[str, str]]) -> ReplyDraft:
    draft = _locked(draft)
    if draft.status not in REVIEWABLE:
        raise ValidationError(
            f"Only a draft under review can be approved (this one is {draft.status})."
        )
    if not draft.body.strip():
        raise ValidationError("The reply is empty.")
    draft.flags_acknowledged = sorted(
        set(draft.flags_acknowledged)
        | {i for i, f in enumerate(draft.flags) if (f["code"], f["excerpt"]) in acknowledged_keys}
    )
    if draft.unacknowledged_flags:
        ReplyDraft.objects.filter(pk=draft.pk).update(flags_acknowledged=draft.flags_acknowledged)
        raise ValidationError("Acknowledge every flag before approving this reply.")
    draft.status = ReplyDraft.Status.APPROVED
    draft.approved_by = actor
    draft.approved_at = timezone.now()
    draft.save()
    audit_record(
        actor=actor,
        verb=verbs.REPLY_DRAFT_APPROVED,
        target=draft,
        data={
            "body": draft.body,
            "flags_acknowledged": [
                draft.flags[i]["code"] for i in draft.flags_acknowledged if i < len(draft.flags)
            ],
        },
    )
    reply_send_enqueue(draft=draft)
    return draft


def reply_drafts_approve_unflagged(*, actor, drafts: list[ReplyDraft]) -> list[ReplyDraft]:
    """Bulk approval: only ready drafts with no flag at all; flagged ones always need a look of their own."""
    _require_agent(actor)
    approved = []
    for draft in drafts:
        if draft.status == ReplyDraft.Status.READY and not draft.flags:
            approved.append(reply_draft_approve(actor=actor, draft=draft))
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
