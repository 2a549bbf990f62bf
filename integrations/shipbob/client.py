"""ShipBob REST client (API 2026-07): orders, cancellation, the shipped-order poll, inventory levels.

Plain Python: returns dataclasses, raises `PeerError` (or `ShipBobNotCancellable`), knows nothing of
Django models. Shapes follow ShipBob's order/shipment view models: an order has `shipments`, each
with `status`, `tracking {carrier, tracking_number, tracking_url}`, `products[].inventory_items[]`
(the quantities), `actual_fulfillment_date` and `delivery_date`.

Choices where ShipBob's documentation is silent or loose:
- A 422 on create whose body mentions an existing reference id ("Cannot insert order with existing
  ReferenceId") is the duplicate: the order is fetched by reference and returned with existed=True.
- GET /order answers a JSON list (1.0 … 2026-07) or an `{"items": [...]}` page; both are read.
- The shipped-order poll is `GET /order?LastUpdateStartDate=…&SortOrder=Oldest&Page=&Limit=`: every
  order touched since the watermark (shipped, delivered, exception, cancelled) in one pass; callers
  keep an overlap on the watermark and upsert, so a page shifting under them costs nothing.
- Inventory pages: the `next-page` header (or the body's `next` link) is returned as an opaque
  cursor; following it re-uses only its query string against our own base URL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from integrations.http import (
    DEFAULT_TIMEOUT_SECONDS,
    DEFAULT_USER_AGENT,
    PeerClient,
    PeerError,
    RateGate,
    RateInfo,
    build_client,
    object_at,
    parse_int,
    parse_retry_after,
    peer_words,
    request_classified,
    response_json,
    response_text,
    text_clean,
    web_url,
)

PEER = "shipbob"
API_VERSION = "2026-07"
REFERENCE_ID_MAX_CHARS = 300
ORDERS_LIMIT_MAX = 250
# ShipBob recommends asking for few ids per call; the reference lookup is chunked to this.
REFERENCE_IDS_PER_CALL = 50
INVENTORY_PAGE_SIZE = 100
# ShipBob's documented shipment statuses (status reference, 2026-07), compared exactly as written.
SHIPMENT_PROCESSING = "Processing"
SHIPMENT_ON_HOLD = "On Hold"
SHIPMENT_EXCEPTION = "Exception"  # out of stock or inactive product: will not ship as is
SHIPMENT_CANCELLED = "Cancelled"  # will not be fulfilled
SHIPMENT_COMPLETED = "Completed"  # has left the warehouse (not yet delivered)
# Only a parcel on its way may become a Shopify fulfillment or an invoice line.
SHIPPED_STATUSES = frozenset({SHIPMENT_COMPLETED})
_DUPLICATE = re.compile(r"existing\s+reference\s*id|duplicate", re.IGNORECASE)
_RETRY_IN = re.compile(r"try again in\s+(\d+(?:\.\d+)?)\s*second", re.IGNORECASE)


@dataclass(frozen=True)
class ShippedProduct:
    inventory_id: int | None
    reference_id: str
    quantity: int


@dataclass(frozen=True)
class ShipBobShipment:
    id: int
    status: str
    carrier: str
    tracking_number: str
    tracking_url: str
    shipped_at: datetime | None
    delivered_at: datetime | None
    products: tuple[ShippedProduct, ...]
    exception: str = ""

    @property
    def shipped(self) -> bool:
        return self.status in SHIPPED_STATUSES and bool(self.tracking_number)


@dataclass(frozen=True)
class ShipBobOrder:
    id: int
    reference_id: str
    status: str
    shipments: tuple[ShipBobShipment, ...]
    existed: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class OrdersPage:
    orders: list[ShipBobOrder]
    next_page: int | None


@dataclass(frozen=True)
class InventoryLevel:
    inventory_id: int
    name: str
    sku: str
    on_hand: int
    fulfillable: int
    committed: int


@dataclass(frozen=True)
class InventoryPage:
    levels: list[InventoryLevel]
    next_cursor: str | None


class ShipBobNotCancellable(PeerError):
    """ShipBob refused the cancel: the order is picked, packed or shipped. Never retryable."""

    def __init__(self, message: str, *, status_code: int | None = None, body: str = "") -> None:
        super().__init__(PEER, message, retryable=False, status_code=status_code, body=body)


# --- parsing (also used by webhooks.py) -----------------------------------------------------------
def parse_datetime(value: Any) -> datetime | None:
    """ShipBob's ISO stamps ("…09.3614767Z", "+00:00", or naive = UTC); None when absent or junk."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{what} must be an integer, got {value!r}") from None


