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
