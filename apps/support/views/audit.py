"""The per-ticket audit trail (every model call, edit, approval and send) and its CSV export."""

import csv
import json

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from apps.audit import verbs
from apps.support.models import ReplyDraft, Ticket
from apps.support.selectors import reply_send_messages, ticket_audit_events
from apps.support.views.access import VIEW, VIEW_DRAFT
from apps.support.views.review import flags_listed, ticket_for_page_or_404

AUDIT_TEMPLATE = "support/ticket_audit.html"


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """A unified diff as (kind, line) for colouring: add, del, hunk, head or context."""
    lines = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            kind = "head"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "context"
        lines.append((kind, line))
    return lines


def _pretty(value) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def _audit_context(ticket: Ticket) -> dict:
    drafts = list(ticket.drafts.all())
    events = list(ticket_audit_events(ticket, [d.pk for d in drafts]))
    sends = reply_send_messages([d.pk for d in drafts])
    edits: dict[str, list] = {}
    for event in events:
        if event.verb == verbs.REPLY_DRAFT_EDITED:
            edits.setdefault(event.target_id, []).append(
                {"event": event, "lines": diff_lines(str(event.data.get("diff", "")))}
            )
    for draft in drafts:
        draft.edits = edits.get(str(draft.pk), [])
        draft.send_message = sends.get(draft.pk)
        draft.snapshot_pretty = _pretty(draft.context_snapshot or {})
        draft.raw_pretty = _pretty(draft.raw_output) if draft.raw_output else ""
        draft.flag_rows = flags_listed(draft, None)
        draft.edited_since_model = draft.body != draft.model_reply
    return {"ticket": ticket, "drafts": drafts, "events": events}


@login_required
@permission_required([VIEW, VIEW_DRAFT], raise_exception=True)
@require_http_methods(["GET"])
def ticket_audit(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, AUDIT_TEMPLATE, _audit_context(ticket_for_page_or_404(pk)))


def _cell(value) -> str:
    # A spreadsheet would run a cell starting with = + - @ as a formula: keep text text.
    value = "" if value is None else str(value)
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _when(value) -> str:
    return value.isoformat() if value else ""


CSV_HEADER = [
    "record",
    "at",
    "actor",
    "verb",
    "target",
    "draft_id",
    "status",
    "prompt_version",
    "brand_guide_version",
    "model",
    "deployment",
    "prompt_tokens",
    "completion_tokens",
    "latency_ms",
    "flags",
    "claims",
    "approved_by",
    "approved_at",
    "sent_at",
    "send_result",
    "details",
]


def _draft_row(draft: ReplyDraft) -> list:
    details = {
        "prompt_system": draft.prompt_system,
        "prompt_user": draft.prompt_user,
        "context_snapshot": draft.context_snapshot,
        "raw_output": draft.raw_output,
        "model_reply": draft.model_reply,
        "body": draft.body,
        "instruction": draft.instruction,
        "cited_policy_ids": draft.cited_policy_ids,
        "needs_human_reason": draft.needs_human_reason,
        "error": draft.error,
        "rejected_by": draft.rejected_by.email if draft.rejected_by else "",
        "reject_reason": draft.reject_reason,
    }
    return [
        "draft",
        _when(draft.created_at),
        "",
        "",
        f"support.replydraft:{draft.pk}",
        draft.pk,
        draft.status,
        draft.prompt_version,
        draft.brand_guide_version,
        draft.model,
        draft.deployment,
        draft.prompt_tokens,
        draft.completion_tokens,
        draft.latency_ms,
        json.dumps(draft.flags, ensure_ascii=False),
        json.dumps(draft.claims, ensure_ascii=False),
        draft.approved_by.email if draft.approved_by else "",
        _when(draft.approved_at),
        _when(draft.sent_at),
        draft.send_result,
        json.dumps(details, ensure_ascii=False),
    ]


def _event_row(event) -> list:
    draft_id = event.target_id if event.target_type == "support.replydraft" else ""
    row = ["event", _when(event.at), event.actor_label, event.verb]
    row += [f"{event.target_type}:{event.target_id}", draft_id]
    row += [""] * (len(CSV_HEADER) - len(row) - 1)
    return [*row, json.dumps(event.data, ensure_ascii=False)]


@login_required
@permission_required([VIEW, VIEW_DRAFT], raise_exception=True)
@require_http_methods(["GET"])
def ticket_audit_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The audit page as CSV: one row per draft (the model call's trail), then one per audit event."""
    context = _audit_context(ticket_for_page_or_404(pk))
    name = f"ticket-{pk}-audit-{timezone.localdate():%Y-%m-%d}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for draft in reversed(context["drafts"]):  # oldest first, like the events
        writer.writerow([_cell(value) for value in _draft_row(draft)])
    for event in context["events"]:
        writer.writerow([_cell(value) for value in _event_row(event)])
    return response
