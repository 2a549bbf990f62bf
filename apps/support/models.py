"""Customer tickets, the brand guide, and AI reply drafts that a named agent approves before sending."""

from django.conf import settings
from django.db import models
from django.urls import reverse


class BrandGuide(models.Model):
    """The brand's voice and policies. Versioned: every save by an admin adds a row; drafts record
    the version they were written with."""

    version = models.PositiveIntegerField(unique=True)
    tone = models.TextField(help_text="How replies should sound, in a few sentences.")
    sign_off = models.CharField(max_length=200)
    use_phrases = models.JSONField(default=list, blank=True)
    avoid_phrases = models.JSONField(default=list, blank=True)
    # The languages support answers in (ISO 639-1 codes); a reply in any other is flagged.
    languages = models.JSONField(default=list, blank=True)
    # [{"id": "returns-30", "title": "...", "text": "...", "allows": ["refund", "return"]}]
    policies = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Brand guide v{self.version}"


class Ticket(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        REPLIED = "replied", "Replied"
        CLOSED = "closed", "Closed"

    class LinkedBy(models.TextChoices):
        ORDER_NAME = "order_name", "Order number in the message"
        LATEST_ORDER = "latest_order", "Customer's latest order"
        AGENT = "agent", "Linked by an agent"
        NONE = "none", "Not linked"

    thread_id = models.CharField(max_length=200, unique=True)
    customer_email = models.EmailField(db_index=True)
    subject = models.CharField(max_length=500, blank=True)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    linked_by = models.CharField(max_length=16, choices=LinkedBy, default=LinkedBy.NONE)
    status = models.CharField(max_length=16, choices=Status, default=Status.OPEN, db_index=True)
    source = models.CharField(max_length=16, default="helpdesk")  # "helpdesk" | "form"
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["created_at"], name="ticket_created_idx")]

    def __str__(self) -> str:
        return f"{self.subject or '(no subject)'} — {self.customer_email}"

    def get_absolute_url(self) -> str:
        return reverse("support:ticket", args=[self.pk])


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", "From the customer"
        OUTBOUND = "out", "To the customer"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction)
    external_id = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "external_id"],
                condition=~models.Q(external_id=""),
                name="message_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()}: {self.body[:40]}"


class ReplyDraft(models.Model):
    """One AI-drafted reply and everything that happened to it, up to the send."""

    class Status(models.TextChoices):
        DRAFTING = "drafting", "Drafting"
        READY = "ready", "Ready for review"
        NEEDS_HUMAN = "needs_human", "Needs a human"
        APPROVED = "approved", "Approved, sending"
        SENT = "sent", "Sent"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Drafting failed"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="drafts")
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFTING, db_index=True)
    instruction = models.TextField(blank=True)  # the agent's note when regenerating
    # What the model wrote, and what the agent made of it (the text that is sent).
    model_reply = models.TextField(blank=True)
    body = models.TextField(blank=True)
    intent = models.CharField(max_length=40, blank=True)
    cited_policy_ids = models.JSONField(default=list, blank=True)
    facts_used = models.JSONField(default=list, blank=True)
    proposed_actions = models.JSONField(default=list, blank=True)
    needs_human_reason = models.TextField(blank=True)
    confidence = models.FloatField(null=True, blank=True)
    # Guardrail flags [{code, detail, excerpt, reason?}]: the agent's reason for letting each stand.
    flags = models.JSONField(default=list, blank=True)
    # What the reply states or promises [{kind, excerpt, verified, source}] (guardrails' claims).
    claims = models.JSONField(default=list, blank=True)
    # Bumped by every change of the text: an approval names the version its approver saw.
    version = models.PositiveIntegerField(default=1)
    # The trail of the model call.
    prompt_version = models.CharField(max_length=20, blank=True)
    prompt_system = models.TextField(blank=True)
    prompt_user = models.TextField(blank=True)
    context_snapshot = models.JSONField(default=dict, blank=True)
    brand_guide_version = models.PositiveIntegerField(null=True, blank=True)
    model = models.CharField(max_length=100, blank=True)
    deployment = models.CharField(max_length=100, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    raw_output = models.TextField(blank=True)
    error = models.TextField(blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reject_reason = models.TextField(blank=True)
    # Set, and committed, just before the email is handed to the mail server: a send that finds it
    # set without sent_at does not know whether the first attempt got through (runbook).
    send_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_result = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("approve_replydraft", "Can approve and send reply drafts")]
        # The dashboard's per-hour flows (drafted, sent).
        indexes = [
            models.Index(fields=["created_at"], name="replydraft_created_idx"),
            models.Index(fields=["sent_at"], name="replydraft_sent_idx"),
        ]
        constraints = [
            # Nothing reaches a customer without a named person's approval (DESIGN.md §4).
            models.CheckConstraint(
                condition=~models.Q(status__in=["approved", "sent"])
                | models.Q(approved_by__isnull=False, approved_at__isnull=False),
                name="replydraft_send_needs_approver",
            ),
            models.CheckConstraint(
                condition=models.Q(sent_at__isnull=True)
                | models.Q(approved_by__isnull=False, approved_at__isnull=False),
                name="replydraft_sent_at_needs_approver",
            ),
        ]

    def __str__(self) -> str:
        return f"draft {self.pk} for ticket {self.ticket_id}"

    @property
    def unreasoned_flags(self) -> list[int]:
        """Flags the agent has neither fixed nor written a reason for: each blocks approval."""
        return [i for i, flag in enumerate(self.flags) if not str(flag.get("reason") or "").strip()]

    @property
    def all_claims_verified(self) -> bool:
        return all(claim.get("verified") for claim in self.claims)
