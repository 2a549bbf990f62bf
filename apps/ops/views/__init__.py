"""The control room's pages; one module per page family."""

from apps.ops.views.alerts import alert_acknowledge, alert_list, alert_resolve
from apps.ops.views.audit import audit_list
from apps.ops.views.outbox import outbox_detail, outbox_list, outbox_replay, outbox_replay_preview
from apps.ops.views.receipts import receipt_detail, receipt_list, receipt_replay

__all__ = [
    "alert_acknowledge",
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
]
