"""Invoice drafts built from shipments, finance's approval, and the Xero connection they post through."""

from django.conf import settings
from django.db import models
from django.urls import reverse

MONEY = {"max_digits": 14, "decimal_places": 2}
UNIT = {"max_digits": 16, "decimal_places": 4}


class XeroConnection(models.Model):
    """The one Xero organisation this portal posts to; tokens are encrypted at rest (apps/invoicing/crypto)."""

    class Kind(models.TextChoices):
        OAUTH = "oauth", "OAuth (authorization code)"
        CUSTOM = "custom", "Custom connection (client credentials)"

    kind = models.CharField(max_length=8, choices=Kind, default=Kind.OAUTH)
    tenant_id = models.CharField(max_length=64, blank=True)
    tenant_name = models.CharField(max_length=255, blank=True)
    access_token_encrypted = models.TextField(blank=True)
    refresh_token_encrypted = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.CharField(max_length=500, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    # While set and in the future, one worker is refreshing the tokens; the others wait for it.
    refreshing_until = models.DateTimeField(null=True, blank=True)
    last_call_at = models.DateTimeField(null=True, blank=True)
    day_remaining = models.IntegerField(null=True, blank=True)
    minute_remaining = models.IntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        permissions = [("connect_xero", "Can connect the portal to Xero")]

    def __str__(self) -> str:
        return self.tenant_name or "Xero (not connected)"


class XeroContact(models.Model):
    """Cache: our customer key (Shopify customer id, or the configured sales contact) → Xero ContactID."""

    contact_number = models.CharField(max_length=50, unique=True)
    contact_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.contact_number} → {self.contact_id}"


class DraftStatus(models.TextChoices):
    """Where an invoice or credit-note draft stands with Finance and Xero."""

    DRAFT = "draft", "Awaiting approval"
    APPROVED = "approved", "Approved, posting"
    POSTED = "posted", "Posted to Xero"
    FAILED = "failed", "Xero refused it"
    REJECTED = "rejected", "Rejected"
    # Its parcel never shipped (invoices) or its cause went away before posting: never to be posted.
    VOIDED = "voided", "Voided"


# Drafts that count towards an order's money (everything but rejected and voided ones).
DEAD_STATUSES = (DraftStatus.REJECTED, DraftStatus.VOIDED)


