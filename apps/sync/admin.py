"""Read-mostly admin for the sync tables; changes go through the services (replay, alerts)."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.sync.models import (
    Alert,
    OutboxMessage,
    PumpLease,
    RateBudget,
    WebhookReceipt,
    WebhookRejection,
)
from apps.sync.replay import ReplayResult, outbox_replay, receipt_replay
from apps.web import ReadOnlyAdminMixin


class ReplayAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read only, with a "replay selected" action through the audited replay service
    (`replay_service`) for holders of `replay_permission`; `replay_noun` names the rows."""

    replay_service: Callable[..., ReplayResult]
    replay_permission: str
    replay_noun: str
    actions = ["replay"]

    @admin.action(description="Replay the selected rows that failed", permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        result = self.replay_service(actor=request.user, ids=ids)
        self.message_user(
            request, f"{result.count} {self.replay_noun}(s) back to pending.", messages.SUCCESS
        )

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(self.replay_permission)


@admin.register(WebhookReceipt)
class WebhookReceiptAdmin(ReplayAdmin):
    list_display = ["id", "source", "topic", "delivery_id", "status", "attempts", "received_at"]
    list_filter = ["status", "source", "topic"]
    search_fields = ["delivery_id"]
    exclude = ["body"]
    replay_service = staticmethod(receipt_replay)
    replay_permission = "sync.replay_webhookreceipt"
    replay_noun = "receipt"


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReplayAdmin):
    list_display = [
        "id",
        "peer",
        "action",
        "idempotency_key",
        "status",
        "priority",
        "attempts",
        "next_attempt_at",
    ]
    list_filter = ["status", "peer", "action"]
    search_fields = ["idempotency_key", "subject_id"]
    replay_service = staticmethod(outbox_replay)
    replay_permission = "sync.replay_outboxmessage"
    replay_noun = "message"


@admin.register(RateBudget)
class RateBudgetAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "peer",
        "tokens",
        "capacity",
        "refill_per_second",
        "frozen_until",
        "calls_total",
        "throttled_total",
    ]


@admin.register(PumpLease)
class PumpLeaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "holder", "expires_at", "last_run_at"]


@admin.register(WebhookRejection)
class WebhookRejectionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["source", "reason", "count", "last_rejected_at"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["kind", "severity", "status", "count", "last_seen_at", "dedupe_key"]
    list_filter = ["status", "severity", "kind"]
    search_fields = ["dedupe_key", "message"]
