"""Shopify's GraphQL Order node (as the reconciliation poll selects it) → the same OrderData as a webhook.

Pure functions: no database. The fields read here are those `integrations.shopify.client.ORDER_FIELDS`
selects; anything unusable raises PayloadError, exactly like the REST path.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from apps.orders.shopify_payload import (
    LineData,
    OrderData,
    PayloadError,
    RefundData,
    RefundLineData,
    ShippingLineData,
    TaxLineData,
    _id,
    _money,
    _rate,
    _text,
    _when,
    state_rank,
)

# GraphQL's displayFulfillmentStatus → REST's fulfillment_status (REST says null for unfulfilled).
_FULFILLMENT = {
    "UNFULFILLED": "",
    "OPEN": "",
    "PARTIALLY_FULFILLED": "partial",
    "FULFILLED": "fulfilled",
    "RESTOCKED": "restocked",
}
_GID = re.compile(r"^gid://shopify/(\w+)/(\d+)(?:\?.*)?$")
_ORDER_NAME_NUMBER = re.compile(r"^#?(\d+)$")
# MailingAddress (camelCase) → the REST address keys the webhook path stores.
_ADDRESS_KEYS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "name": "name",
    "company": "company",
    "address1": "address1",
    "address2": "address2",
    "city": "city",
    "province": "province",
    "provinceCode": "province_code",
    "zip": "zip",
    "country": "country",
    "countryCodeV2": "country_code",
    "phone": "phone",
    "latitude": "latitude",
    "longitude": "longitude",
}


def gid_id(value: Any, what: str, *, required: bool = True) -> int | None:
    """The numeric id inside a `gid://shopify/<Type>/<id>` global id (kept exact, never a float)."""
    if value is None and not required:
        return None
    match = _GID.match(str(value or ""))
    if not match:
        raise PayloadError(f"{what} is not a Shopify global id: {value!r}")
    return _id(match.group(2), what)


def _legacy(obj: Any, what: str) -> int | None:
    if not isinstance(obj, dict):
        return None
    return _id(obj.get("legacyResourceId"), what, required=False)


def _shop_money(money_bag: Any, what: str, *, default: str | None = None) -> Decimal:
    amount = None
    if isinstance(money_bag, dict) and isinstance(money_bag.get("shopMoney"), dict):
        amount = money_bag["shopMoney"].get("amount")
    return _money(amount, what, default=default)


def _nodes(connection: Any, what: str) -> list[dict]:
    if connection is None:
        return []
    if isinstance(connection, list):
        nodes = connection
    elif isinstance(connection, dict):
        if (connection.get("pageInfo") or {}).get("hasNextPage"):
            # A partial list would silently drop lines: the caller must page them in first.
            raise PayloadError(f"{what} is incomplete (more pages)")
        nodes = connection.get("nodes")
        if nodes is None:
            nodes = [edge.get("node") for edge in connection.get("edges") or []]
    else:
        raise PayloadError(f"{what} is not a list")
    if not all(isinstance(node, dict) for node in nodes or []):
        raise PayloadError(f"{what} has an entry that is not an object")
    return list(nodes or [])


def _tax_lines(items: Any) -> tuple[TaxLineData, ...]:
    return tuple(
        TaxLineData(
            title=_text(item.get("title")) or "Tax",
            rate=_rate(item.get("rate")),
            amount=_shop_money(item.get("priceSet"), "tax line price"),
        )
        for item in _nodes(items, "taxLines")
    )


def _line(item: dict) -> LineData:
    line_id = gid_id(item.get("id"), "lineItems[].id")
    quantity = item.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise PayloadError(f"line {line_id}: quantity must be a whole number, got {quantity!r}")
    sku = item.get("sku")
    return LineData(
        shopify_id=line_id,
        sku=sku.strip() if isinstance(sku, str) and sku.strip() else None,
        variant_id=_legacy(item.get("variant"), "variant id"),
        product_id=_legacy(item.get("product"), "product id"),
        title=_text(item.get("title") or item.get("name"))[:500] or "(untitled)",
        variant_title=_text(item.get("variantTitle"))[:500],
        quantity=quantity,
        fulfillable_quantity=max(int(item.get("unfulfilledQuantity") or 0), 0),
        price=_shop_money(item.get("originalUnitPriceSet"), f"line {line_id} price"),
        total_discount=_shop_money(
            item.get("totalDiscountSet"), f"line {line_id} discount", default="0"
        ),
        requires_shipping=bool(item.get("requiresShipping", True)),
        gift_card=bool(item.get("isGiftCard", False)),
        taxable=bool(item.get("taxable", True)),
        tax_lines=_tax_lines(item.get("taxLines")),
        discount_allocations=tuple(
            (
                _shop_money(
                    allocation.get("allocatedAmountSet"), f"line {line_id} discount allocation"
                ),
                int((allocation.get("discountApplication") or {}).get("index") or 0),
            )
            for allocation in _nodes(item.get("discountAllocations"), "discountAllocations")
        ),
    )


def _shipping_line(item: dict) -> ShippingLineData:
    price = _shop_money(item.get("originalPriceSet"), "shipping line price")
    return ShippingLineData(
        shopify_id=gid_id(item.get("id"), "shippingLines[].id", required=False),
        code=_text(item.get("code"))[:255],
        title=_text(item.get("title"))[:255],
        price=price,
        discounted_price=_shop_money(
            item.get("discountedPriceSet"), "shipping discounted price", default=str(price)
        ),
        tax_lines=_tax_lines(item.get("taxLines")),
    )


def _refund(item: dict, order_id: int) -> RefundData:
    refund_id = gid_id(item.get("id"), "refund id")
    created_at = _when(item.get("createdAt"), "refund createdAt")
    return RefundData(
        shopify_id=refund_id,
        order_shopify_id=order_id,
        note=_text(item.get("note")),
        created_at=created_at,
        # GraphQL's Refund has no processedAt; REST's equals created_at for refunds made at once.
        processed_at=created_at,
        amount=_shop_money(item.get("totalRefundedSet"), "refund amount", default="0"),
        lines=tuple(
            RefundLineData(
                line_shopify_id=gid_id(
                    (line.get("lineItem") or {}).get("id"), "refundLineItems[].lineItem.id"
                ),
                quantity=int(line.get("quantity") or 0),
                subtotal=_shop_money(line.get("subtotalSet"), "refund line subtotal", default="0"),
                total_tax=_shop_money(line.get("totalTaxSet"), "refund line tax", default="0"),
                restock_type=_text(line.get("restockType")).lower()[:32],
            )
            for line in _nodes(item.get("refundLineItems"), "refundLineItems")
        ),
    )


def _financial_status(node: dict) -> str:
    return _text(node.get("displayFinancialStatus")).lower()[:32]


def _fulfillment_status(node: dict) -> str:
    display = _text(node.get("displayFulfillmentStatus"))
    return _FULFILLMENT.get(display, display.lower())[:32]


@dataclass(frozen=True)
class OrderStamp:
    """What the poll's scan reads of an order (ORDER_STAMP_FIELDS): enough to rank its state."""

    shopify_id: int
    gid: str
    updated_at: datetime
    rank: tuple


