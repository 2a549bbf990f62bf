"""Read-mostly admin for the sync tables; changes go through the services (replay, alerts)."""

from django.contrib import admin, messages

from apps.sync.models import (
    Alert,
    OutboxMessage,
    PumpLease,
    RateBudget,
    WebhookReceipt,
    WebhookRejection,
)
from apps.sync.replay import outbox_replay, receipt_replay


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookReceipt)
class WebhookReceiptAdmin(ReadOnlyAdmin):
    list_display = ["id", "source", "topic", "delivery_id", "status", "attempts", "received_at"]
    list_filter = ["status", "source", "topic"]
    search_fields = ["delivery_id"]
    exclude = ["body"]
    actions = ["replay"]

    @admin.action(description="Replay selected failed receipts", permissions=["replay"])
    def replay(self, request, queryset):
        result = receipt_replay(actor=request.user, ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{result.count} receipt(s) back to pending.", messages.SUCCESS)

    def has_replay_permission(self, request):
        return request.user.has_perm("sync.replay_webhookreceipt")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
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
    actions = ["replay"]

    @admin.action(description="Replay selected dead messages", permissions=["replay"])
    def replay(self, request, queryset):
        result = outbox_replay(actor=request.user, ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{result.count} message(s) back to pending.", messages.SUCCESS)

    def has_replay_permission(self, request):
        return request.user.has_perm("sync.replay_outboxmessage")


@admin.register(RateBudget)
class RateBudgetAdmin(ReadOnlyAdmin):
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
class PumpLeaseAdmin(ReadOnlyAdmin):
    list_display = ["name", "holder", "expires_at", "last_run_at"]


@admin.register(WebhookRejection)
class WebhookRejectionAdmin(ReadOnlyAdmin):
    list_display = ["source", "reason", "count", "last_rejected_at"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["kind", "severity", "status", "count", "last_seen_at", "dedupe_key"]
    list_filter = ["status", "severity", "kind"]
    search_fields = ["dedupe_key", "message"]
