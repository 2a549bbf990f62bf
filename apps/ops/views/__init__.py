"""The control room's pages; one module per page family."""

from apps.ops.views.alerts import (
    alert_ack_link,
    alert_acknowledge,
    alert_bulk,
    alert_list,
    alert_resolve,
    runbook,
    teams_test_card,
)
from apps.ops.views.audit import audit_list
from apps.ops.views.outbox import outbox_detail, outbox_list, outbox_replay, outbox_replay_preview
from apps.ops.views.receipts import receipt_detail, receipt_list, receipt_replay

__all__ = [
    "alert_ack_link",
    "alert_acknowledge",
    "alert_bulk",
    "alert_list",
    "alert_resolve",
    "audit_list",
    "outbox_detail",
    "outbox_list",
    "outbox_replay",
    "outbox_replay_preview",
    "receipt_detail",
    "receipt_list",
    "receipt_replay",
    "runbook",
    "teams_test_card",
]