def order_stamp_from_graphql(node: Any) -> OrderStamp:
    if not isinstance(node, dict):
        raise PayloadError("the order node is not a JSON object")
    order_id = _id(node.get("legacyResourceId"), "order legacyResourceId")
    updated_at = _when(node.get("updatedAt"), "updatedAt")
    return OrderStamp(
        shopify_id=order_id,
        gid=_text(node.get("id")) or f"gid://shopify/Order/{order_id}",
        updated_at=updated_at,
        rank=state_rank(
            updated_at=updated_at,
            cancelled_at=_when(node.get("cancelledAt"), "cancelledAt", required=False),
            financial_status=_financial_status(node),
            fulfillment_status=_fulfillment_status(node),
        ),
    )


def order_from_graphql(node: Any) -> OrderData:
    """Validate a GraphQL Order node into OrderData (equal to what the REST webhook yields)."""
    if not isinstance(node, dict):
        raise PayloadError("the order node is not a JSON object")
    order_id = _id(node.get("legacyResourceId"), "order legacyResourceId")
    if node.get("id") and gid_id(node.get("id"), "order id") != order_id:
        raise PayloadError("order id and legacyResourceId disagree")
    currency = _text(node.get("currencyCode")).upper()
    if len(currency) != 3 or not currency.isalpha():
        raise PayloadError(f"currencyCode is not an ISO code: {node.get('currencyCode')!r}")
    if not isinstance(node.get("lineItems"), dict | list):
        raise PayloadError("lineItems is missing")
    customer = node.get("customer") if isinstance(node.get("customer"), dict) else {}
    address_node = node.get("shippingAddress")
    address = (
        {rest: address_node.get(gql) for gql, rest in _ADDRESS_KEYS.items()}
        if isinstance(address_node, dict)
        else None
    )
    shipping_lines = tuple(
        _shipping_line(item) for item in _nodes(node.get("shippingLines"), "shippingLines")
    )
    name = _text(node.get("name"))[:64]
    number = _ORDER_NAME_NUMBER.match(name)
    tags = node.get("tags")
    current_total = (node.get("currentTotalPriceSet") or {}).get("shopMoney") or {}
    return OrderData(
        shopify_id=order_id,
        admin_graphql_api_id=_text(node.get("id")) or f"gid://shopify/Order/{order_id}",
        name=name or f"#{order_id}",
        order_number=int(number.group(1)) if number else None,
        email=_text(node.get("email") or customer.get("email"))[:254],
        phone=_text(node.get("phone") or customer.get("phone"))[:64],
        customer_id=_legacy(customer, "customer id"),
        customer_first_name=_text(customer.get("firstName") or (address or {}).get("first_name"))[
            :255
        ],
        customer_last_name=_text(customer.get("lastName") or (address or {}).get("last_name"))[
            :255
        ],
        shipping_address=address,
        currency=currency,
        subtotal_price=_shop_money(node.get("subtotalPriceSet"), "subtotalPriceSet", default="0"),
        total_discounts=_shop_money(
            node.get("totalDiscountsSet"), "totalDiscountsSet", default="0"
        ),
        total_tax=_shop_money(node.get("totalTaxSet"), "totalTaxSet", default="0"),
        total_shipping=sum((line.price for line in shipping_lines), Decimal("0.00")),
        total_price=_shop_money(node.get("totalPriceSet"), "totalPriceSet"),
        current_total_price=(
            _money(current_total["amount"], "currentTotalPriceSet")
            if current_total.get("amount") not in (None, "")
            else None
        ),
        taxes_included=bool(node.get("taxesIncluded")),
        financial_status=_financial_status(node),
        fulfillment_status=_fulfillment_status(node),
        cancelled_at=_when(node.get("cancelledAt"), "cancelledAt", required=False),
        cancel_reason=_text(node.get("cancelReason")).lower()[:64],
        tags=(", ".join(str(t) for t in tags) if isinstance(tags, list) else _text(tags))[:1000],
        test=bool(node.get("test")),
        created_at=_when(node.get("createdAt"), "createdAt"),
        updated_at=_when(node.get("updatedAt") or node.get("createdAt"), "updatedAt"),
        lines=tuple(_line(item) for item in _nodes(node.get("lineItems"), "lineItems")),
        shipping_lines=shipping_lines,
        refunds=tuple(_refund(item, order_id) for item in _nodes(node.get("refunds"), "refunds")),
    )
