"""The sync plumbing's tables: inbound receipts, the outbound outbox, rate budgets, leases, alerts."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class WebhookReceipt(models.Model):
    """One delivery from a peer, stored raw before anything is done with it.

    The raw body is kept byte for byte so any receipt can be re-applied (replayed) exactly.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPLYING = "applying", "Applying"
        APPLIED = "applied", "Applied"
        IGNORED = "ignored", "Ignored"  # valid, but nothing to do (e.g. an older updated_at)
        FAILED = "failed", "Failed"

    source = models.CharField(max_length=32)
    delivery_id = models.CharField(max_length=200)
    topic = models.CharField(max_length=100, blank=True)
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "delivery_id"], name="receipt_unique_delivery"
            ),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="receipt_status_idx")]
        permissions = [("replay_webhookreceipt", "Can replay a failed webhook receipt")]

    def __str__(self) -> str:
        return f"{self.source} {self.topic} {self.delivery_id}"

    def body_bytes(self) -> bytes:
        """The raw body as bytes (PostgreSQL hands BinaryField back as a memoryview)."""
        return bytes(self.body)


class WebhookRejection(models.Model):
    """How many deliveries a source had refused, by reason (bad signature, too large), for Ops."""

    class Reason(models.TextChoices):
        BAD_SIGNATURE = "bad_signature", "Bad signature"
        TOO_LARGE = "too_large", "Too large"

    source = models.CharField(max_length=32)
    reason = models.CharField(max_length=32, choices=Reason)
    count = models.PositiveBigIntegerField(default=0)
    last_rejected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["source", "reason"]
        constraints = [
            models.UniqueConstraint(fields=["source", "reason"], name="rejection_unique_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.reason}: {self.count}"


class OutboxMessage(models.Model):
    """A write to a peer, recorded in the same transaction as the domain change that implies it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_FLIGHT = "in_flight", "In flight"
        DONE = "done", "Done"
        DEAD = "dead", "Dead"

    peer = models.CharField(max_length=32)
    action = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=200, unique=True)
    payload = models.JSONField(default=dict)
    # Lower number = sent first. Lanes: 10 warehouse orders, 20 shipment polls, 30 inventory, 40 invoices.
    priority = models.PositiveSmallIntegerField(default=50)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # While in flight: the claim expires here, so a message whose worker died is claimed again.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)
    # What the message is about, for links from alerts and the order timeline ("orders.order", "42").
    subject_type = models.CharField(max_length=80, blank=True)
    subject_id = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["peer", "status", "priority", "next_attempt_at"], name="outbox_due_idx"
            ),
            # The dashboard: each peer's last success, errors in the last hour, the dead ones.
            # Partial, so the hot path (pending → done) writes them at most once per message.
            models.Index(
                fields=["peer", "-done_at"],
                name="outbox_peer_done_idx",
                condition=models.Q(done_at__isnull=False),
            ),
            models.Index(
                fields=["updated_at"], name="outbox_error_idx", condition=~models.Q(last_error="")
            ),
            models.Index(
                fields=["updated_at"], name="outbox_dead_idx", condition=models.Q(status="dead")
            ),
        ]
        permissions = [("replay_outboxmessage", "Can replay dead outbox messages")]

    def __str__(self) -> str:
        return f"{self.peer}.{self.action} {self.idempotency_key}"


class RateBudget(models.Model):
    """A token bucket per peer account, shared by every worker process through this row."""

    peer = models.CharField(max_length=32, unique=True)
    capacity = models.FloatField()
    refill_per_second = models.FloatField()
    tokens = models.FloatField()
    refilled_at = models.DateTimeField(default=timezone.now)
    # After a 429 nothing is sent to this peer until then.
    frozen_until = models.DateTimeField(null=True, blank=True)
    # What the peer last told us of its own remaining calls (for the dashboard's meters).
    peer_remaining = models.IntegerField(null=True, blank=True)
    calls_total = models.PositiveBigIntegerField(default=0)
    throttled_total = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.peer}: {self.tokens:.1f}/{self.capacity:g}"


class PumpLease(models.Model):
    """At most one runner per pump at a time; the lease expires if its worker dies."""

    name = models.CharField(max_length=64, unique=True)
    holder = models.CharField(max_length=128, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder or 'nobody'}"


class Alert(models.Model):
    """Something a person must look at. A repeat of the same dedupe key bumps the count."""

    class Severity(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    kind = models.CharField(max_length=64, db_index=True)
    severity = models.CharField(max_length=16, choices=Severity, default=Severity.WARNING)
    dedupe_key = models.CharField(max_length=200)
    message = models.TextField()
    link = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.OPEN)
    count = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now, db_index=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Set when the code that raised it saw the cause go away (resolved_by stays empty).
    resolved_reason = models.CharField(max_length=300, blank=True)
    # A grouped kind's items (the unmapped SKUs of "12 SKUs unmapped"), oldest first.
    subjects = models.JSONField(default=list, blank=True)
    # Each distinct message it was raised with: [{"message", "at", "after_ack"}], oldest first.
    errors = models.JSONField(default=list, blank=True)
    # The count and severity of the last Teams card queued for it (0: no card yet).
    posted_count = models.PositiveIntegerField(default=0)
    posted_severity = models.CharField(max_length=16, blank=True)
    # Raised in quiet hours: waits for the digest card instead of a card of its own.
    digest_pending = models.BooleanField(default=False)
    # Escalation steps taken while it stayed unacknowledged: [{"step", "at", "minutes", "to"}].
    escalations = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            # One unresolved alert per dedupe key; once resolved, a recurrence opens a new one.
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=~models.Q(status="resolved"),
                name="alert_one_unresolved_per_key",
            ),
        ]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.kind}: {self.message[:60]}"


class AlertChannel(models.Model):
    """Where alerts go (a Teams channel), and what it last answered: the dashboard reads this."""

    name = models.CharField(max_length=32, unique=True)
    last_accepted_at = models.DateTimeField(null=True, blank=True)
    last_failed_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.name}: last accepted {self.last_accepted_at or 'never'}"