def _str(value: Any) -> str:
    return "" if value is None else text_clean(str(value))


def shipped_products_from_payload(products: Any) -> tuple[ShippedProduct, ...]:
    """A shipment's `products[]`: one line per inventory item (bundles ship as their components)."""
    lines: list[ShippedProduct] = []
    for product in products if isinstance(products, list) else []:
        if not isinstance(product, dict):
            continue
        reference = _str(product.get("reference_id") or product.get("sku"))
        items = [i for i in product.get("inventory_items") or [] if isinstance(i, dict)]
        if not items:
            quantity = product.get("quantity")
            inventory = product.get("inventory_id")
            lines.append(
                ShippedProduct(
                    inventory_id=_int(inventory, "inventory_id") if inventory is not None else None,
                    reference_id=reference,
                    quantity=_int(quantity, "quantity") if quantity is not None else 0,
                )
            )
            continue
        for item in items:
            lines.append(
                ShippedProduct(
                    inventory_id=_int(item["id"], "inventory_items[].id")
                    if item.get("id") is not None
                    else None,
                    reference_id=reference,
                    quantity=_int(item.get("quantity") or 0, "inventory_items[].quantity"),
                )
            )
    return tuple(lines)


def _exception_text(status: str, details: Any) -> str:
    if status not in {SHIPMENT_EXCEPTION, SHIPMENT_ON_HOLD, SHIPMENT_CANCELLED}:
        return ""
    words = []
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict):
            name, description = _str(detail.get("name")), _str(detail.get("description"))
            words.append(f"{name}: {description}" if name and description else name or description)
    return "; ".join(w for w in words if w) or status


def shipment_from_payload(data: Any) -> ShipBobShipment:
    """One ShipBob shipment view model as a ShipBobShipment; ValueError when it is not one."""
    if not isinstance(data, dict) or data.get("id") is None:
        raise ValueError("a shipment needs an id")
    status = _str(data.get("status"))
    tracking = object_at(data, "tracking")
    shipped_at = parse_datetime(data.get("actual_fulfillment_date")) or parse_datetime(
        tracking.get("shipping_date")
    )
    return ShipBobShipment(
        id=_int(data["id"], "shipment id"),
        status=status,
        carrier=_str(tracking.get("carrier")),
        tracking_number=_str(tracking.get("tracking_number")),
        tracking_url=web_url(_str(tracking.get("tracking_url"))),
        shipped_at=shipped_at,
        delivered_at=parse_datetime(data.get("delivery_date")),
        products=shipped_products_from_payload(data.get("products")),
        exception=_exception_text(status, data.get("status_details")),
    )


def order_from_payload(data: Any, *, existed: bool = False) -> ShipBobOrder:
    """One ShipBob order view model as a ShipBobOrder; ValueError when it is not one."""
    if not isinstance(data, dict) or data.get("id") is None:
        raise ValueError("an order needs an id")
    reference = data.get("reference_id")
    if not isinstance(reference, str | int) or not str(reference):
        raise ValueError("an order needs a reference_id")
    shipments = data.get("shipments") or []
    if not isinstance(shipments, list):
        raise ValueError("an order's shipments must be a list")
    return ShipBobOrder(
        id=_int(data["id"], "order id"),
        reference_id=str(reference),
        status=_str(data.get("status")),
        shipments=tuple(shipment_from_payload(s) for s in shipments),
        existed=existed,
        raw=data,
    )


def _inventory_level(data: dict[str, Any]) -> InventoryLevel:
    def qty(*names: str) -> int:
        for name in names:
            if data.get(name) is not None:
                return _int(data[name], name)
        return 0

    return InventoryLevel(
        inventory_id=_int(data.get("inventory_id", data.get("id")), "inventory_id"),
        name=_str(data.get("name")),
        sku=_str(data.get("sku")),
        on_hand=qty("total_on_hand_quantity", "total_onhand_quantity", "on_hand_quantity"),
        fulfillable=qty("total_fulfillable_quantity", "fulfillable_quantity"),
        committed=qty("total_committed_quantity", "committed_quantity"),
    )


