"""Orders as Shopify states them, and what the pipeline has done with them.

Money is Decimal with the order's currency; Shopify ids are 64-bit (BIGINT), never floats.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse

from integrations.http import web_url

MONEY = {"max_digits": 14, "decimal_places": 2}


class Order(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        HELD = "held", "Held"
        READY = "ready", "Ready"
        SUBMITTED = "submitted", "Submitted to warehouse"
        PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
        SHIPPED = "shipped", "Shipped"
        FULFILLED = "fulfilled", "Fulfilled in Shopify"
        CANCELLED = "cancelled", "Cancelled"

    # Statuses in which the lines are (re-)resolved against the mapping tables.
    RESOLVABLE = (Status.RECEIVED, Status.HELD, Status.READY)
    # Statuses in which the warehouse holds the order (a cancellation must reach it).
    AT_WAREHOUSE = (Status.SUBMITTED, Status.PARTIALLY_SHIPPED, Status.SHIPPED, Status.FULFILLED)

    shopify_id = models.BigIntegerField(unique=True)
    admin_graphql_api_id = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=64, db_index=True)
    order_number = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=24, choices=Status, default=Status.RECEIVED, db_index=True)

    email = models.EmailField(blank=True, db_index=True)
    phone = models.CharField(max_length=64, blank=True)
    customer_id = models.BigIntegerField(null=True, blank=True)
    customer_first_name = models.CharField(max_length=255, blank=True)
    customer_last_name = models.CharField(max_length=255, blank=True)
    shipping_address = models.JSONField(null=True, blank=True)

    currency = models.CharField(max_length=3)
    subtotal_price = models.DecimalField(**MONEY)
    total_discounts = models.DecimalField(**MONEY, default=0)
    total_tax = models.DecimalField(**MONEY, default=0)
    total_shipping = models.DecimalField(**MONEY, default=0)
    total_price = models.DecimalField(**MONEY)
    current_total_price = models.DecimalField(**MONEY, null=True, blank=True)
    taxes_included = models.BooleanField(default=False)

    financial_status = models.CharField(max_length=32, blank=True)
    fulfillment_status = models.CharField(max_length=32, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=64, blank=True)
    tags = models.CharField(max_length=1000, blank=True)
    test = models.BooleanField(default=False)

    shopify_created_at = models.DateTimeField()
    shopify_updated_at = models.DateTimeField()
    mapping_version = models.PositiveIntegerField(null=True, blank=True)
    # The warehouse's side: its order id once it accepted ours, and its last refusal, if any.
    warehouse_order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    warehouse_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-shopify_created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-shopify_created_at"], name="order_status_created_idx"),
            # The orders list's first page and the received-per-hour chart: newest first, no sort.
            models.Index(fields=["-shopify_created_at", "-id"], name="order_created_idx"),
            models.Index(fields=["submitted_at"], name="order_submitted_idx"),
            # The search by order name, any case (by email: migration 0006, PostgreSQL's opclass).
            models.Index(Upper("name"), name="order_name_upper_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", args=[self.pk])

    @property
    def customer_name(self) -> str:
        return f"{self.customer_first_name} {self.customer_last_name}".strip()


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    shopify_id = models.BigIntegerField()
    sku = models.CharField(max_length=255, null=True, blank=True)
    variant_id = models.BigIntegerField(null=True, blank=True)
    product_id = models.BigIntegerField(null=True, blank=True)
    title = models.CharField(max_length=500)
    variant_title = models.CharField(max_length=500, blank=True)
    quantity = models.PositiveIntegerField()
    fulfillable_quantity = models.PositiveIntegerField(default=0)
    price = models.DecimalField(**MONEY)
    total_discount = models.DecimalField(**MONEY, default=0)
    requires_shipping = models.BooleanField(default=True)
    gift_card = models.BooleanField(default=False)
    taxable = models.BooleanField(default=True)
    # What the mapping tables resolved this line to (null while held).
    sku_mapping = models.ForeignKey(
        "inventory.SkuMapping", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Handling(models.TextChoices):
        WAREHOUSE = "", "By the warehouse"
        NOT_SHIPPED = "not_shipped", "Not shipped (billed only)"
        BY_HAND = "by_hand", "Shipped by hand (billed, not sent to the warehouse)"

    # A person's decision for a line the mapping cannot resolve (a custom item): never sent to the
    # warehouse, billed on the order's first invoice draft.
    handling = models.CharField(max_length=16, choices=Handling, default="", blank=True)
    handling_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "shopify_id"], name="orderline_unique_per_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku or self.title}"


class ShippingLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipping_lines")
    shopify_id = models.BigIntegerField(null=True, blank=True)
    code = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=255, blank=True)
    price = models.DecimalField(**MONEY)
    discounted_price = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title or self.code


class TaxLine(models.Model):
    """One of Shopify's tax lines, on an order line or a shipping line (often several per line)."""

    order_line = models.ForeignKey(
        OrderLine, null=True, blank=True, on_delete=models.CASCADE, related_name="tax_lines"
    )
    shipping_line = models.ForeignKey(
        ShippingLine, null=True, blank=True, on_delete=models.CASCADE, related_name="tax_lines"
    )
    title = models.CharField(max_length=255)
    rate = models.DecimalField(max_digits=9, decimal_places=6)
    amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(order_line__isnull=False, shipping_line__isnull=True)
                | models.Q(order_line__isnull=True, shipping_line__isnull=False),
                name="taxline_belongs_to_one_line",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.amount}"


