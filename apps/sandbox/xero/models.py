"""The Xero stand-in's books: issued tokens, contacts, invoices, idempotent answers, rate windows."""

from django.db import models
from django.utils import timezone


class IssuedToken(models.Model):
    """An authorization code, access token or refresh token the stand-in issued (stored hashed)."""

    class Kind(models.TextChoices):
        CODE = "code"
        ACCESS = "access"
        REFRESH = "refresh"

    class Grant(models.TextChoices):
        OAUTH = "oauth"  # authorization code + refresh: needs xero-tenant-id
        CUSTOM = "custom"  # client credentials: one organisation, no tenant header

    digest = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=Kind)
    grant = models.CharField(max_length=8, choices=Grant, default=Grant.OAUTH)
    client_id = models.CharField(max_length=100)
    scope = models.CharField(max_length=500, blank=True)
    redirect_uri = models.CharField(max_length=500, blank=True)
    auth_event_id = models.CharField(max_length=36, blank=True)
    expires_at = models.DateTimeField()
    # A refresh token that was rotated stays usable until rotated_at + the grace period.
    rotated_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.kind} token ({self.grant})"


class Contact(models.Model):
    tenant_id = models.CharField(max_length=36, db_index=True)
    contact_id = models.CharField(max_length=36, unique=True)
    contact_number = models.CharField(max_length=50, blank=True, db_index=True)
    name = models.CharField(max_length=255)
    email = models.CharField(max_length=255, blank=True)
    first_name = models.CharField(max_length=255, blank=True)
    last_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=12, default="ACTIVE")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.contact_number or self.contact_id})"


class Invoice(models.Model):
    tenant_id = models.CharField(max_length=36, db_index=True)
    invoice_id = models.CharField(max_length=36, unique=True)
    invoice_number = models.CharField(max_length=255)
    reference = models.CharField(max_length=255, blank=True, db_index=True)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="invoices")
    type = models.CharField(max_length=16, default="ACCREC")
    status = models.CharField(max_length=12)
    date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    line_amount_types = models.CharField(max_length=12)
    sub_total = models.DecimalField(max_digits=18, decimal_places=2)
    total_tax = models.DecimalField(max_digits=18, decimal_places=2)
    total = models.DecimalField(max_digits=18, decimal_places=2)
    # The computed line items as Xero answers them (LineItemID, LineAmount, TaxAmount…).
    line_items = models.JSONField(default=list)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.invoice_number} {self.reference}"


class CreditNote(models.Model):
    tenant_id = models.CharField(max_length=36, db_index=True)
    credit_note_id = models.CharField(max_length=36, unique=True)
    credit_note_number = models.CharField(max_length=255)
    reference = models.CharField(max_length=255, blank=True, db_index=True)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="credit_notes")
    type = models.CharField(max_length=16, default="ACCRECCREDIT")
    status = models.CharField(max_length=12)
    date = models.DateField()
    currency = models.CharField(max_length=3)
    line_amount_types = models.CharField(max_length=12)
    sub_total = models.DecimalField(max_digits=18, decimal_places=2)
    total_tax = models.DecimalField(max_digits=18, decimal_places=2)
    total = models.DecimalField(max_digits=18, decimal_places=2)
    line_items = models.JSONField(default=list)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.credit_note_number} {self.reference}"


class Allocation(models.Model):
    """Part of a credit note applied to an invoice (Xero lowers the invoice's AmountDue by it)."""

    allocation_id = models.CharField(max_length=36, unique=True)
    credit_note = models.ForeignKey(
        CreditNote, on_delete=models.CASCADE, related_name="allocations"
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="allocations")
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    date = models.DateField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.amount} of {self.credit_note} to {self.invoice}"


class IdempotentAnswer(models.Model):
    """The first answer to a write with an Idempotency-Key; a repeat gets it back unchanged."""

    tenant_id = models.CharField(max_length=36)
    key = models.CharField(max_length=128)
    request_line = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField(default=0)  # 0 while the first request runs
    body = models.TextField(blank=True)
    replays = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "key"], name="sandbox_xero_idem_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.status}"


class RateWindow(models.Model):
    """A fixed window of calls (one per tenant per limit, and one app-wide): Xero's counting."""

    key = models.CharField(max_length=80, unique=True)
    started_at = models.FloatField(default=0.0)
    calls = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.calls}"


class InFlight(models.Model):
    """One row per call in progress: the concurrent limit counts them (stale rows expire)."""

    tenant_id = models.CharField(max_length=36, db_index=True)
    started_at = models.FloatField()

    def __str__(self) -> str:
        return f"{self.tenant_id} since {self.started_at}"


class CallCount(models.Model):
    """Calls per kind ("PUT Invoices", "GET Contacts", "token"…) for tests and the bench."""

    kind = models.CharField(max_length=60, unique=True)
    calls = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.kind}: {self.calls}"
