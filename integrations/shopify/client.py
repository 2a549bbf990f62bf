"""Shopify Admin GraphQL client: token handling, cost-based throttling, the operations we use.

Plain Python (no Django models): the caller hands in a token cache (Django's cache fits the
`TokenCache` protocol) and a rate gate. Every answer's `extensions.cost.throttleStatus` becomes a
`RateInfo` for the gate; THROTTLED (HTTP 200 with errors[].extensions.code) and HTTP 429/503 with
Retry-After both become a retryable `PeerError` with the wait computed.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from integrations.http import (
    DEFAULT_TIMEOUT_SECONDS,
    DEFAULT_USER_AGENT,
    PeerClient,
    PeerError,
    RateGate,
    RateInfo,
    build_client,
    default_rate_info,
    object_at,
    raise_for_status,
    send,
    text_clean,
    web_url,
)

PEER = "shopify"
# Refresh a client-credentials token this long before Shopify says it expires.
TOKEN_EARLY_REFRESH_SECONDS = 300
# Shopify refuses a single query above 1,000 requested points (MAX_COST_EXCEEDED): with line
# items, tax lines and refunds nested, an order costs ~305 points requested, so pages stay small.
ORDERS_PAGE_SIZE = 3
LINE_ITEMS_PAGE_SIZE = 10
LINE_ITEMS_MORE_PAGE_SIZE = 50

# Our subscriptions, as GraphQL WebhookSubscriptionTopic values.
ORDER_WEBHOOK_TOPICS = (
    "ORDERS_CREATE",
    "ORDERS_UPDATED",
    "ORDERS_CANCELLED",
    "ORDERS_PAID",
    "REFUNDS_CREATE",
)

_MONEY = "{ shopMoney { amount currencyCode } }"
_TAX_LINES = f"taxLines {{ title rate priceSet {_MONEY} }}"
LINE_ITEM_FIELDS = f"""
        id sku name title variantTitle quantity unfulfilledQuantity requiresShipping isGiftCard taxable
        variant {{ legacyResourceId }}
        product {{ legacyResourceId }}
        originalUnitPriceSet {_MONEY}
        totalDiscountSet {_MONEY}
        discountAllocations {{ allocatedAmountSet {_MONEY} discountApplication {{ index }} }}
        {_TAX_LINES}
"""
ORDER_FIELDS = f"""
      id legacyResourceId name email phone createdAt updatedAt cancelledAt cancelReason
      currencyCode taxesIncluded test tags displayFinancialStatus displayFulfillmentStatus
      subtotalPriceSet {_MONEY}
      totalDiscountsSet {_MONEY}
      totalTaxSet {_MONEY}
      totalShippingPriceSet {_MONEY}
      totalPriceSet {_MONEY}
      currentTotalPriceSet {_MONEY}
      customer {{ legacyResourceId firstName lastName email phone }}
      shippingAddress {{
        firstName lastName name company address1 address2 city province provinceCode zip
        country countryCodeV2 phone latitude longitude
      }}
      lineItems(first: {LINE_ITEMS_PAGE_SIZE}) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {LINE_ITEM_FIELDS} }}
      }}
      shippingLines(first: 2) {{
        nodes {{ id code title originalPriceSet {_MONEY} discountedPriceSet {_MONEY} {_TAX_LINES} }}
      }}
      refunds(first: 2) {{
        id legacyResourceId note createdAt totalRefundedSet {_MONEY}
        refundLineItems(first: 10) {{
          nodes {{ lineItem {{ id }} quantity restockType subtotalSet {_MONEY} totalTaxSet {_MONEY} }}
        }}
      }}
"""
# What the reconciliation poll scans with: enough to tell whether our copy is older (1 point per
# order, so a page of 100 requests 102 points where full orders cost ~305 each).
ORDER_STAMP_FIELDS = (
    "id legacyResourceId updatedAt cancelledAt displayFinancialStatus displayFulfillmentStatus"
)
ORDER_STAMPS_PAGE_SIZE = 100


def orders_query(fields: str) -> str:
    return f"""
