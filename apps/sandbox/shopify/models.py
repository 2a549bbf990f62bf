"""The Shopify stand-in's store: orders as Shopify's REST JSON, webhook subscriptions, tokens, cost buckets."""

from django.db import models
from django.utils import timezone


class StoreOrder(models.Model):
    """One order of the simulated shop, kept as the REST Order resource (its latest state)."""

    shopify_id = models.BigIntegerField(unique=True)
    order_number = models.PositiveBigIntegerField()
    payload = models.JSONField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["updated_at", "shopify_id"]

    def __str__(self) -> str:
        return self.payload.get("name", str(self.shopify_id))


class StoreWebhookSubscription(models.Model):
    topic = models.CharField(max_length=64)  # GraphQL enum value: ORDERS_CREATE
    uri = models.CharField(max_length=500)
    format = models.CharField(max_length=8, default="JSON")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "uri"], name="sandbox_shopify_sub_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} → {self.uri}"

    @property
    def gid(self) -> str:
        return f"gid://shopify/WebhookSubscription/{self.pk}"


class StoreAccessToken(models.Model):
    """A token handed out by the client-credentials grant."""

    token = models.CharField(max_length=100, unique=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"token until {self.expires_at:%Y-%m-%d %H:%M}"


class StoreCostBucket(models.Model):
    """The leaky bucket of query-cost points, one per access token (Shopify: per app and shop)."""

    key = models.CharField(max_length=100, unique=True)
    available = models.FloatField()
    updated_at = models.DateTimeField(default=timezone.now)
    throttled_total = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key[:8]}…: {self.available:.0f}"


class StoreFulfillmentOrder(models.Model):
    """Shopify's FulfillmentOrder: the work one location owes for an order (one per order here)."""

    class Status(models.TextChoices):
        OPEN = "OPEN"
        IN_PROGRESS = "IN_PROGRESS"
        CLOSED = "CLOSED"
        CANCELLED = "CANCELLED"
        INCOMPLETE = "INCOMPLETE"
        ON_HOLD = "ON_HOLD"
        SCHEDULED = "SCHEDULED"

    order = models.ForeignKey(
        StoreOrder, on_delete=models.CASCADE, related_name="fulfillment_orders"
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.gid} ({self.status})"

    @property
    def gid(self) -> str:
        return f"gid://shopify/FulfillmentOrder/{self.pk}"


class StoreFulfillmentOrderLine(models.Model):
    """A FulfillmentOrderLineItem: one order line's quantity owed by a fulfillment order."""

    fulfillment_order = models.ForeignKey(
        StoreFulfillmentOrder, on_delete=models.CASCADE, related_name="lines"
    )
    line_item_id = models.BigIntegerField()  # the REST line item id (LineItem gid's number)
    sku = models.CharField(max_length=255, null=True, blank=True)
    total_quantity = models.PositiveIntegerField()
    remaining_quantity = models.PositiveIntegerField()
    fulfilled_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.sku or self.line_item_id}: {self.remaining_quantity}/{self.total_quantity}"

    @property
    def gid(self) -> str:
        return f"gid://shopify/FulfillmentOrderLineItem/{self.pk}"


class StoreFulfillment(models.Model):
    """A Fulfillment made by fulfillmentCreate: what shipped, with which tracking, notified or not."""

    order = models.ForeignKey(StoreOrder, on_delete=models.CASCADE, related_name="fulfillments")
    status = models.CharField(max_length=16, default="SUCCESS")
    tracking_company = models.CharField(max_length=255, blank=True)
    tracking_number = models.CharField(max_length=255, blank=True)
    tracking_url = models.CharField(max_length=1000, blank=True)
    notify_customer = models.BooleanField(default=False)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.gid} {self.tracking_number}"

    @property
    def gid(self) -> str:
        return f"gid://shopify/Fulfillment/{self.pk}"


class StoreFulfillmentLine(models.Model):
    fulfillment = models.ForeignKey(
        StoreFulfillment, on_delete=models.CASCADE, related_name="lines"
    )
    fulfillment_order_line = models.ForeignKey(
        StoreFulfillmentOrderLine, on_delete=models.CASCADE, related_name="fulfillment_lines"
    )
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.fulfillment_order_line_id} × {self.quantity}"

    @property
    def gid(self) -> str:
        return f"gid://shopify/FulfillmentLineItem/{self.pk}"


class StoreLocation(models.Model):
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def gid(self) -> str:
        return f"gid://shopify/Location/{self.pk}"


class StoreInventoryItem(models.Model):
    """A variant's inventory item; its quantities live in StoreInventoryLevel per location."""

    sku = models.CharField(max_length=255, db_index=True)
    variant_id = models.BigIntegerField(null=True, blank=True)
    tracked = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.sku

    @property
    def gid(self) -> str:
        return f"gid://shopify/InventoryItem/{self.pk}"


class StoreInventoryLevel(models.Model):
    item = models.ForeignKey(StoreInventoryItem, on_delete=models.CASCADE, related_name="levels")
    location = models.ForeignKey(StoreLocation, on_delete=models.CASCADE, related_name="levels")
    # May go below zero: a shop that keeps selling when out of stock oversells.
    available = models.IntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["item_id", "location_id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "location"], name="sandbox_level_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.item} @ {self.location}: {self.available}"


class StoreIdempotencyKey(models.Model):
    """An `@idempotent` key Shopify has seen: the input it came with and the answer it got."""

    key = models.CharField(max_length=255, unique=True)
    fingerprint = models.CharField(max_length=64)
    response = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.key


class StoreInventorySetCall(models.Model):
    """Every inventorySetQuantities that reached the store (benches count calls and stale refusals)."""

    key = models.CharField(max_length=255, blank=True)
    quantities = models.PositiveIntegerField()
    outcome = models.CharField(max_length=40)  # applied, replayed, stale, mismatch, refused
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.outcome} × {self.quantities}"
