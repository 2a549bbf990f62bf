"""Every audit verb, in one place. Form: `thing.verb_past` — the thing acted on, a dot, what was
done to it in the past tense (`alert.acknowledged`, `invoice_draft.line_corrected`).

To add one: a constant here named `THING_VERB_PAST` (grouped by thing, alphabetical), then
`audit_record(verb=verbs.THING_VERB_PAST, ...)`. Never pass a free string: tests/audit checks
every call site, and the ops audit page filters by these prefixes ("outbox." finds every outbox
verb). Audit rows are append-only, so a renamed verb stays as it was in older rows.
"""

ALERT_ACKNOWLEDGED = "alert.acknowledged"
ALERT_RESOLVED = "alert.resolved"

BRAND_GUIDE_SAVED = "brand_guide.saved"

INVOICE_DRAFT_APPROVED = "invoice_draft.approved"
INVOICE_DRAFT_CREATED = "invoice_draft.created"
INVOICE_DRAFT_LINE_CORRECTED = "invoice_draft.line_corrected"
INVOICE_DRAFT_REJECTED = "invoice_draft.rejected"

MAPPING_CHANGED = "mapping.changed"

ORDER_HOLD_RELEASED = "order.hold_released"

OUTBOX_REPLAYED = "outbox.replayed"

RECEIPT_REPLAYED = "receipt.replayed"

REPLY_DRAFT_APPROVED = "reply_draft.approved"
REPLY_DRAFT_EDITED = "reply_draft.edited"
REPLY_DRAFT_GENERATED = "reply_draft.generated"
REPLY_DRAFT_REGENERATED = "reply_draft.regenerated"
REPLY_DRAFT_REJECTED = "reply_draft.rejected"
REPLY_DRAFT_SENT = "reply_draft.sent"

TICKET_FILED = "ticket.filed"
TICKET_RELINKED = "ticket.relinked"

XERO_CONNECTED = "xero.connected"
