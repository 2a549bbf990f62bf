"""Reconciliation with Shopify: the orders poll that closes webhook gaps, and the subscriptions check.

Webhooks are not guaranteed (dropped, late, removed after failed retries). The poll scans every
order updated since the watermark minus an overlap, asking only for the fields that say whether
our copy is older (ORDER_STAMP_FIELDS: ~1 point per order, pages of 100), then reads in full only
the orders it must apply and upserts them through `order_upsert`, the same path as the webhooks,
so both converge. A pass may take several runs: the page cursor is saved after every page and the
watermark moves page by page, so a run that hits its time budget or Shopify's throttle stops and
the next run carries on from there. The subscriptions check re-creates removed subscriptions.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.orders.models import Order, PollWatermark
from apps.orders.services import POLL, order_state_rank, order_upsert
from apps.orders.shopify_graphql import OrderStamp, order_from_graphql, order_stamp_from_graphql
from apps.orders.shopify_payload import PayloadError
from apps.sync.alerts import alert_clear, alert_kind_register, alert_raise
from apps.sync.budgets import DEFAULT_MAX_WAIT_SECONDS, sync_rate_gate
from apps.sync.clients import client_options
from integrations.http import PeerError
from integrations.shopify.client import (
    ORDER_STAMP_FIELDS,
    ORDER_STAMPS_PAGE_SIZE,
    ORDER_WEBHOOK_TOPICS,
    ShopifyClient,
)

logger = logging.getLogger(__name__)

POLL_UNUSABLE = alert_kind_register(
    "shopify.poll_unusable_order",
    title="The Shopify poll could not use some orders",
    severity="warning",
    resolves="by itself when a poll uses every order it reads",
    auto_resolves=True,
)
POLL_FAILED = alert_kind_register(
    "shopify.poll_failed",
    title="The Shopify orders poll fails",
    severity="critical",
    resolves="by itself at the next successful poll",
    auto_resolves=True,
)
SUBSCRIPTION_FAILED = alert_kind_register(
    "shopify.webhook_subscription_failed",
    title="Shopify refused to re-create a webhook subscription",
    severity="critical",
    resolves="by itself once the check finds or re-creates that topic's subscription",
    auto_resolves=True,
)
SUBSCRIPTION_MISSING = alert_kind_register(
    "shopify.webhook_subscription_missing",
    title="Shopify webhook subscriptions were missing (re-created)",
    severity="warning",
    resolves="by a person, once they know why deliveries failed for hours",
)
SUBSCRIPTIONS_CHECK_FAILED = alert_kind_register(
    "shopify.subscriptions_check_failed",
    title="The Shopify webhook subscriptions check fails",
    severity="critical",
    resolves="by itself at the next successful check",
    auto_resolves=True,
)

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
    fetched: int = 0  # orders read in full because our copy was older or missing
    applied: int = 0
    created: int = 0
    failed: list[str] = field(default_factory=list)
    watermark: datetime | None = None
    complete: bool = False  # this run finished the pass
    stopped: str = ""  # why the run handed over before the end of the pass
    lag_seconds: int | None = None

    def as_dict(self) -> dict:
        return {
            "since": self.since.isoformat(),
            "pages": self.pages,
            "seen": self.seen,
            "fetched": self.fetched,
            "applied": self.applied,
            "created": self.created,
            "failed": self.failed,
            "watermark": self.watermark.isoformat() if self.watermark else None,
            "complete": self.complete,
            "stopped": self.stopped,
            "lag_seconds": self.lag_seconds,
        }


def shopify_client(*, max_wait: float = DEFAULT_MAX_WAIT_SECONDS, **kwargs) -> ShopifyClient:
    """The configured client: Django's cache holds the token, the shared budget gates calls."""
    return ShopifyClient.from_config(
        settings.SHOPIFY,
        token_cache=cache,
        rate_gate=sync_rate_gate("shopify", max_wait=max_wait),
        **{**client_options(), **kwargs},
    )


def poll_lag_seconds(mark: PollWatermark) -> int:
    """How far behind Shopify the poll may be: the age of its watermark."""
    return max(0, int((timezone.now() - mark.value).total_seconds()))


def _stale(stamps: list[OrderStamp]) -> list[OrderStamp]:
    """The orders whose state in Shopify is newer than ours (or that we do not have)."""
    ours = {
        order.shopify_id: order_state_rank(order)
        for order in Order.objects.filter(shopify_id__in=[s.shopify_id for s in stamps]).only(
            "shopify_id",
            "shopify_updated_at",
            "cancelled_at",
            "financial_status",
            "fulfillment_status",
        )
    }
    return [s for s in stamps if s.shopify_id not in ours or s.rank > ours[s.shopify_id]]


