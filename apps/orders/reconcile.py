"""Reconciliation with Shopify: the orders poll that closes webhook gaps, and the subscriptions check.

Webhooks are not guaranteed (dropped, late, removed after failed retries). The poll reads every
order updated since the watermark minus an overlap and upserts it through `order_upsert`, the same
path as the webhooks, so both converge; the subscriptions check re-creates removed subscriptions.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.orders.models import PollWatermark
from apps.orders.services import order_upsert
from apps.orders.shopify_graphql import order_from_graphql
from apps.orders.shopify_payload import PayloadError
from apps.sync.alerts import alert_raise
from apps.sync.budgets import sync_rate_gate
from integrations.http import PeerError
from integrations.shopify.client import ORDER_WEBHOOK_TOPICS, ShopifyClient

logger = logging.getLogger(__name__)

WATERMARK = "shopify.orders"
# A first poll (no watermark yet) looks back this far; Shopify shows 60 days without read_all_orders.
FIRST_POLL_LOOKBACK = timedelta(days=7)
WEBHOOK_PATH = "/webhooks/shopify/"
# When the subscriptions check last completed: before the first, missing subscriptions are simply
# not registered yet (a new install), not lost, and creating them raises no alert.
SUBSCRIPTIONS_MARK = "shopify.webhook_subscriptions"


@dataclass
class PollResult:
    since: datetime
    pages: int = 0
    seen: int = 0
    applied: int = 0
    created: int = 0
    failed: list[str] = field(default_factory=list)
    watermark: datetime | None = None
    complete: bool = False

    def as_dict(self) -> dict:
        return {
            "since": self.since.isoformat(),
            "pages": self.pages,
            "seen": self.seen,
            "applied": self.applied,
            "created": self.created,
            "failed": self.failed,
            "watermark": self.watermark.isoformat() if self.watermark else None,
            "complete": self.complete,
        }


def shopify_client() -> ShopifyClient:
    """The configured client: Django's cache holds the token, the shared budget gates calls."""
    return ShopifyClient.from_config(
        settings.SHOPIFY, token_cache=cache, rate_gate=sync_rate_gate("shopify")
    )


def orders_poll(*, overlap_minutes: int = 5, client: ShopifyClient | None = None) -> PollResult:
    """Upsert every order Shopify updated since the watermark minus the overlap.

    The watermark moves to the newest `updatedAt` seen only after a complete pass: a pass that
    stops early (peer error) is simply re-read next time, and upserts are idempotent. A node we
    cannot use is recorded and alerted, but does not hold back the others.
    """
    mark = PollWatermark.objects.filter(name=WATERMARK).first()
    since = (mark.value if mark else timezone.now() - FIRST_POLL_LOOKBACK) - timedelta(
        minutes=overlap_minutes
    )
    result = PollResult(since=since)
    newest = mark.value if mark else None
    own_client = client is None
    client = client or shopify_client()
    try:
        after = None
        while True:
            page = client.orders_updated_since(since, after=after)
            result.pages += 1
            for node in page.nodes:
                result.seen += 1
                try:
                    data = order_from_graphql(node)
                except PayloadError as error:
                    label = node.get("name") or node.get("id") or "?"
                    result.failed.append(f"{label}: {error}")
                    continue
                outcome = order_upsert(data=data, via="poll")
                result.applied += int(outcome.applied)
                result.created += int(outcome.created)
                if newest is None or data.updated_at > newest:
                    newest = data.updated_at
            if not page.has_next_page or not page.end_cursor:
                break
            after = page.end_cursor
    finally:
        if own_client:
            client.close()
    result.complete = True
    if newest is not None:
        with transaction.atomic():
            PollWatermark.objects.update_or_create(name=WATERMARK, defaults={"value": newest})
        result.watermark = newest
    if result.failed:
        alert_raise(
            kind="shopify.poll_unusable_order",
            severity="warning",
            dedupe_key="shopify.poll_unusable_order",
            message=f"The Shopify poll could not use {len(result.failed)} order(s): "
            + "; ".join(result.failed)[:1500],
        )
    return result


def webhook_subscriptions_check(*, client: ShopifyClient | None = None) -> list[str]:
    """Re-create any of our order subscriptions Shopify no longer has; return the topics re-created."""
    uri = settings.O2C_PUBLIC_URL + WEBHOOK_PATH
    own_client = client is None
    client = client or shopify_client()
    recreated: list[str] = []
    try:
        present = {(s.topic, s.uri) for s in client.webhook_subscriptions()}
        registered_before = any(u == uri for _topic, u in present) or (
            PollWatermark.objects.filter(name=SUBSCRIPTIONS_MARK).exists()
        )
        for topic in ORDER_WEBHOOK_TOPICS:
            if (topic, uri) in present:
                continue
            outcome = client.webhook_subscription_create(topic, uri)
            if outcome.user_errors:
                messages = "; ".join(str(e.get("message")) for e in outcome.user_errors)
                alert_raise(
                    kind="shopify.webhook_subscription_failed",
                    severity="critical",
                    dedupe_key=f"shopify.webhook_subscription_failed:{topic}",
                    message=f"Shopify refused the {topic} webhook subscription: {messages}",
                )
                continue
            recreated.append(topic)
    finally:
        if own_client:
            client.close()
    PollWatermark.objects.update_or_create(
        name=SUBSCRIPTIONS_MARK, defaults={"value": timezone.now()}
    )
    if recreated and registered_before:
        alert_raise(
            kind="shopify.webhook_subscription_missing",
            severity="warning",
            dedupe_key="shopify.webhook_subscription_missing",
            message=(
                f"Shopify webhook subscriptions were missing and have been re-created: "
                f"{', '.join(recreated)}. Deliveries in the gap are recovered by the orders poll."
            ),
        )
    return recreated


def orders_poll_task(overlap_minutes: int = 5) -> dict:
    """django-q2 entry point (schedule `orders.shopify_poll`)."""
    try:
        return orders_poll(overlap_minutes=overlap_minutes).as_dict()
    except PeerError as error:
        # Retryable trouble (throttled, down) is the next run's job; permanent trouble needs a person.
        logger.warning("Shopify orders poll stopped: %r", error)
        if not error.retryable:
            alert_raise(
                kind="shopify.poll_failed",
                severity="critical",
                dedupe_key="shopify.poll_failed",
                message=f"The Shopify orders poll failed: {error.message}"[:2000],
            )
        return {"error": str(error), "retryable": error.retryable}


def webhook_subscriptions_check_task() -> list[str]:
    """django-q2 entry point (schedule `orders.shopify_subscriptions`)."""
    try:
        return webhook_subscriptions_check()
    except PeerError as error:
        logger.warning("Shopify subscriptions check stopped: %r", error)
        if not error.retryable:
            alert_raise(
                kind="shopify.subscriptions_check_failed",
                severity="critical",
                dedupe_key="shopify.subscriptions_check_failed",
                message=f"The Shopify webhook subscriptions check failed: {error.message}"[:2000],
            )
        return []