# --- rate headers ----------------------------------------------------------------------------------
def shipbob_rate_info(response: httpx.Response) -> RateInfo:
    """x-retry-after / Retry-After (seconds) and x-remaining-calls / X-RateLimit-Remaining."""
    headers = response.headers
    retry_after = parse_retry_after(headers.get("x-retry-after"))
    if retry_after is None:
        retry_after = parse_retry_after(headers.get("retry-after"))
    if retry_after is None and response.status_code == 429:
        # ShipBob also says it in words: "Rate limit is exceeded. Try again in 25 seconds."
        match = _RETRY_IN.search(response_text(response, limit=None))
        retry_after = float(match.group(1)) if match else None
    remaining = parse_int(headers.get("x-remaining-calls"))
    if remaining is None:
        remaining = parse_int(headers.get("x-ratelimit-remaining"))
    return RateInfo(remaining=remaining, retry_after=retry_after)


def shipbob_error_words(response: httpx.Response) -> str:
    """ShipBob's own words from an error body (ProblemDetails `errors`, `message`, `title`, text)."""
    return peer_words(response, _problem_words)


def _problem_words(body: Any) -> list[str]:
    words: list[str] = []

    def collect(value: Any, key: str = "") -> None:
        if isinstance(value, str):
            if value.strip():
                words.append(
                    f"{key}: {value}" if key and key not in {"message", "title"} else value
                )
        elif isinstance(value, list):
            for item in value:
                collect(item, key)
        elif isinstance(value, dict):
            for name, item in value.items():
                if name in {"type", "traceId", "status", "statusCode", "instance"}:
                    continue
                collect(item, name if name not in {"errors", ""} else key)

    collect(body.get("errors") if isinstance(body, dict) and body.get("errors") else body)
    return words


# --- request body ----------------------------------------------------------------------------------
def _required(value: Any, what: str, *, max_chars: int | None = None) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise ValueError(f"{what} is required")
    if max_chars is not None and len(text) > max_chars:
        raise ValueError(f"{what} is {len(text)} characters; ShipBob allows at most {max_chars}")
    return text


def _optional(value: Any, what: str, *, max_chars: int | None = None) -> str | None:
    text = "" if value is None else str(value).strip()
    if max_chars is not None and len(text) > max_chars:
        raise ValueError(f"{what} is {len(text)} characters; ShipBob allows at most {max_chars}")
    return text or None


def order_create_body(
    *,
    reference_id: str,
    products: Sequence[tuple[int | None, str, int]],
    recipient: Mapping[str, Any],
    shipping_method: str,
) -> dict[str, Any]:
    """The exact POST /order body (type DTC). ValueError says which field is wrong and why.

    products: (inventory_id or None, warehouse reference id / SKU, quantity). The reference id is
    always sent when known (ShipBob's recommended identification); inventory_id travels beside it.
    recipient: {name, address: {address1, address2, city, state, country, zip_code}, email,
    phone_number}; the address keys may also sit at the top level.
    """
    if not isinstance(reference_id, str):
        raise ValueError("reference_id must be a string (the Shopify order id as text)")
    if not 1 <= len(reference_id) <= REFERENCE_ID_MAX_CHARS:
        raise ValueError(
            f"reference_id must be 1–{REFERENCE_ID_MAX_CHARS} characters, got {len(reference_id)}"
        )
    if not products:
        raise ValueError("an order needs at least one product")
    lines = []
    for index, line in enumerate(products):
        try:
            inventory_id, product_reference, quantity = line
        except (TypeError, ValueError):
            raise ValueError(
                f"products[{index}] must be (inventory_id, reference_id, quantity)"
            ) from None
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ValueError(f"products[{index}] quantity must be a whole number ≥ 1")
        if inventory_id is not None and (
            isinstance(inventory_id, bool) or not isinstance(inventory_id, int) or inventory_id < 1
        ):
            raise ValueError(f"products[{index}] inventory_id must be a positive integer or None")
        product_reference = (product_reference or "").strip()
        if inventory_id is None and not product_reference:
            raise ValueError(f"products[{index}] needs an inventory_id or a reference_id")
        product: dict[str, Any] = {}
        if product_reference:
            product["reference_id"] = product_reference
        if inventory_id is not None:
            product["inventory_id"] = inventory_id
        product["quantity"] = quantity
        lines.append(product)
    if not isinstance(recipient, Mapping):
        raise ValueError("recipient must be a mapping")
    address = recipient.get("address")
    address = address if isinstance(address, Mapping) else recipient
    body_recipient = {
        "name": _required(recipient.get("name"), "recipient name", max_chars=200),
        "address": {
            "address1": _required(address.get("address1"), "recipient address1", max_chars=200),
            "address2": _optional(address.get("address2"), "recipient address2", max_chars=200),
            "city": _required(address.get("city"), "recipient city", max_chars=100),
            "state": _optional(address.get("state"), "recipient state", max_chars=100),
            "country": _required(address.get("country"), "recipient country", max_chars=2),
            "zip_code": _optional(address.get("zip_code"), "recipient zip_code", max_chars=20),
        },
        "email": _optional(recipient.get("email"), "recipient email", max_chars=254),
        "phone_number": _optional(
            recipient.get("phone_number"), "recipient phone_number", max_chars=50
        ),
    }
    return {
        "reference_id": reference_id,
        "type": "DTC",
        "shipping_method": _required(shipping_method, "shipping_method", max_chars=100),
        "recipient": body_recipient,
        "products": lines,
    }


