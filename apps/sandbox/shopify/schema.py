"""The stand-in's GraphQL surface: the store's REST orders rendered as Admin GraphQL nodes.

Root fields: `orders` (search on updated_at / created_at, sortKey, cursor pagination), `order`
(with its `fulfillmentOrders` and `fulfillments`), `fulfillmentOrder`, `webhookSubscriptions`, and
the `webhookSubscriptionCreate` and `fulfillmentCreate` mutations — what our client uses; the
inventory fields and `inventorySetQuantities` live in inventory.py.
"""

import base64
import binascii
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q

from apps.sandbox.shopify.fulfillment import (
    FULFILLABLE,
    FulfillmentRequest,
    fulfillment_apply,
    fulfillment_orders_of,
)
from apps.sandbox.shopify.gql import GraphQLError
from apps.sandbox.shopify.inventory import (
    inventory_items_resolve,
    inventory_set_quantities,
    location_resolve,
    locations_resolve,
)
from apps.sandbox.shopify.models import (
    StoreFulfillment,
    StoreFulfillmentOrder,
    StoreOrder,
    StoreWebhookSubscription,
)

MAX_PAGE = 250
WEBHOOK_TOPICS = frozenset(
    {
        "ORDERS_CREATE",
        "ORDERS_UPDATED",
        "ORDERS_CANCELLED",
        "ORDERS_PAID",
        "ORDERS_FULFILLED",
        "REFUNDS_CREATE",
        "APP_UNINSTALLED",
        "INVENTORY_LEVELS_UPDATE",
        "FULFILLMENT_ORDERS_ORDER_ROUTING_COMPLETE",
    }
)
_FULFILLMENT = {None: "UNFULFILLED", "": "UNFULFILLED", "partial": "PARTIALLY_FULFILLED"}
_SEARCH_TERM = re.compile(r"(\w+):(>=|<=|>|<)?\s*'?([^'\s]+)'?")


def gid(kind: str, value: Any) -> str | None:
    return None if value is None else f"gid://shopify/{kind}/{value}"


def gid_parse(value: Any, kind: str) -> int | None:
    match = re.fullmatch(rf"gid://shopify/{kind}/(\d+)", str(value or ""))
    return int(match.group(1)) if match else None


def _amount(value: Any) -> str:
    if value is None or value == "":
        return "0.0"
    if isinstance(value, float):
        value = repr(value)
    return str(Decimal(str(value)))


