"""Fault injection for the sandbox peers: one row per peer, read by `@sandbox_faults` on every call."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

RATE_VALIDATORS = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class SandboxFault(models.Model):
    class Peer(models.TextChoices):
        SHOPIFY = "shopify", "Shopify"
        SHIPBOB = "shipbob", "ShipBob"
        XERO = "xero", "Xero"
        TEAMS = "teams", "Microsoft Teams"
        OPENAI = "openai", "Azure OpenAI"

    peer = models.CharField(max_length=16, choices=Peer, unique=True)
    enabled = models.BooleanField(default=False)
    error_rate = models.FloatField(
        default=0.0, validators=RATE_VALIDATORS, help_text="Share of calls answered 500 or 503."
    )
    extra_latency_ms = models.PositiveIntegerField(
        default=0, help_text="Added to every call before it is answered."
    )
    burst_429 = models.PositiveIntegerField(
        default=0, help_text="The next N calls answer 429; counts down to 0."
    )
    retry_after_seconds = models.PositiveIntegerField(
        default=2, help_text="Sent in the Retry-After header(s) of an injected 429."
    )
    timeout_rate = models.FloatField(
        default=0.0,
        validators=RATE_VALIDATORS,
        help_text="Share of calls that stall past the client's timeout (the work is still done).",
    )
    timeout_seconds = models.FloatField(
        default=20.0,
        validators=[MinValueValidator(0.0)],
        help_text="How long a stalled call sleeps (HTTP_TIMEOUT_SECONDS is 15 by default).",
    )
    # What was injected, for tests and the load harness to compare against what the client saw.
    errors_injected = models.PositiveIntegerField(default=0)
    throttles_injected = models.PositiveIntegerField(default=0)
    timeouts_injected = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["peer"]
        constraints = [
            models.CheckConstraint(
                condition=Q(error_rate__gte=0) & Q(error_rate__lte=1),
                name="sandboxfault_error_rate_0_1",
            ),
            models.CheckConstraint(
                condition=Q(timeout_rate__gte=0) & Q(timeout_rate__lte=1),
                name="sandboxfault_timeout_rate_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_peer_display()} faults ({'on' if self.enabled else 'off'})"


class SandboxMail(models.Model):
    """An email the portal sent while the sandbox is on: the demo's mailbox (what the customer got)."""

    subject = models.CharField(max_length=500)
    from_email = models.CharField(max_length=254)
    to = models.JSONField(default=list)
    body = models.TextField()
    headers = models.JSONField(default=dict)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"