# --- the client ------------------------------------------------------------------------------------
class ShipBobClient(PeerClient):
    """One ShipBob account (a personal access token and a channel). Raises PeerError."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        channel_id: str | int,
        api_version: str = API_VERSION,
        rate_gate: RateGate | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        if not base_url:
            raise ValueError("ShipBob BASE_URL is not configured")
        if not token:
            raise ValueError("ShipBob TOKEN is not configured")
        if not str(channel_id).strip():
            raise ValueError("ShipBob CHANNEL_ID is not configured")
        self.base_url = base_url.rstrip("/")
        self.channel_id = str(channel_id).strip()
        self.api_version = api_version
        self.http = build_client(
            peer=PEER,
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=timeout,
            user_agent=user_agent,
            rate_gate=rate_gate,
            rate_info=shipbob_rate_info,
            transport=transport,
        )

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        **kwargs: Any,
    ) -> ShipBobClient:
        """Build from a SHIPBOB settings block (BASE_URL, TOKEN, CHANNEL_ID, optional API_VERSION).

        `kwargs` go to the constructor (rate_gate, transport, timeout, user_agent).
        """
        return cls(
            base_url=config.get("BASE_URL", ""),
            token=config.get("TOKEN", ""),
            channel_id=config.get("CHANNEL_ID", ""),
            api_version=config.get("API_VERSION") or API_VERSION,
            **kwargs,
        )

    # --- transport ----------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        write: bool = False,
        passthrough: tuple[int, ...] = (),
    ) -> httpx.Response:
        """A 2xx answer, or one whose status is in `passthrough`; PeerError for anything else."""
        # Only writes carry the channel: ShipBob reads then span every channel of the merchant.
        headers = {"shipbob_channel_id": self.channel_id} if write else None
        return request_classified(
            self.http,
            PEER,
            method,
            f"/{self.api_version}/{path.lstrip('/')}",
            rate_info=shipbob_rate_info,
            passthrough=passthrough,
            params=params,
            content=json.dumps(body) if body is not None else None,
            headers=headers,
        )

    @staticmethod
    def _order(data: Any, *, existed: bool = False) -> ShipBobOrder:
        try:
            return order_from_payload(data, existed=existed)
        except ValueError as error:
            raise PeerError(PEER, f"unreadable order in answer: {error}", retryable=False) from None

    def _orders(self, response: httpx.Response) -> list[ShipBobOrder]:
        body = response_json(PEER, response)
        items = body.get("items") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise PeerError(PEER, "order list answer is not a list", retryable=False)
        return [self._order(item) for item in items]

    # --- operations ---------------------------------------------------------------------------
    def order_create(self, body: dict[str, Any]) -> ShipBobOrder:
        """Create the order; a duplicate reference_id (422) returns the existing one, existed=True."""
        reference = body.get("reference_id") if isinstance(body, dict) else None
        if not isinstance(reference, str) or not reference:
            raise ValueError("body needs a reference_id: build it with order_create_body()")
        response = self._call("POST", "order", body=body, write=True, passthrough=(400, 422))
        if response.status_code == 422 and _DUPLICATE.search(shipbob_error_words(response)):
            found = self.orders_by_reference([reference])
            if not found:
                # ShipBob says it exists but cannot show it yet: ask again later.
                raise PeerError(
                    PEER,
                    f"duplicate reference_id {reference} but no order found by reference yet",
                    retryable=True,
                    status_code=422,
                )
            return replace(found[0], existed=True)
        if response.status_code in (400, 422):
            status = response.status_code
            raise PeerError(
                PEER,
                f"order {reference} rejected (HTTP {status}): {shipbob_error_words(response)}",
                retryable=False,
                status_code=status,
                body=response_text(response),
            )
        return self._order(response_json(PEER, response))

    def orders_by_reference(self, reference_ids: Sequence[str]) -> list[ShipBobOrder]:
        """Orders whose reference_id is one of these (GET /order?ReferenceIds=a,b)."""
        wanted = [str(r) for r in reference_ids if str(r)]
        for reference in wanted:
            if "," in reference:
                raise ValueError(
                    f"reference id {reference!r} contains a comma (the list separator)"
                )
        orders: list[ShipBobOrder] = []
        for start in range(0, len(wanted), REFERENCE_IDS_PER_CALL):
            chunk = wanted[start : start + REFERENCE_IDS_PER_CALL]
            response = self._call(
                "GET", "order", params={"ReferenceIds": ",".join(chunk), "Limit": ORDERS_LIMIT_MAX}
            )
            orders.extend(o for o in self._orders(response) if o.reference_id in set(chunk))
        return orders

    def order_cancel(self, order_id: int) -> ShipBobOrder:
        """Cancel the order and all its shipments; ShipBobNotCancellable once picking has started."""
        response = self._call(
            "POST", f"order/{int(order_id)}:cancel", write=True, passthrough=(400, 409, 422)
        )
        if response.status_code in (400, 409, 422):
            raise ShipBobNotCancellable(
                f"order {order_id} cannot be cancelled at the warehouse: "
                f"{shipbob_error_words(response)}",
                status_code=response.status_code,
                body=response_text(response),
            )
        body = response_json(PEER, response)
        if not isinstance(body, dict):
            raise PeerError(PEER, "cancel answer is not an object", retryable=False)
        refused = [
            r
            for r in body.get("canceled_shipment_results") or []
            if isinstance(r, dict) and r.get("is_success") is False
        ]
        if refused:
            reasons = "; ".join(
                f"shipment {r.get('shipment_id')}: {r.get('reason') or 'refused'}" for r in refused
            )
            raise ShipBobNotCancellable(
                f"order {order_id} cannot be cancelled at the warehouse: {reasons}",
                status_code=response.status_code,
                body=response_text(response),
            )
        order = body.get("order") if isinstance(body.get("order"), dict) else None
        if order is None:
            order = {"id": body.get("order_id", order_id), "reference_id": "?", "status": ""}
        order = {"status": body.get("status") or "", **order}
        return self._order(order)

    def orders_updated_since(
        self, since: datetime, *, page: int = 1, limit: int = 100
    ) -> OrdersPage:
        """One page of orders updated after `since`, oldest first (the shipped-order poll)."""
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        if not 1 <= limit <= ORDERS_LIMIT_MAX:
            raise ValueError(f"limit must be 1–{ORDERS_LIMIT_MAX}")
        if page < 1:
            raise ValueError("page starts at 1")
        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        response = self._call(
            "GET",
            "order",
            params={
                "LastUpdateStartDate": stamp,
                "SortOrder": "Oldest",
                "Page": page,
                "Limit": limit,
            },
        )
        orders = self._orders(response)
        total_pages = parse_int(response.headers.get("total-pages"))
        if "next-page" in response.headers:
            more = bool(response.headers["next-page"].strip())
        elif total_pages is not None:
            more = page < total_pages
        else:
            more = len(orders) >= limit
        return OrdersPage(orders=orders, next_page=page + 1 if more and orders else None)

    def inventory_levels(
        self, *, cursor: str | None = None, page_size: int = INVENTORY_PAGE_SIZE
    ) -> InventoryPage:
        """One page of inventory levels (component level: bundles have none of their own)."""
        if cursor:
            # Follow only the link's query: a link naming another host is never fetched.
            params: dict[str, Any] = dict(parse_qsl(urlsplit(cursor).query, keep_blank_values=True))
            if not params:
                raise ValueError("inventory cursor has no query string")
        else:
            params = {"PageSize": page_size}
        response = self._call("GET", "inventory-level", params=params)
        body = response_json(PEER, response)
        items = body.get("items") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise PeerError(PEER, "inventory answer has no items list", retryable=False)
        try:
            levels = [_inventory_level(item) for item in items if isinstance(item, dict)]
        except (ValueError, KeyError) as error:
            raise PeerError(PEER, f"unreadable inventory level: {error}", retryable=False) from None
        next_link = response.headers.get("next-page") or (
            body.get("next") if isinstance(body, dict) else None
        )
        return InventoryPage(levels=levels, next_cursor=str(next_link) if next_link else None)
