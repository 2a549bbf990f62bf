"""Every audit verb, in one place. Form: `thing.verb_past` — the thing acted on, a dot, what was
done to it in the past tense (`alert.acknowledged`, `invoice_draft.line_corrected`).

To add one: a constant here named `THING_VERB_PAST` (grouped by thing, alphabetical), then
`audit_record(verb=verbs.THING_VERB_PAST, ...)`. Never pass a free string: tests/audit checks
every call site, and the ops audit page filters by these prefixes ("outbox." finds every outbox
verb). Audit rows are append-only, so a renamed verb stays as it was in older rows.
"""

ALERT_ACKNOWLEDGED = "alert.acknowledged"
ALERT_ESCALATED = "alert.escalated"
ALERT_RESOLVED = "alert.resolved"

BRAND_GUIDE_SAVED = "brand_guide.saved"

CREDIT_NOTE_APPROVED = "credit_note.approved"
CREDIT_NOTE_CREATED = "credit_note.created"
CREDIT_NOTE_LINE_CORRECTED = "credit_note.line_corrected"
CREDIT_NOTE_REJECTED = "credit_note.rejected"
CREDIT_NOTE_REOPENED = "credit_note.reopened"

DRIFT_REPORT_REQUESTED = "drift_report.requested"

EXCEPTION_ASSIGNED = "exception.assigned"
EXCEPTION_RESOLVED = "exception.resolved"

INVENTORY_PUSH_REREAD = "inventory_push.reread"

INVOICE_DRAFT_APPROVED = "invoice_draft.approved"
INVOICE_DRAFT_CREATED = "invoice_draft.created"
INVOICE_DRAFT_LINE_CORRECTED = "invoice_draft.line_corrected"
INVOICE_DRAFT_REJECTED = "invoice_draft.rejected"
INVOICE_DRAFT_REOPENED = "invoice_draft.reopened"
INVOICE_DRAFT_VOIDED = "invoice_draft.voided"

MAPPING_CHANGED = "mapping.changed"

ORDER_HOLD_AUTO_RELEASED = "order.hold_auto_released"
ORDER_HOLD_CANCELLED = "order.hold_cancelled"
ORDER_HOLD_OVERRIDDEN = "order.hold_overridden"
ORDER_HOLD_RELEASED = "order.hold_released"

ORDER_LINE_HANDLING_CHANGED = "order_line.handling_changed"

OUTBOX_REPLAYED = "outbox.replayed"

PEAK_PROFILE_APPLIED = "peak_profile.applied"
PEAK_PROFILE_REVERTED = "peak_profile.reverted"

RECEIPT_REPLAYED = "receipt.replayed"

REPLY_DRAFT_APPROVAL_REFUSED = "reply_draft.approval_refused"
REPLY_DRAFT_APPROVED = "reply_draft.approved"
REPLY_DRAFT_DISCARDED = "reply_draft.discarded"
REPLY_DRAFT_EDITED = "reply_draft.edited"
REPLY_DRAFT_GENERATED = "reply_draft.generated"
REPLY_DRAFT_REGENERATED = "reply_draft.regenerated"
REPLY_DRAFT_REJECTED = "reply_draft.rejected"
REPLY_DRAFT_SENT = "reply_draft.sent"

TEAMS_TEST_CARD_SENT = "teams.test_card_sent"

TICKET_FILED = "ticket.filed"
TICKET_RELINKED = "ticket.relinked"

USER_ROLES_CHANGED = "user.roles_changed"

XERO_CONNECTED = "xero.connected"