class InvoiceDraft(models.Model):
    Status = DraftStatus

    class Reconciliation(models.TextChoices):
        UNCHECKED = "unchecked", "Not checked"
        MATCHED = "matched", "Matched"
        MISSING = "missing", "Missing in Xero"
        MISMATCHED = "mismatched", "Total differs"

    # Null for the draft of an order where nothing ships (services, gift wrap only).
    shipment = models.OneToOneField(
        "orders.Shipment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_draft",
    )
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="invoice_drafts"
    )
    reference = models.CharField(max_length=255, unique=True)  # our shipment key: Xero's Reference
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT, db_index=True)
    currency = models.CharField(max_length=3)
    line_amount_types = models.CharField(max_length=10)  # "Exclusive" | "Inclusive"
    subtotal = models.DecimalField(**MONEY)
    total_tax = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    # What Shopify's order says this draft should come to; a difference beyond rounding flags it.
    expected_total = models.DecimalField(**MONEY)
    variance = models.DecimalField(**MONEY, default=0)
    mapping_version = models.PositiveIntegerField(null=True, blank=True)
    contact_number = models.CharField(max_length=50)
    contact_name = models.CharField(max_length=255, blank=True)
    contact_email = models.EmailField(blank=True)
    invoice_date = models.DateField()
    due_date = models.DateField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.TextField(blank=True)
    xero_invoice_id = models.CharField(max_length=64, blank=True)
    xero_total = models.DecimalField(**MONEY, null=True, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    post_error = models.TextField(blank=True)
    reconciliation = models.CharField(
        max_length=16, choices=Reconciliation, default=Reconciliation.UNCHECKED, db_index=True
    )
    reconciled_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("approve_invoicedraft", "Can approve or reject invoice drafts")]
        # The dashboard's per-hour flows and its "reconciled in the last 24 hours".
        indexes = [
            models.Index(fields=["created_at"], name="draft_created_idx"),
            models.Index(fields=["approved_at"], name="draft_approved_idx"),
            models.Index(fields=["posted_at"], name="draft_posted_idx"),
            models.Index(fields=["reconciled_at"], name="draft_reconciled_idx"),
        ]
        constraints = [
            # Nothing posts to Xero without a named finance approver (DESIGN.md §4).
            models.CheckConstraint(
                condition=~models.Q(status__in=["approved", "posted", "failed"])
                | models.Q(approved_by__isnull=False, approved_at__isnull=False),
                name="invoicedraft_posting_needs_approver",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("invoicing:detail", args=[self.pk])

    @property
    def has_variance(self) -> bool:
        return self.variance != 0

    @property
    def codes_correctable(self) -> bool:
        """Account and tax codes can be fixed before approval, and after Xero refused the draft."""
        return self.status in (self.Status.DRAFT, self.Status.FAILED)


class DraftLine(models.Model):
    """What an invoice line and a credit-note line share: Xero's LineItem and where it came from."""

    class Kind(models.TextChoices):
        ITEM = "item", "Item"
        SHIPPING = "shipping", "Shipping"
        ROUNDING = "rounding", "Rounding"
        ADJUSTMENT = "adjustment", "Refund of shipping or an amount"

    kind = models.CharField(max_length=10, choices=Kind)
    order_line = models.ForeignKey(
        "orders.OrderLine", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=12, decimal_places=4)
    unit_amount = models.DecimalField(**UNIT)
    discount_amount = models.DecimalField(**MONEY, default=0)
    tax_amount = models.DecimalField(**MONEY, default=0)
    line_amount = models.DecimalField(
        **MONEY
    )  # quantity × unit − discount (tax included when Inclusive)
    item_code = models.CharField(max_length=30, blank=True)
    account_code = models.CharField(max_length=10)
    tax_type = models.CharField(max_length=50)
    # The posted tax type's rate (%): what Xero itself computes the line's tax with.
    tax_rate = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    # Where each figure came from (Shopify line, tax lines, discount allocations, shares), for finance.
    source = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description


class InvoiceDraftLine(DraftLine):
    draft = models.ForeignKey(InvoiceDraft, on_delete=models.CASCADE, related_name="lines")

    class Meta(DraftLine.Meta):
        pass


class CreditNoteDraft(models.Model):
    """A credit note owed to the customer (a refund after invoicing, a posted parcel that never
    shipped): Finance approves it like an invoice draft; it posts to Xero as ACCRECCREDIT and is
    allocated to the invoice it credits."""

    Status = DraftStatus

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="credit_note_drafts"
    )
    # The invoice it is allocated to in Xero (the order's first live draft for a refund).
    invoice = models.ForeignKey(InvoiceDraft, on_delete=models.PROTECT, related_name="credit_notes")
    refund = models.OneToOneField(
        "orders.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=500)
    reference = models.CharField(max_length=255, unique=True)  # Xero's Reference: the dedupe key
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT, db_index=True)
    currency = models.CharField(max_length=3)
    line_amount_types = models.CharField(max_length=10)
    subtotal = models.DecimalField(**MONEY)
    total_tax = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    # Shopify's refund amount (or the voided invoice's total): what this credit must come to.
    expected_total = models.DecimalField(**MONEY)
    variance = models.DecimalField(**MONEY, default=0)
    contact_number = models.CharField(max_length=50)
    contact_name = models.CharField(max_length=255, blank=True)
    contact_email = models.EmailField(blank=True)
    credit_date = models.DateField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.TextField(blank=True)
    xero_credit_note_id = models.CharField(max_length=64, blank=True)
    xero_total = models.DecimalField(**MONEY, null=True, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    post_error = models.TextField(blank=True)
    allocated_at = models.DateTimeField(null=True, blank=True)
    allocation_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status__in=["approved", "posted", "failed"])
                | models.Q(approved_by__isnull=False, approved_at__isnull=False),
                name="creditnotedraft_posting_needs_approver",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("invoicing:credit-detail", args=[self.pk])

    @property
    def has_variance(self) -> bool:
        return self.variance != 0

    @property
    def codes_correctable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.FAILED)


class CreditNoteLine(DraftLine):
    draft = models.ForeignKey(CreditNoteDraft, on_delete=models.CASCADE, related_name="lines")

    class Meta(DraftLine.Meta):
        pass


class RefundReview(models.Model):
    """A Shopify refund the portal has checked for a credit note (once), and the one it made."""

    refund = models.OneToOneField("orders.Refund", on_delete=models.CASCADE, related_name="+")
    credit_note = models.OneToOneField(
        CreditNoteDraft, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"refund {self.refund_id} reviewed"
