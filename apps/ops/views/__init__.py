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
from apps.ops.views.dashboard import dashboard, dashboard_tile
from apps.ops.views.exceptions import (
    exception_assign,
    exception_list,
    exception_resolve,
    exception_retry,
    exception_retry_preview,
)
from apps.ops.views.metrics import metrics
from apps.ops.views.outbox import outbox_detail, outbox_list, outbox_replay, outbox_replay_preview
from apps.ops.views.receipts import receipt_detail, receipt_list, receipt_replay
from apps.ops.views.search import search

__all__ = [
    "alert_ack_link",
    "alert_acknowledge",
    "alert_bulk",
    "alert_list",
    "alert_resolve",
    "audit_list",
    "dashboard",
    "dashboard_tile",
    "exception_assign",
    "exception_list",
    "exception_resolve",
    "exception_retry",
    "exception_retry_preview",
    "metrics",
    "outbox_detail",
    "outbox_list",
    "outbox_replay",
    "outbox_replay_preview",
    "receipt_detail",
    "receipt_list",
    "receipt_replay",
    "runbook",
    "search",
    "teams_test_card",
]