def money_bag(value: Any, currency: str) -> dict:
    money = {"amount": _amount(value), "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


def _utc(value: Any) -> str | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cursor(payload: dict) -> str:
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def _cursor_read(value: str | None) -> dict | None:
    if not value:
        return None
    try:
        data = json.loads(base64.b64decode(value.encode(), validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {value!r}") from None
    if not isinstance(data, dict):
        raise GraphQLError("Invalid cursor")
    return data


def _first(args: dict) -> int:
    first = args.get("first")
    if args.get("last") is not None:
        raise GraphQLError("The sandbox pages forwards only: use first/after")
    if not isinstance(first, int) or first < 1:
        raise GraphQLError("you must provide one of first or last")
    if first > MAX_PAGE:
        raise GraphQLError(f"The maximum page size is {MAX_PAGE}", code="MAX_PAGE_SIZE_EXCEEDED")
    return first


def list_connection(items: list[dict], args: dict) -> dict:
    """A connection over an in-memory list (an order's line items): index cursors."""
    first = _first(args)
    after = _cursor_read(args.get("after"))
    start = int(after.get("i", -1)) + 1 if after else 0
    page = items[start : start + first]
    edges = [{"cursor": _cursor({"i": start + n}), "node": node} for n, node in enumerate(page)]
    return {
        "nodes": page,
        "edges": edges,
        "pageInfo": {
            "hasNextPage": start + first < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _tax_lines(items: Any, currency: str) -> list[dict]:
    return [
        {
            "__typename": "TaxLine",
            "title": item.get("title"),
            "rate": item.get("rate"),
            "ratePercentage": (
                float(Decimal(str(item.get("rate") or 0)) * 100)
                if item.get("rate") is not None
                else None
            ),
            "priceSet": money_bag(item.get("price"), currency),
            "channelLiable": item.get("channel_liable"),
        }
        for item in items or []
    ]


def _line_node(item: dict, currency: str) -> dict:
    def ref(kind: str, value: Any) -> dict | None:
        if value is None:
            return None
        return {"__typename": kind, "id": gid(kind, value), "legacyResourceId": str(value)}

    return {
        "__typename": "LineItem",
        "id": gid("LineItem", item.get("id")),
        "sku": item.get("sku"),
        "name": item.get("name"),
        "title": item.get("title"),
        "variantTitle": item.get("variant_title"),
        "vendor": item.get("vendor"),
        "quantity": item.get("quantity"),
        "currentQuantity": item.get("current_quantity", item.get("quantity")),
        "unfulfilledQuantity": item.get("fulfillable_quantity") or 0,
        "requiresShipping": item.get("requires_shipping", True),
        "isGiftCard": item.get("gift_card", False),
        "taxable": item.get("taxable", True),
        "variant": ref("ProductVariant", item.get("variant_id")),
        "product": ref("Product", item.get("product_id")),
        "originalUnitPriceSet": money_bag(item.get("price"), currency),
        "totalDiscountSet": money_bag(item.get("total_discount") or "0.00", currency),
        "discountAllocations": [
            {
                "__typename": "DiscountAllocation",
                "allocatedAmountSet": money_bag(allocation.get("amount"), currency),
                "discountApplication": {
                    "__typename": "DiscountApplication",
                    "index": allocation.get("discount_application_index", 0),
                },
            }
            for allocation in item.get("discount_allocations") or []
        ],
        "taxLines": _tax_lines(item.get("tax_lines"), currency),
    }


def _refund_node(refund: dict, currency: str) -> dict:
    transactions = [
        t
        for t in refund.get("transactions") or []
        if t.get("kind") == "refund" and t.get("status") == "success"
    ]
    total = sum((Decimal(_amount(t.get("amount"))) for t in transactions), Decimal("0.00"))
    lines = [
        {
            "__typename": "RefundLineItem",
            "lineItem": {"__typename": "LineItem", "id": gid("LineItem", item.get("line_item_id"))},
            "quantity": item.get("quantity"),
            "restockType": str(item.get("restock_type") or "no_restock").upper(),
            "subtotalSet": money_bag(item.get("subtotal"), currency),
            "totalTaxSet": money_bag(item.get("total_tax"), currency),
        }
        for item in refund.get("refund_line_items") or []
    ]
    return {
        "__typename": "Refund",
        "id": gid("Refund", refund.get("id")),
        "legacyResourceId": str(refund.get("id")),
        "note": refund.get("note"),
        "createdAt": _utc(refund.get("created_at")),
        "updatedAt": _utc(refund.get("processed_at") or refund.get("created_at")),
        "totalRefundedSet": money_bag(str(total), currency),
        "refundLineItems": lambda args: list_connection(lines, args),
    }


def order_node(payload: dict) -> dict:
    """The REST Order resource as the Admin GraphQL `Order` object (connections take arguments)."""
    currency = payload.get("currency") or "USD"
    lines = [_line_node(item, currency) for item in payload.get("line_items") or []]
    shipping = [
        {
            "__typename": "ShippingLine",
            "id": gid("ShippingLine", item.get("id")),
            "code": item.get("code"),
            "title": item.get("title"),
            "originalPriceSet": money_bag(item.get("price"), currency),
            "discountedPriceSet": money_bag(
                item.get("discounted_price", item.get("price")), currency
            ),
            "taxLines": _tax_lines(item.get("tax_lines"), currency),
        }
        for item in payload.get("shipping_lines") or []
    ]
    refunds = [_refund_node(refund, currency) for refund in payload.get("refunds") or []]
    customer = payload.get("customer")
    address = payload.get("shipping_address")
    shipping_total = sum(
        (Decimal(_amount(item.get("price"))) for item in payload.get("shipping_lines") or []),
        Decimal("0.00"),
    )
    tags = payload.get("tags") or ""
    return {
        "__typename": "Order",
        "id": gid("Order", payload["id"]),
        "legacyResourceId": str(payload["id"]),
        "name": payload.get("name"),
        "email": payload.get("email") or payload.get("contact_email"),
        "phone": payload.get("phone"),
        "createdAt": _utc(payload.get("created_at")),
        "updatedAt": _utc(payload.get("updated_at") or payload.get("created_at")),
        "processedAt": _utc(payload.get("processed_at")),
        "cancelledAt": _utc(payload.get("cancelled_at")),
        "cancelReason": str(payload["cancel_reason"]).upper()
        if payload.get("cancel_reason")
        else None,
        "closed": bool(payload.get("closed_at")),
        "currencyCode": currency,
        "taxesIncluded": bool(payload.get("taxes_included")),
        "test": bool(payload.get("test")),
        "tags": [tag.strip() for tag in tags.split(",") if tag.strip()],
        "note": payload.get("note"),
        "displayFinancialStatus": str(payload.get("financial_status") or "pending").upper(),
        "displayFulfillmentStatus": _FULFILLMENT.get(
            payload.get("fulfillment_status"), str(payload.get("fulfillment_status")).upper()
        ),
        "subtotalPriceSet": money_bag(payload.get("subtotal_price"), currency),
        "totalDiscountsSet": money_bag(payload.get("total_discounts"), currency),
        "totalTaxSet": money_bag(payload.get("total_tax"), currency),
        "totalShippingPriceSet": money_bag(str(shipping_total), currency),
        "totalPriceSet": money_bag(payload.get("total_price"), currency),
        "currentTotalPriceSet": money_bag(
            payload.get("current_total_price") or payload.get("total_price"), currency
        ),
        "customer": (
            {
                "__typename": "Customer",
                "id": gid("Customer", customer.get("id")),
                "legacyResourceId": str(customer.get("id")),
                "firstName": customer.get("first_name"),
                "lastName": customer.get("last_name"),
                "email": customer.get("email"),
                "phone": customer.get("phone"),
            }
            if isinstance(customer, dict) and customer.get("id") is not None
            else None
        ),
        "shippingAddress": (
            {
                "__typename": "MailingAddress",
                "firstName": address.get("first_name"),
                "lastName": address.get("last_name"),
                "name": address.get("name"),
                "company": address.get("company"),
                "address1": address.get("address1"),
                "address2": address.get("address2"),
                "city": address.get("city"),
                "province": address.get("province"),
                "provinceCode": address.get("province_code"),
                "zip": address.get("zip"),
                "country": address.get("country"),
                "countryCodeV2": address.get("country_code"),
                "phone": address.get("phone"),
                "latitude": address.get("latitude"),
                "longitude": address.get("longitude"),
            }
            if isinstance(address, dict)
            else None
        ),
        "lineItems": lambda args: list_connection(lines, args),
        "shippingLines": lambda args: list_connection(shipping, args),
        "refunds": lambda args: refunds[: args["first"]] if args.get("first") else refunds,
        "fulfillmentOrders": lambda args: list_connection(
            [
                fulfillment_order_node(fo, payload)
                for fo in fulfillment_orders_of(shopify_id=payload["id"])
            ],
            args,
        ),
        "fulfillments": lambda args: _fulfillments(payload, args),
    }


# --- fulfillment orders and fulfillments ---------------------------------------------------------
def _stamp_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _line_nodes_by_id(payload: dict) -> dict[int, dict]:
    currency = payload.get("currency") or "USD"
    return {
        int(item["id"]): _line_node(item, currency)
        for item in payload.get("line_items") or []
        if item.get("id") is not None
    }


def fulfillment_order_node(row: StoreFulfillmentOrder, payload: dict) -> dict:
    line_nodes = _line_nodes_by_id(payload)
    lines = [
        {
            "__typename": "FulfillmentOrderLineItem",
            "id": line.gid,
            "sku": line.sku,
            "totalQuantity": line.total_quantity,
            "remainingQuantity": line.remaining_quantity,
            "requiresShipping": True,
            "lineItem": line_nodes.get(line.line_item_id)
            or {
                "__typename": "LineItem",
                "id": gid("LineItem", line.line_item_id),
                "sku": line.sku,
            },
        }
        for line in row.lines.all()
    ]
    return {
        "__typename": "FulfillmentOrder",
        "id": row.gid,
        "status": row.status,
        "requestStatus": "UNSUBMITTED",
        "orderId": gid("Order", payload.get("id")),
        "orderName": payload.get("name"),
        "createdAt": _stamp_utc(row.created_at),
        "updatedAt": _stamp_utc(row.updated_at),
        "supportedActions": [
            {"__typename": "FulfillmentOrderSupportedAction", "action": "CREATE_FULFILLMENT"}
        ]
        if row.status in FULFILLABLE
        else [],
        "lineItems": lambda args: list_connection(lines, args),
    }


def fulfillment_node(row: StoreFulfillment, payload: dict | None = None) -> dict:
    line_nodes = _line_nodes_by_id(payload or row.order.payload)
    tracking = (
        [
            {
                "__typename": "FulfillmentTrackingInfo",
                "company": row.tracking_company or None,
                "number": row.tracking_number or None,
                "url": row.tracking_url or None,
            }
        ]
        if row.tracking_company or row.tracking_number or row.tracking_url
        else []
    )
    lines = [
        {
            "__typename": "FulfillmentLineItem",
            "id": line.gid,
            "quantity": line.quantity,
            "lineItem": line_nodes.get(line.fulfillment_order_line.line_item_id)
            or {
                "__typename": "LineItem",
                "id": gid("LineItem", line.fulfillment_order_line.line_item_id),
            },
        }
        for line in row.lines.select_related("fulfillment_order_line")
    ]
    return {
        "__typename": "Fulfillment",
        "id": row.gid,
        "legacyResourceId": str(row.pk),
        "status": row.status,
        "createdAt": _stamp_utc(row.created_at),
        "updatedAt": _stamp_utc(row.created_at),
        "trackingInfo": lambda args: tracking[: args["first"]] if args.get("first") else tracking,
        "fulfillmentLineItems": lambda args: list_connection(lines, args),
    }


def _fulfillments(payload: dict, args: dict) -> list[dict]:
    rows = StoreFulfillment.objects.filter(order__shopify_id=payload["id"]).order_by("id")
    if args.get("first"):
        rows = rows[: int(args["first"])]
    return [fulfillment_node(row, payload) for row in rows]


# --- root fields ---------------------------------------------------------------------------------
_SORT_FIELDS = {"UPDATED_AT": "updated_at", "CREATED_AT": "created_at", "ID": "shopify_id"}


def _search_filter(query: str | None) -> Q:
    """Shopify search syntax, the part we use: `updated_at:>'2026-01-01T00:00:00Z'` (and created_at)."""
    condition = Q()
    for name, op, raw in _SEARCH_TERM.findall(query or ""):
        if name not in ("updated_at", "created_at"):
            continue  # Shopify ignores terms it cannot apply (with a search warning); so do we
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise GraphQLError(f"Invalid search value for {name}: {raw!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        lookup = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "": "exact"}[op]
        condition &= Q(**{f"{name}__{lookup}": moment})
    return condition


def orders_resolve(args: dict) -> dict:
    first = _first(args)
    sort_key = args.get("sortKey") or "ID"
    if sort_key not in _SORT_FIELDS:
        raise GraphQLError(f"Unsupported sortKey {sort_key!r} in the sandbox")
    column = _SORT_FIELDS[sort_key]
    reverse = bool(args.get("reverse"))
    rows = StoreOrder.objects.filter(_search_filter(args.get("query")))
    after = _cursor_read(args.get("after"))
    if after:
        if after.get("sort") != sort_key:
            raise GraphQLError("Invalid cursor for current pagination sort.")
        key_value: Any = after["k"]
        if column != "shopify_id":
            key_value = datetime.fromisoformat(key_value)
        beyond = "lt" if reverse else "gt"
        rows = rows.filter(
            Q(**{f"{column}__{beyond}": key_value})
            | Q(**{column: key_value, f"shopify_id__{beyond}": int(after["id"])})
        )
    order_by = [f"-{column}", "-shopify_id"] if reverse else [column, "shopify_id"]
    page = list(rows.order_by(*order_by)[: first + 1])
    has_next = len(page) > first
    page = page[:first]

    def cursor_of(row: StoreOrder) -> str:
        value = getattr(row, column)
        key = value if isinstance(value, int) else value.isoformat()
        return _cursor({"sort": sort_key, "k": key, "id": row.shopify_id})

    nodes = [order_node(row.payload) for row in page]
    edges = [
        {"cursor": cursor_of(row), "node": node} for row, node in zip(page, nodes, strict=True)
    ]
    return {
        "nodes": nodes,
        "edges": edges,
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": after is not None,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def order_resolve(args: dict) -> dict | None:
    order_id = gid_parse(args.get("id"), "Order")
    if order_id is None:
        raise GraphQLError(f"Invalid global id {args.get('id')!r}")
    row = StoreOrder.objects.filter(shopify_id=order_id).first()
    return order_node(row.payload) if row else None


def fulfillment_order_resolve(args: dict) -> dict | None:
    fo_id = gid_parse(args.get("id"), "FulfillmentOrder")
    if fo_id is None:
        raise GraphQLError(f"Invalid global id {args.get('id')!r}")
    row = StoreFulfillmentOrder.objects.select_related("order").filter(pk=fo_id).first()
    return fulfillment_order_node(row, row.order.payload) if row else None


def _required_id(value: Any, kind: str, where: str) -> int:
    number = gid_parse(value, kind)
    if number is None:
        raise GraphQLError(f"Variable $fulfillment: invalid global id {value!r} at {where}")
    return number


def fulfillment_create(args: dict) -> dict:
    """fulfillmentCreate(fulfillment: FulfillmentInput!, message: String)."""
    fulfillment = args.get("fulfillment")
    if not isinstance(fulfillment, dict):
        raise GraphQLError(
            "Variable $fulfillment of type FulfillmentInput! was provided invalid value"
        )
    entries = fulfillment.get("lineItemsByFulfillmentOrder")
    if not isinstance(entries, list):
        raise GraphQLError(
            "Variable $fulfillment: lineItemsByFulfillmentOrder is required (a list)"
        )
    requests = []
    for index, entry in enumerate(entries):
        where = f"lineItemsByFulfillmentOrder.{index}"
        if not isinstance(entry, dict):
            raise GraphQLError(f"Variable $fulfillment: expected an object at {where}")
        fo_id = _required_id(entry.get("fulfillmentOrderId"), "FulfillmentOrder", where)
        items = entry.get("fulfillmentOrderLineItems")
        lines = None
        if items:
            lines = []
            for position, item in enumerate(items):
                at = f"{where}.fulfillmentOrderLineItems.{position}"
                if not isinstance(item, dict) or "quantity" not in item:
                    raise GraphQLError(
                        f"Variable $fulfillment: id and quantity are required at {at}"
                    )
                if not isinstance(item["quantity"], int) or isinstance(item["quantity"], bool):
                    raise GraphQLError(f"Variable $fulfillment: quantity must be an Int at {at}")
                line_id = _required_id(item.get("id"), "FulfillmentOrderLineItem", at)
                lines.append((line_id, item["quantity"]))
        requests.append(FulfillmentRequest(fulfillment_order_id=fo_id, lines=lines, index=index))
    tracking = fulfillment.get("trackingInfo") or {}
    if not isinstance(tracking, dict):
        raise GraphQLError("Variable $fulfillment: trackingInfo must be an object")
    numbers, urls = tracking.get("numbers") or [], tracking.get("urls") or []
    outcome = fulfillment_apply(
        requests=requests,
        tracking={
            "company": tracking.get("company"),
            "number": tracking.get("number") or (numbers[0] if numbers else None),
            "url": tracking.get("url") or (urls[0] if urls else None),
        },
        notify_customer=bool(fulfillment.get("notifyCustomer")),  # Shopify's default: false
        message=str(args.get("message") or ""),
    )
    return {
        "__typename": "FulfillmentCreatePayload",
        "fulfillment": fulfillment_node(outcome.fulfillment) if outcome.fulfillment else None,
        "userErrors": [{"__typename": "UserError", **error} for error in outcome.user_errors],
    }


def _subscription_node(row: StoreWebhookSubscription) -> dict:
    return {
        "__typename": "WebhookSubscription",
        "id": row.gid,
        "topic": row.topic,
        "uri": row.uri,
        "callbackUrl": row.uri,
        "format": row.format,
        "createdAt": row.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updatedAt": row.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def webhook_subscriptions_resolve(args: dict) -> dict:
    first = _first(args)
    rows = StoreWebhookSubscription.objects.order_by("id")
    if args.get("topics"):
        rows = rows.filter(topic__in=args["topics"])
    if args.get("uri"):
        rows = rows.filter(uri=args["uri"])
    after = _cursor_read(args.get("after"))
    if after:
        rows = rows.filter(id__gt=int(after.get("id", 0)))
    page = list(rows[: first + 1])
    has_next = len(page) > first
    page = page[:first]
    nodes = [_subscription_node(row) for row in page]
    edges = [
        {"cursor": _cursor({"id": row.pk}), "node": node}
        for row, node in zip(page, nodes, strict=True)
    ]
    return {
        "nodes": nodes,
        "edges": edges,
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": after is not None,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def webhook_subscription_create(args: dict) -> dict:
    topic = args.get("topic")
    subscription = args.get("webhookSubscription") or {}
    uri = str(subscription.get("uri") or subscription.get("callbackUrl") or "")
    errors = []
    if topic not in WEBHOOK_TOPICS:
        errors.append({"field": ["topic"], "message": f"Topic {topic!r} is not supported"})
    if not re.match(r"^https?://[^\s/]+", uri):
        errors.append({"field": ["webhookSubscription", "uri"], "message": "Address is invalid"})
    elif StoreWebhookSubscription.objects.filter(topic=topic or "", uri=uri).exists():
        errors.append(
            {
                "field": ["webhookSubscription", "uri"],
                "message": "Address for this topic has already been taken",
            }
        )
    created = None
    if not errors:
        row = StoreWebhookSubscription.objects.create(
            topic=topic, uri=uri, format=str(subscription.get("format") or "JSON")
        )
        created = _subscription_node(row)
    return {
        "__typename": "WebhookSubscriptionCreatePayload",
        "webhookSubscription": created,
        "userErrors": [{"__typename": "UserError", **error} for error in errors],
    }


QUERY_ROOT = {
    "orders": orders_resolve,
    "order": order_resolve,
    "fulfillmentOrder": fulfillment_order_resolve,
    "webhookSubscriptions": webhook_subscriptions_resolve,
    "locations": locations_resolve,
    "location": location_resolve,
    "inventoryItems": inventory_items_resolve,
}
MUTATION_ROOT = {
    "webhookSubscriptionCreate": webhook_subscription_create,
    "fulfillmentCreate": fulfillment_create,
    "inventorySetQuantities": inventory_set_quantities,
}