def _page_apply(
    client: ShopifyClient, mark: PollWatermark, result: PollResult, page_size: int
) -> None:
    """One page of the pass: scan, apply what is newer, then save the cursor and the watermark.

    A PeerError part-way (throttled) leaves the cursor where it was: the next run re-reads the page
    and skips the orders already applied.
    """
    page = client.orders_updated_since(
        mark.pass_since, after=mark.cursor or None, first=page_size, fields=ORDER_STAMP_FIELDS
    )
    result.pages += 1
    stamps = []
    for node in page.nodes:
        result.seen += 1
        try:
            stamps.append(order_stamp_from_graphql(node))
        except PayloadError as error:
            result.failed.append(f"{node.get('id') or '?'}: {error}")
    for stamp in _stale(stamps):
        node = client.order(stamp.gid)
        result.fetched += 1
        if node is None:
            continue  # deleted since the scan
        try:
            data = order_from_graphql(node)
        except PayloadError as error:
            result.failed.append(f"{node.get('name') or stamp.gid}: {error}")
            continue
        outcome = order_upsert(data=data, via=POLL)
        result.applied += int(outcome.applied)
        result.created += int(outcome.created)
    newest = max((s.updated_at for s in stamps), default=mark.value)
    mark.value = max(mark.value, newest)
    if page.has_next_page and page.end_cursor:
        mark.cursor = page.end_cursor
    else:  # the pass is over: everything updated before it began has been read
        mark.value = max(mark.value, mark.pass_started_at)
        mark.cursor = ""
        result.complete = True
    with transaction.atomic():
        mark.save()


def orders_poll(
    *,
    overlap_minutes: int = 5,
    client: ShopifyClient | None = None,
    budget_seconds: float | None = None,
    page_size: int = ORDER_STAMPS_PAGE_SIZE,
) -> PollResult:
    """Carry the pass on (or start one) for at most `budget_seconds` (default: a pump run).

    Every page is saved as it completes. A throttle the budget can wait out is waited out; a longer
    one ends the run (the next run continues). A node we cannot use is recorded and alerted, but
    does not hold back the others.
    """
    budget = settings.SYNC["PUMP_RUN_SECONDS"] if budget_seconds is None else budget_seconds
    deadline = time.monotonic() + budget
    now = timezone.now()
    mark = PollWatermark.objects.filter(name=WATERMARK).first() or PollWatermark(
        name=WATERMARK, value=now - FIRST_POLL_LOOKBACK
    )
    if not mark.cursor or mark.pass_since is None:  # a new pass
        mark.pass_since = mark.value - timedelta(minutes=overlap_minutes)
        mark.pass_started_at = now
        mark.cursor = ""
        mark.save()
    result = PollResult(since=mark.pass_since)
    own_client = client is None
    # The client waits for nothing itself: this loop decides against the run's budget.
    client = client or shopify_client(
        max_wait=min(DEFAULT_MAX_WAIT_SECONDS, budget), throttle_retries=0
    )
    try:
        while not result.complete:
            try:
                _page_apply(client, mark, result, page_size)
            except PeerError as error:
                if not error.retryable:
                    raise
                wait = error.retry_after
                if wait is None or wait >= deadline - time.monotonic():
                    result.stopped = f"{error.message} (retry after {wait} s)"[:200]
                    break
                time.sleep(wait)
                continue
            if not result.complete and time.monotonic() >= deadline:
                result.stopped = "time budget spent"
                break
    finally:
        if own_client:
            client.close()
    result.watermark = mark.value
    result.lag_seconds = poll_lag_seconds(mark)
    logger.info(
        "Shopify orders poll: pages=%d seen=%d fetched=%d applied=%d complete=%s stopped=%r "
        "watermark=%s lag=%ss",
        result.pages,
        result.seen,
        result.fetched,
        result.applied,
        result.complete,
        result.stopped,
        result.watermark.isoformat() if result.watermark else None,
        result.lag_seconds,
    )
    alert_clear(dedupe_key=POLL_FAILED.name, reason="the poll succeeded again")
    if not result.failed:
        alert_clear(dedupe_key=POLL_UNUSABLE.name, reason="the last poll used every order")
    else:
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
                alert_clear(
                    dedupe_key=f"{SUBSCRIPTION_FAILED.name}:{topic}",
                    reason="the subscription exists",
                )
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
            alert_clear(
                dedupe_key=f"{SUBSCRIPTION_FAILED.name}:{topic}",
                reason="the subscription was re-created",
            )
        alert_clear(dedupe_key=SUBSCRIPTIONS_CHECK_FAILED.name, reason="the check succeeded again")
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
        # Retryable trouble ends a run inside orders_poll (the next run continues); this needs a person.
        logger.warning("Shopify orders poll stopped: %r", error)
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