class DiscountAllocation(models.Model):
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.CASCADE, related_name="discount_allocations"
    )
    amount = models.DecimalField(**MONEY)
    discount_application_index = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return str(self.amount)


class Refund(models.Model):
    # The order may arrive after its refund (webhooks are not ordered): keep the Shopify id to link later.
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.CASCADE, related_name="refunds"
    )
    order_shopify_id = models.BigIntegerField(db_index=True)
    shopify_id = models.BigIntegerField(unique=True)
    note = models.TextField(blank=True)
    shopify_created_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    amount = models.DecimalField(**MONEY, default=0)

    class Meta:
        ordering = ["shopify_created_at", "id"]

    def __str__(self) -> str:
        return f"refund {self.shopify_id}"


class RefundLine(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    line_shopify_id = models.BigIntegerField()
    quantity = models.PositiveIntegerField()
    subtotal = models.DecimalField(**MONEY)
    total_tax = models.DecimalField(**MONEY)
    restock_type = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} × line {self.line_shopify_id}"


class Hold(models.Model):
    """Why an order cannot go on, one row per problem (per line where it is a line's problem)."""

    class Reason(models.TextChoices):
        NO_SKU = "no_sku", "Line has no SKU"
        UNKNOWN_SKU = "unknown_sku", "SKU not mapped"
        AMBIGUOUS_SKU = "ambiguous_sku", "SKU mapped twice"
        NO_SHIPPING_ADDRESS = "no_shipping_address", "No shipping address"
        NO_QUANTITY = "no_quantity", "Every line has quantity 0"
        UNMAPPED_TAX = "unmapped_tax", "Tax line not mapped"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="holds")
    line = models.ForeignKey(
        OrderLine, null=True, blank=True, on_delete=models.CASCADE, related_name="holds"
    )
    reason = models.CharField(max_length=32, choices=Reason)
    detail = models.TextField()
    # What the line carried, kept so the hold still names it after the line changes.
    sku = models.CharField(max_length=255, blank=True)
    variant_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # How a person cleared it when the mapping did not (an override or a cancelled hold), and why.
    release_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["released_at", "reason"], name="hold_open_idx")]
        permissions = [("release_hold", "Can release held orders after a fix")]

    def __str__(self) -> str:
        return f"{self.order} held: {self.get_reason_display()}"


class OrderEvent(models.Model):
    """The order's own history (status changes, holds, releases) for its timeline."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=48)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.order} {self.kind}"


class PollWatermark(models.Model):
    """How far a reconciliation poll has read a peer (e.g. Shopify orders by updated_at).

    A pass may span several runs: `cursor` is the next page of the pass that began at
    `pass_started_at` reading from `pass_since`, and `value` moves page by page.
    """

    name = models.CharField(max_length=64, unique=True)
    value = models.DateTimeField()
    cursor = models.TextField(blank=True)
    pass_since = models.DateTimeField(null=True, blank=True)
    pass_started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.value:%Y-%m-%d %H:%M:%S}"


class Shipment(models.Model):
    """One parcel the warehouse shipped (an order may ship in several), and its Shopify fulfillment."""

    class FulfillmentStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Fulfilled in Shopify"
        FAILED = "failed", "Failed"
        NOT_NEEDED = "not_needed", "Not needed"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    shipbob_shipment_id = models.BigIntegerField(unique=True)
    shipbob_order_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=40, blank=True)
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    tracking_url = models.URLField(max_length=500, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    exception = models.TextField(blank=True)
    # The warehouse items in the parcel, as ShipBob reported them: [{inventory_id, reference_id, quantity}].
    products = models.JSONField(default=list, blank=True)
    fulfillment_status = models.CharField(
        max_length=16, choices=FulfillmentStatus, default=FulfillmentStatus.PENDING
    )
    shopify_fulfillment_id = models.CharField(max_length=100, blank=True)
    fulfillment_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["shipped_at"], name="shipment_shipped_idx")]

    def __str__(self) -> str:
        return f"shipment {self.shipbob_shipment_id} of {self.order}"

    @property
    def tracking_link(self) -> str:
        """The tracking URL if it may be a link (http or https), else ""."""
        return web_url(self.tracking_url)


class ShipmentLine(models.Model):
    """How many of an order line a shipment carried (bundles are counted in whole Shopify units)."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.CASCADE, related_name="shipment_lines"
    )
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "order_line"], name="shipmentline_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line}"
