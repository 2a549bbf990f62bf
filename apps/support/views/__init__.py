"""Support's pages: the ticket queue and bulk approval, the review screen, the form intake, the
per-ticket audit trail and its CSV export."""

from apps.support.views.audit import ticket_audit, ticket_audit_csv
from apps.support.views.queue import ticket_approve_bulk, ticket_list, ticket_new
from apps.support.views.review import (
    draft_approve,
    draft_edit,
    draft_regenerate,
    draft_reject,
    highlight,
    ticket_detail,
    ticket_relink,
)

__all__ = [
    "draft_approve",
    "draft_edit",
    "draft_regenerate",
    "draft_reject",
    "highlight",
    "ticket_approve_bulk",
    "ticket_audit",
    "ticket_audit_csv",
    "ticket_detail",
    "ticket_list",
    "ticket_new",
    "ticket_relink",
]