query OrdersUpdatedSince($first: Int!, $after: String, $query: String!) {{
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {fields} }}
  }}
}}
"""


ORDERS_QUERY = orders_query(ORDER_FIELDS)
ORDER_QUERY = f"""
query Order($id: ID!) {{
  order(id: $id) {{ {ORDER_FIELDS} }}
}}
"""
ORDER_LINE_ITEMS_QUERY = f"""
query OrderLineItems($id: ID!, $first: Int!, $after: String) {{
  order(id: $id) {{
    lineItems(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {LINE_ITEM_FIELDS} }}
    }}
  }}
}}
"""
WEBHOOK_SUBSCRIPTIONS_QUERY = """
query WebhookSubscriptions($first: Int!, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id topic uri format createdAt }
  }
}
"""
WEBHOOK_SUBSCRIPTION_CREATE = """
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri format createdAt }
    userErrors { field message }
  }
}
"""

# Fulfillment orders: 5 orders × 50 lines requests ~520 points (an order rarely has more than 2).
FULFILLMENT_ORDERS_PAGE_SIZE = 5
FULFILLMENT_ORDER_LINES_PAGE_SIZE = 50
_FO_LINE_FIELDS = "id remainingQuantity totalQuantity lineItem { id sku }"
FULFILLMENT_ORDERS_QUERY = f"""
query OrderFulfillmentOrders($id: ID!, $first: Int!, $after: String, $linesFirst: Int!) {{
  order(id: $id) {{
    fulfillmentOrders(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{
        id status
        lineItems(first: $linesFirst) {{
          pageInfo {{ hasNextPage endCursor }}
          nodes {{ {_FO_LINE_FIELDS} }}
        }}
      }}
    }}
  }}
}}
"""
FULFILLMENT_ORDER_LINES_QUERY = f"""
query FulfillmentOrderLines($id: ID!, $first: Int!, $after: String) {{
  fulfillmentOrder(id: $id) {{
    lineItems(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {_FO_LINE_FIELDS} }}
    }}
  }}
}}
"""
FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!, $message: String) {
  fulfillmentCreate(fulfillment: $fulfillment, message: $message) {
    fulfillment { id status trackingInfo { company number url } }
    userErrors { field message }
  }
}
"""
ORDER_FULFILLMENTS_QUERY = """
query OrderFulfillments($id: ID!, $first: Int!) {
  order(id: $id) {
    fulfillments(first: $first) { id status createdAt trackingInfo(first: 3) { company number url } }
  }
}
"""
# A list, not a connection: 50 × (1 + 3 tracking infos) keeps the query near 200 points.
ORDER_FULFILLMENTS_LIMIT = 50


# Inventory. A set takes at most 250 quantities; reads are sized to stay under 1,000 points:
# inventoryItems 200 × (item 1 + variant 1 + level 1 + quantities 1) + 2 = 802 requested.
SET_QUANTITIES_MAX = 250
INVENTORY_ITEMS_PAGE_SIZE = 200
INVENTORY_LEVELS_PAGE_SIZE = 250
_AVAILABLE = 'quantities(names: ["available"]) { name quantity }'
LOCATIONS_QUERY = """
query Locations($first: Int!, $after: String) {
  locations(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id name isActive }
  }
}
"""
INVENTORY_ITEMS_QUERY = f"""
query InventoryItems($first: Int!, $after: String, $query: String!, $locationId: ID!) {{
  inventoryItems(first: $first, after: $after, query: $query) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ id sku variant {{ legacyResourceId }} inventoryLevel(locationId: $locationId) {{ {_AVAILABLE} }} }}
  }}
}}
"""
LOCATION_LEVELS_QUERY = f"""
query LocationLevels($id: ID!, $first: Int!, $after: String) {{
  location(id: $id) {{
    inventoryLevels(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ item {{ id }} {_AVAILABLE} }}
    }}
  }}
}}
"""
INVENTORY_SET_QUANTITIES = """
mutation InventorySet($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}
"""


@dataclass(frozen=True)
class ShopifyLocation:
    id: int
    name: str
    active: bool


@dataclass(frozen=True)
class InventoryItemStock:
    """An inventory item and its `available` at one location (None: not stocked there)."""

    item_id: int
    sku: str
    variant_id: int | None
    available: int | None


@dataclass(frozen=True)
class InventoryLevelsPage:
    levels: list[tuple[int, int]]  # (inventory item id, available)
    next_cursor: str | None


@dataclass(frozen=True)
class QuantityChange:
    """One quantity to set: `change_from` is what we last read from Shopify (None skips the compare)."""

    item_id: int
    location_id: int
    quantity: int
    change_from: int | None


