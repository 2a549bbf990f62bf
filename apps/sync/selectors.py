"""Read queries over the plumbing, for the dashboard and `pipeline_status`."""

from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from apps.sync.budgets import budget_state
from apps.sync.models import AlertChannel, OutboxMessage, WebhookReceipt

WAITING = (OutboxMessage.Status.PENDING, OutboxMessage.Status.IN_FLIGHT)


def outbox_backlog(*, peer: str) -> dict[str, Any]:
    """How much waits for one peer and how long it takes to drain at the peer's budget.

    The estimate assumes one call per message (batching peers such as Xero drain faster) and
    counts a frozen budget's remaining freeze.
    """
    counts = OutboxMessage.objects.filter(peer=peer).aggregate(
        queue=Count("id", filter=Q(status__in=WAITING)),
        dead=Count("id", filter=Q(status=OutboxMessage.Status.DEAD)),
    )
    budget = budget_state(peer)
    refill = budget["refill"] or 0
    drain = None
    if refill > 0:
        drain = max(0.0, (counts["queue"] - budget["tokens"]) / refill)
        if budget["frozen_until"] is not None and counts["queue"]:
            drain += max(0.0, (budget["frozen_until"] - timezone.now()).total_seconds())
    return {**counts, "drain_seconds": None if drain is None else round(drain, 1)}


def receipt_counts() -> dict[str, int]:
    """Webhook receipts by status, every status present (zeros included)."""
    counts = dict(WebhookReceipt.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {status: counts.get(status, 0) for status in WebhookReceipt.Status.values}


def outbox_counts() -> dict[str, dict[str, int]]:
    """Outbox messages by peer and status: every configured peer and every status, zeros included
    (scripts read fixed keys)."""
    outbox = {peer: dict.fromkeys(OutboxMessage.Status.values, 0) for peer in settings.RATE_BUDGETS}
    for peer, status, n in (
        OutboxMessage.objects.values_list("peer", "status").annotate(n=Count("id")).order_by()
    ):
        outbox.setdefault(peer, dict.fromkeys(OutboxMessage.Status.values, 0))[status] = n
    return outbox


def alert_channels() -> list[AlertChannel]:
    """Each alert channel (Teams main, escalation) with when it last accepted or refused a card."""
    return list(AlertChannel.objects.order_by("name"))
