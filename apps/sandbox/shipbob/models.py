"""The ShipBob stand-in's warehouse: orders, their shipments, stock, webhook events, the rate window."""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class WarehouseOrder(models.Model):
    """An order as ShipBob holds it. `reference_id` is unique: a second create answers 422."""

    class Status(models.TextChoices):
        PROCESSING = "Processing"
        EXCEPTION = "Exception"
        PARTIALLY_FULFILLED = "PartiallyFulfilled"
        FULFILLED = "Fulfilled"
        CANCELLED = "Cancelled"

    reference_id = models.CharField(max_length=300, unique=True)
    order_number = models.CharField(max_length=400, blank=True)
    channel_id = models.CharField(max_length=32, blank=True)
    order_type = models.CharField(max_length=16, default="DTC")
    shipping_method = models.CharField(max_length=100)
    recipient = models.JSONField()
    status = models.CharField(max_length=24, choices=Status, default=Status.PROCESSING)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"ShipBob order {self.pk} ({self.reference_id})"


class WarehouseOrderProduct(models.Model):
    order = models.ForeignKey(WarehouseOrder, on_delete=models.CASCADE, related_name="products")
    inventory_id = models.BigIntegerField()
    reference_id = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=200, blank=True)
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.reference_id or self.inventory_id}"


class WarehouseShipment(models.Model):
    """One parcel of an order. Statuses and status details as ShipBob names them."""

    class Status(models.TextChoices):
        PROCESSING = "Processing"
        LABELED_CREATED = "LabeledCreated"
        COMPLETED = "Completed"
        EXCEPTION = "Exception"
        ON_HOLD = "OnHold"
        CANCELLED = "Cancelled"

    order = models.ForeignKey(WarehouseOrder, on_delete=models.CASCADE, related_name="shipments")
    status = models.CharField(max_length=24, choices=Status, default=Status.PROCESSING)
    # "" (waiting), "Picked", "Packed", or an exception reason such as "OutOfStock".
    status_detail = models.CharField(max_length=40, blank=True)
    status_description = models.CharField(max_length=200, blank=True)
    carrier = models.CharField(max_length=40, blank=True)
    carrier_service = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=60, blank=True)
    tracking_url = models.CharField(max_length=300, blank=True)
    # When a split-off remainder may ship (None: with the order's normal delay).
    ship_not_before = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tracking_number"],
                condition=~Q(tracking_number=""),
                name="sandbox_shipbob_tracking_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"shipment {self.pk} ({self.status})"


class WarehouseShipmentProduct(models.Model):
    shipment = models.ForeignKey(
        WarehouseShipment, on_delete=models.CASCADE, related_name="products"
    )
    inventory_id = models.BigIntegerField()
    reference_id = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=200, blank=True)
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.reference_id or self.inventory_id}"


class OrderCreateAttempt(models.Model):
    """Every POST /order per reference_id, accepted or not: tests assert "exactly once" with it."""

    reference_id = models.CharField(max_length=300, unique=True)
    attempts = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField(default=timezone.now)
    last_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.reference_id}: {self.attempts} attempts"


class InventoryItem(models.Model):
    """Stock of one inventory item (component level, as ShipBob tracks bundles)."""

    inventory_id = models.BigIntegerField(unique=True)
    sku = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    on_hand = models.IntegerField(default=0)
    committed = models.IntegerField(default=0)

    class Meta:
        ordering = ["inventory_id"]

    def __str__(self) -> str:
        return f"{self.inventory_id} {self.sku}"

    @property
    def fulfillable(self) -> int:
        return max(0, self.on_hand - self.committed)


class WebhookEvent(models.Model):
    """An event the stand-in owes the portal; sent by the shipping tick (so views never block)."""

    webhook_id = models.CharField(max_length=64, unique=True)
    topic = models.CharField(max_length=60)
    payload = models.JSONField()
    order = models.ForeignKey(
        WarehouseOrder, on_delete=models.CASCADE, related_name="events", null=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    deliveries = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    dropped = models.BooleanField(default=False)
    last_status = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.topic} {self.webhook_id}"


class RateWindow(models.Model):
    """The sliding window of one token: the epoch seconds of the calls still inside it."""

    key = models.CharField(max_length=64, unique=True)
    stamps = models.JSONField(default=list)
    calls_total = models.PositiveIntegerField(default=0)
    throttled_total = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"window {self.key[:8]}…: {len(self.stamps)} calls"