@dataclass(frozen=True)
class InventorySetResult:
    """inventorySetQuantities' answer. `stale` holds the item ids whose compare failed: Shopify
    applied nothing of the call then. Other user errors are in `user_errors` (nothing applied)."""

    applied: bool
    stale: tuple[int, ...]
    user_errors: tuple[str, ...]


class TokenCache(Protocol):
    """Where a client-credentials token is kept between calls (Django's cache fits)."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any, timeout: float | None = None) -> None: ...

    def delete(self, key: str) -> Any: ...


class MemoryTokenCache:
    """A process-local TokenCache for scripts and tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._items: dict[str, tuple[Any, float | None]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            value, expires = self._items.get(key, (default, None))
            if expires is not None and self._clock() >= expires:
                self._items.pop(key, None)
                return default
            return value

    def set(self, key: str, value: Any, timeout: float | None = None) -> None:
        with self._lock:
            self._items[key] = (value, None if timeout is None else self._clock() + timeout)

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float


@dataclass(frozen=True)
class QueryCost:
    requested: float | None
    actual: float | None
    throttle: ThrottleStatus | None


@dataclass(frozen=True)
class GraphQLResult:
    data: dict[str, Any]
    cost: QueryCost | None


@dataclass(frozen=True)
class OrdersPage:
    nodes: list[dict[str, Any]]
    has_next_page: bool
    end_cursor: str | None
    cost: QueryCost | None = None


@dataclass(frozen=True)
class WebhookSubscription:
    id: str
    topic: str
    uri: str
    format: str = "JSON"


@dataclass(frozen=True)
class WebhookSubscriptionResult:
    subscription: WebhookSubscription | None
    user_errors: list[dict[str, Any]]


@dataclass(frozen=True)
class FulfillmentOrderLine:
    """A FulfillmentOrderLineItem; `line_item_id` is the REST line id (the LineItem gid's number)."""

    id: str
    remaining_quantity: int
    total_quantity: int
    line_item_id: int
    sku: str | None


@dataclass(frozen=True)
class FulfillmentOrder:
    """status: OPEN, IN_PROGRESS, CLOSED, CANCELLED, INCOMPLETE, ON_HOLD or SCHEDULED."""

    id: str
    status: str
    lines: tuple[FulfillmentOrderLine, ...]

    @property
    def fulfillable(self) -> bool:
        """Shopify takes fulfillments only on OPEN and IN_PROGRESS fulfillment orders."""
        return self.status in FULFILLABLE_STATUSES


FULFILLABLE_STATUSES = frozenset({"OPEN", "IN_PROGRESS"})


@dataclass(frozen=True)
class TrackingInfo:
    company: str
    number: str
    url: str


@dataclass(frozen=True)
class FulfillmentResult:
    """fulfillmentCreate's answer: the new fulfillment, or Shopify's userErrors (not raised)."""

    fulfillment_id: str | None
    status: str  # the Fulfillment's status (SUCCESS…); "" when none was created
    user_errors: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.fulfillment_id is not None and not self.user_errors


@dataclass(frozen=True)
class OrderFulfillment:
    """A fulfillment already on the order (to recognise our own shipment after a lost answer)."""

    id: str
    status: str
    tracking_numbers: tuple[str, ...]


def gid_number(value: Any) -> int | None:
    """The numeric tail of a gid ("gid://shopify/LineItem/123" → 123), None if there is none."""
    tail = str(value or "").rsplit("/", 1)[-1].split("?", 1)[0]
    return int(tail) if tail.isdigit() else None


def _fulfillment_order_line(node: dict[str, Any]) -> FulfillmentOrderLine:
    item = object_at(node, "lineItem")
    line_item_id = gid_number(item.get("id"))
    if line_item_id is None:
        raise PeerError(
            PEER, f"fulfillment order line {node.get('id')!r} has no line item id", retryable=False
        )
    sku = item.get("sku")
    return FulfillmentOrderLine(
        id=str(node.get("id") or ""),
        remaining_quantity=int(node.get("remainingQuantity") or 0),
        total_quantity=int(node.get("totalQuantity") or 0),
        line_item_id=line_item_id,
        sku=str(sku) if sku is not None else None,
    )


def _user_error(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)


def _cost(body: Any) -> QueryCost | None:
    cost = (body.get("extensions") or {}).get("cost") if isinstance(body, dict) else None
    if not isinstance(cost, dict):
        return None
    status = cost.get("throttleStatus")
    throttle = None
    if isinstance(status, dict):
        try:
            throttle = ThrottleStatus(
                maximum_available=float(status["maximumAvailable"]),
                currently_available=float(status["currentlyAvailable"]),
                restore_rate=float(status["restoreRate"]),
            )
        except (KeyError, TypeError, ValueError):
            throttle = None

    def number(value: Any) -> float | None:
        return float(value) if isinstance(value, int | float) else None

    return QueryCost(
        number(cost.get("requestedQueryCost")), number(cost.get("actualQueryCost")), throttle
    )


def _throttled(body: Any) -> bool:
    errors = body.get("errors") if isinstance(body, dict) else None
    return isinstance(errors, list) and any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED"
        for e in errors
    )


def throttle_wait(cost: QueryCost | None) -> float | None:
    """Seconds until the bucket holds the requested cost: (requested - available) / restoreRate."""
    if cost is None or cost.throttle is None or cost.requested is None:
        return None
    throttle = cost.throttle
    if throttle.restore_rate <= 0:
        return None
    missing = cost.requested - throttle.currently_available
    return max(0.0, math.ceil(missing / throttle.restore_rate * 100) / 100)


def shopify_rate_info(response: httpx.Response) -> RateInfo:
    """RateInfo from a GraphQL answer: remaining points from throttleStatus, the wait if throttled."""
    base = default_rate_info(response)
    try:
        response.read()
        body = response.json()
    except (ValueError, httpx.HTTPError, RuntimeError):
        return base
    cost = _cost(body)
    remaining = base.remaining
    if cost is not None and cost.throttle is not None:
        remaining = int(cost.throttle.currently_available)
    retry_after = base.retry_after
    if _throttled(body):
        retry_after = throttle_wait(cost) if retry_after is None else retry_after
    return RateInfo(remaining=remaining, retry_after=retry_after)


class ShopifyClient(PeerClient):
    """One shop's Admin GraphQL API. Raises PeerError; returns dataclasses and plain dicts."""

    def __init__(
        self,
        *,
        base_url: str,
        api_version: str,
        access_token: str = "",
        client_id: str = "",
        client_secret: str = "",
        token_cache: TokenCache | None = None,
        rate_gate: RateGate | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        user_agent: str = DEFAULT_USER_AGENT,
        throttle_retries: int = 2,
        max_throttle_wait: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url:
            raise ValueError("Shopify BASE_URL is not configured")
        if not access_token and not (client_id and client_secret):
            raise ValueError("Shopify needs ACCESS_TOKEN, or CLIENT_ID and CLIENT_SECRET")
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.static_token = access_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_cache = token_cache if token_cache is not None else MemoryTokenCache()
        self.throttle_retries = throttle_retries
        self.max_throttle_wait = max_throttle_wait
        self.sleep = sleep
        self.http = build_client(
            peer=PEER,
            base_url=self.base_url,
            headers={"Content-Type": "application/json"},
            timeout=timeout,
            user_agent=user_agent,
            rate_gate=rate_gate,
            rate_info=shopify_rate_info,
            transport=transport,
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **kwargs: Any) -> ShopifyClient:
        """Build from a SHOPIFY settings block (BASE_URL, API_VERSION, ACCESS_TOKEN, CLIENT_ID…)."""
        return cls(
            base_url=config.get("BASE_URL", ""),
            api_version=config.get("API_VERSION", "2026-10"),
            access_token=config.get("ACCESS_TOKEN", ""),
            client_id=config.get("CLIENT_ID", ""),
            client_secret=config.get("CLIENT_SECRET", ""),
            **kwargs,
        )

    # --- tokens -------------------------------------------------------------------------------
    @property
    def _cache_key(self) -> str:
        return f"shopify.token:{self.base_url}:{self.client_id}"

    def access_token(self, *, fresh: bool = False) -> str:
        """The static token, or a cached client-credentials token (fetched when missing or stale)."""
        if self.static_token:
            return self.static_token
        if not fresh:
            cached = self.token_cache.get(self._cache_key)
            if cached:
                return str(cached)
        response = self.http.post(
            "/admin/oauth/access_token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        raise_for_status(PEER, response)
        try:
            body = response.json()
            token = str(body["access_token"])
            expires_in = float(body.get("expires_in") or 86400)
        except (ValueError, KeyError, TypeError):
            raise PeerError(PEER, "token answer has no access_token", retryable=False) from None
        # Refresh early: a token that expires mid-poll would cost a 401 round trip.
        margin = min(TOKEN_EARLY_REFRESH_SECONDS, expires_in * 0.1)
        self.token_cache.set(self._cache_key, token, max(1.0, expires_in - margin))
        return token

    # --- transport ----------------------------------------------------------------------------
    def _post(self, query: str, variables: dict[str, Any], token: str) -> httpx.Response:
        return send(
            self.http,
            PEER,
            "POST",
            f"/admin/api/{self.api_version}/graphql.json",
            content=json.dumps({"query": query, "variables": variables}),
            headers={"X-Shopify-Access-Token": token},
        )

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> GraphQLResult:
        """Run one operation; waits out short THROTTLED answers, raises PeerError otherwise."""
        variables = variables or {}
        attempt = 0
        while True:
            try:
                return self._execute_once(query, variables)
            except PeerError as error:
                wait = error.retry_after
                if (
                    not error.retryable
                    or error.status_code not in (200, 429, 503)
                    or wait is None
                    or wait > self.max_throttle_wait
                    or attempt >= self.throttle_retries
                ):
                    raise
                attempt += 1
                self.sleep(wait)

    def _execute_once(self, query: str, variables: dict[str, Any]) -> GraphQLResult:
        token = self.access_token()
        response = self._post(query, variables, token)
        if response.status_code == 401 and not self.static_token:
            # The cached token was revoked or expired early: fetch a fresh one and try once more.
            self.token_cache.delete(self._cache_key)
            response = self._post(query, variables, self.access_token(fresh=True))
        raise_for_status(PEER, response, rate_info=shopify_rate_info)
        try:
            body = text_clean(response.json())
        except ValueError:
            raise PeerError(
                PEER, "answer is not JSON", retryable=True, status_code=response.status_code
            ) from None
        if not isinstance(body, dict):
            raise PeerError(PEER, "answer is not a JSON object", retryable=False)
        cost = _cost(body)
        if _throttled(body):
            raise PeerError(
                PEER,
                "THROTTLED: query cost exceeds the available points",
                retryable=True,
                retry_after=throttle_wait(cost),
                remaining=int(cost.throttle.currently_available)
                if cost and cost.throttle
                else None,
                status_code=response.status_code,
                body=response.text[:2000],
            )
        errors = body.get("errors")
        if errors:
            messages = "; ".join(
                str(e.get("message", e)) if isinstance(e, dict) else str(e)
                for e in (errors if isinstance(errors, list) else [errors])
            )
            raise PeerError(
                PEER,
                f"GraphQL errors: {messages}"[:1000],
                retryable=False,
                status_code=response.status_code,
                body=response.text[:2000],
            )
        data = body.get("data")
        if not isinstance(data, dict):
            raise PeerError(PEER, "answer has no data", retryable=False)
        return GraphQLResult(data=data, cost=cost)

    # --- operations ---------------------------------------------------------------------------
    def orders_updated_since(
        self,
        since: datetime,
        *,
        after: str | None = None,
        first: int = ORDERS_PAGE_SIZE,
        fields: str = ORDER_FIELDS,
    ) -> OrdersPage:
        """One page of orders updated after `since`, oldest update first; line items complete.

        `fields` selects less (e.g. ORDER_STAMP_FIELDS with first=ORDER_STAMPS_PAGE_SIZE) when
        the caller only needs to know which orders changed.
        """
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        result = self.execute(
            orders_query(fields),
            {"first": first, "after": after, "query": f"updated_at:>'{stamp}'"},
        )
        connection = _field(result.data, "orders")
        nodes = [node for node in connection.get("nodes") or [] if isinstance(node, dict)]
        for node in nodes:
            self._line_items_complete(node)
        info = connection.get("pageInfo") or {}
        return OrdersPage(
            nodes=nodes,
            has_next_page=bool(info.get("hasNextPage")),
            end_cursor=info.get("endCursor"),
            cost=result.cost,
        )

    def order(self, gid: str) -> dict[str, Any] | None:
        """One order with every field the intake reads (line items complete); None if gone."""
        result = self.execute(ORDER_QUERY, {"id": gid})
        node = result.data.get("order")
        if not isinstance(node, dict):
            return None
        self._line_items_complete(node)
        return node

    def _line_items_complete(self, node: dict[str, Any]) -> None:
        """Fetch the rest of an order's line items when it has more than the first page."""
        items = node.get("lineItems")
        if not isinstance(items, dict):
            return
        info = items.get("pageInfo") or {}
        while info.get("hasNextPage"):
            result = self.execute(
                ORDER_LINE_ITEMS_QUERY,
                {
                    "id": node["id"],
                    "first": LINE_ITEMS_MORE_PAGE_SIZE,
                    "after": info.get("endCursor"),
                },
            )
            more = _field(_field(result.data, "order"), "lineItems")
            items.setdefault("nodes", []).extend(more.get("nodes") or [])
            info = more.get("pageInfo") or {}
        items["pageInfo"] = {"hasNextPage": False, "endCursor": info.get("endCursor")}

    def webhook_subscriptions(self) -> list[WebhookSubscription]:
        subscriptions: list[WebhookSubscription] = []
        after = None
        while True:
            result = self.execute(WEBHOOK_SUBSCRIPTIONS_QUERY, {"first": 100, "after": after})
            connection = _field(result.data, "webhookSubscriptions")
            subscriptions.extend(_subscription(node) for node in connection.get("nodes") or [])
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return subscriptions
            after = info.get("endCursor")

    def webhook_subscription_create(self, topic: str, uri: str) -> WebhookSubscriptionResult:
        result = self.execute(
            WEBHOOK_SUBSCRIPTION_CREATE,
            {"topic": topic, "webhookSubscription": {"uri": uri, "format": "JSON"}},
        )
        payload = _field(result.data, "webhookSubscriptionCreate")
        created = payload.get("webhookSubscription")
        return WebhookSubscriptionResult(
            subscription=_subscription(created) if isinstance(created, dict) else None,
            user_errors=[e for e in payload.get("userErrors") or [] if isinstance(e, dict)],
        )

    # --- fulfillment ---------------------------------------------------------------------------
    def fulfillment_orders(self, order_gid: str) -> list[FulfillmentOrder]:
        """Every fulfillment order of the order (closed ones too), their lines complete."""
        orders: list[FulfillmentOrder] = []
        after = None
        while True:
            result = self.execute(
                FULFILLMENT_ORDERS_QUERY,
                {
                    "id": order_gid,
                    "first": FULFILLMENT_ORDERS_PAGE_SIZE,
                    "after": after,
                    "linesFirst": FULFILLMENT_ORDER_LINES_PAGE_SIZE,
                },
            )
            order = result.data.get("order")
            if not isinstance(order, dict):
                raise PeerError(PEER, f"order {order_gid} not found", retryable=False)
            connection = _field(order, "fulfillmentOrders")
            for node in connection.get("nodes") or []:
                if isinstance(node, dict):
                    orders.append(self._fulfillment_order(node))
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return orders
            after = info.get("endCursor")

    def _fulfillment_order(self, node: dict[str, Any]) -> FulfillmentOrder:
        items = object_at(node, "lineItems")
        nodes = [n for n in items.get("nodes") or [] if isinstance(n, dict)]
        info = items.get("pageInfo") or {}
        while info.get("hasNextPage"):
            result = self.execute(
                FULFILLMENT_ORDER_LINES_QUERY,
                {
                    "id": node["id"],
                    "first": FULFILLMENT_ORDER_LINES_PAGE_SIZE,
                    "after": info.get("endCursor"),
                },
            )
            more = _field(_field(result.data, "fulfillmentOrder"), "lineItems")
            nodes.extend(n for n in more.get("nodes") or [] if isinstance(n, dict))
            info = more.get("pageInfo") or {}
        return FulfillmentOrder(
            id=str(node.get("id") or ""),
            status=str(node.get("status") or ""),
            lines=tuple(_fulfillment_order_line(n) for n in nodes),
        )

    def fulfillment_create(
        self,
        *,
        lines: list[tuple[str, list[tuple[str, int]]]],
        tracking: TrackingInfo,
        notify_customer: bool = True,
    ) -> FulfillmentResult:
        """Fulfil [(fulfillment order id, [(its line item id, quantity), ...]), ...] with tracking.

        Not idempotent at Shopify: before retrying after a lost answer, re-read
        `fulfillment_orders` (remainingQuantity) or `order_fulfillments` (tracking number).
        """
        if not lines or any(not items for _, items in lines):
            raise ValueError("fulfillment_create needs at least one line per fulfillment order")
        for _, items in lines:
            for _, quantity in items:
                if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
                    raise ValueError(f"quantity must be a positive int, not {quantity!r}")
        fulfillment: dict[str, Any] = {
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": fo_id,
                    "fulfillmentOrderLineItems": [
                        {"id": line_id, "quantity": quantity} for line_id, quantity in items
                    ],
                }
                for fo_id, items in lines
            ],
            "notifyCustomer": notify_customer,
        }
        # Shopify validates what is sent (an empty url is refused): send only what we have.
        info = {
            key: value
            for key, value in (
                ("company", tracking.company),
                ("number", tracking.number),
                ("url", web_url(tracking.url)),
            )
            if value
        }
        if info:
            fulfillment["trackingInfo"] = info
        result = self.execute(FULFILLMENT_CREATE, {"fulfillment": fulfillment})
        payload = _field(result.data, "fulfillmentCreate")
        created = (
            payload.get("fulfillment") if isinstance(payload.get("fulfillment"), dict) else None
        )
        return FulfillmentResult(
            fulfillment_id=str(created["id"]) if created and created.get("id") else None,
            status=str(created.get("status") or "") if created else "",
            user_errors=tuple(_user_error(e) for e in payload.get("userErrors") or []),
        )

    def order_fulfillments(self, order_gid: str) -> list[OrderFulfillment]:
        """The order's fulfillments with their tracking numbers (oldest first)."""
        result = self.execute(
            ORDER_FULFILLMENTS_QUERY, {"id": order_gid, "first": ORDER_FULFILLMENTS_LIMIT}
        )
        order = result.data.get("order")
        if not isinstance(order, dict):
            raise PeerError(PEER, f"order {order_gid} not found", retryable=False)
        fulfillments = []
        for node in order.get("fulfillments") or []:
            if not isinstance(node, dict):
                continue
            numbers = tuple(
                str(info["number"])
                for info in node.get("trackingInfo") or []
                if isinstance(info, dict) and info.get("number")
            )
            fulfillments.append(
                OrderFulfillment(
                    id=str(node.get("id") or ""),
                    status=str(node.get("status") or ""),
                    tracking_numbers=numbers,
                )
            )
        return fulfillments

    # --- inventory -----------------------------------------------------------------------------
    def locations(self) -> list[ShopifyLocation]:
        locations: list[ShopifyLocation] = []
        after = None
        while True:
            result = self.execute(LOCATIONS_QUERY, {"first": 50, "after": after})
            connection = _field(result.data, "locations")
            for node in connection.get("nodes") or []:
                if isinstance(node, dict):
                    locations.append(
                        ShopifyLocation(
                            id=_gid_required(node.get("id"), "location"),
                            name=str(node.get("name") or ""),
                            active=bool(node.get("isActive", True)),
                        )
                    )
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return locations
            after = info.get("endCursor")

    def inventory_items(
        self, *, skus: Sequence[str] = (), item_ids: Sequence[int] = (), location_id: int
    ) -> list[InventoryItemStock]:
        """Inventory items by SKU and/or id, with `available` at the location (≤ 200 terms a call)."""
        terms = [f"sku:{_search_value(sku)}" for sku in skus]
        terms += [f"id:{int(item_id)}" for item_id in item_ids]
        if not terms:
            return []
        if len(terms) > INVENTORY_ITEMS_PAGE_SIZE:
            raise ValueError(f"at most {INVENTORY_ITEMS_PAGE_SIZE} SKUs and ids per call")
        items: list[InventoryItemStock] = []
        after = None
        while True:
            result = self.execute(
                INVENTORY_ITEMS_QUERY,
                {
                    "first": INVENTORY_ITEMS_PAGE_SIZE,
                    "after": after,
                    "query": " OR ".join(terms),
                    "locationId": f"gid://shopify/Location/{location_id}",
                },
            )
            connection = _field(result.data, "inventoryItems")
            for node in connection.get("nodes") or []:
                if not isinstance(node, dict):
                    continue
                variant = object_at(node, "variant")
                legacy = str(variant.get("legacyResourceId") or "")
                items.append(
                    InventoryItemStock(
                        item_id=_gid_required(node.get("id"), "inventory item"),
                        sku=str(node.get("sku") or ""),
                        variant_id=int(legacy) if legacy.isdigit() else None,
                        available=_available(node.get("inventoryLevel")),
                    )
                )
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return items
            after = info.get("endCursor")

    def inventory_levels(
        self, *, location_id: int, cursor: str | None = None
    ) -> InventoryLevelsPage:
        """One page of every item's `available` at the location (the drift report's read)."""
        result = self.execute(
            LOCATION_LEVELS_QUERY,
            {
                "id": f"gid://shopify/Location/{location_id}",
                "first": INVENTORY_LEVELS_PAGE_SIZE,
                "after": cursor,
            },
        )
        location = result.data.get("location")
        if not isinstance(location, dict):
            raise PeerError(PEER, f"location {location_id} not found", retryable=False)
        connection = _field(location, "inventoryLevels")
        levels = []
        for node in connection.get("nodes") or []:
            if not isinstance(node, dict):
                continue
            item = object_at(node, "item")
            available = _available(node)
            if available is not None:
                levels.append((_gid_required(item.get("id"), "inventory item"), available))
        info = connection.get("pageInfo") or {}
        return InventoryLevelsPage(
            levels=levels, next_cursor=info.get("endCursor") if info.get("hasNextPage") else None
        )

    def inventory_set_quantities(
        self, *, changes: list[QuantityChange], idempotency_key: str, reference: str = ""
    ) -> InventorySetResult:
        """Set `available` (absolute, compare-and-set) for ≤ 250 items in one call, @idempotent."""
        if not changes or len(changes) > SET_QUANTITIES_MAX:
            raise ValueError(f"1 to {SET_QUANTITIES_MAX} quantities per call, not {len(changes)}")
        if not idempotency_key:
            raise ValueError("inventorySetQuantities needs an idempotency key")
        input_: dict[str, Any] = {
            "name": "available",
            "reason": "correction",
            "quantities": [
                {
                    "inventoryItemId": f"gid://shopify/InventoryItem/{change.item_id}",
                    "locationId": f"gid://shopify/Location/{change.location_id}",
                    "quantity": change.quantity,
                    # Always sent: since 2026-04 an omitted changeFromQuantity is an error.
                    "changeFromQuantity": change.change_from,
                }
                for change in changes
            ],
        }
        if reference:
            input_["referenceDocumentUri"] = reference
        result = self.execute(INVENTORY_SET_QUANTITIES, {"input": input_, "key": idempotency_key})
        payload = _field(result.data, "inventorySetQuantities")
        errors = [e for e in payload.get("userErrors") or [] if isinstance(e, dict)]
        stale = []
        for error in errors:
            if error.get("code") != "CHANGE_FROM_QUANTITY_STALE":
                continue
            path = [str(part) for part in error.get("field") or []]
            index = next((int(p) for p in path if p.isdigit()), None)
            if index is not None and index < len(changes):
                stale.append(changes[index].item_id)
        others = tuple(
            f"{e.get('code') or 'ERROR'}: {e.get('message')}"
            for e in errors
            if e.get("code") != "CHANGE_FROM_QUANTITY_STALE"
        )
        return InventorySetResult(applied=not errors, stale=tuple(stale), user_errors=others)


def _available(level: Any) -> int | None:
    if not isinstance(level, dict):
        return None
    for quantity in level.get("quantities") or []:
        if isinstance(quantity, dict) and quantity.get("name") == "available":
            return int(quantity["quantity"])
    return None


def _gid_required(value: Any, what: str) -> int:
    number = gid_number(value)
    if number is None:
        raise PeerError(PEER, f"answer has no {what} id ({value!r})", retryable=False)
    return number


def _search_value(value: str) -> str:
    """A search term's value, quoted; quotes and backslashes in it escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _field(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, dict):
        raise PeerError(PEER, f"answer has no {name}", retryable=False)
    return value


def _subscription(node: dict[str, Any]) -> WebhookSubscription:
    return WebhookSubscription(
        id=str(node.get("id", "")),
        topic=str(node.get("topic", "")),
        uri=str(node.get("uri") or node.get("callbackUrl") or ""),
        format=str(node.get("format") or "JSON"),
    )
