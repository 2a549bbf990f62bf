"""Shopify's REST Order and Refund resources (webhook bodies) → plain, validated values.

Pure functions: no database. Anything unusable raises PayloadError with a reason a person can act on.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any


class PayloadError(ValueError):
    """The payload is valid JSON but not a usable order or refund."""


@dataclass(frozen=True)
class TaxLineData:
    title: str
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class LineData:
    shopify_id: int
    sku: str | None
    variant_id: int | None
    product_id: int | None
    title: str
    variant_title: str
    quantity: int
    fulfillable_quantity: int
    price: Decimal
    total_discount: Decimal
    requires_shipping: bool
    gift_card: bool
    taxable: bool
    tax_lines: tuple[TaxLineData, ...]
    discount_allocations: tuple[tuple[Decimal, int], ...]


@dataclass(frozen=True)
class ShippingLineData:
    shopify_id: int | None
    code: str
    title: str
    price: Decimal
    discounted_price: Decimal
    tax_lines: tuple[TaxLineData, ...]


@dataclass(frozen=True)
class RefundLineData:
    line_shopify_id: int
    quantity: int
    subtotal: Decimal
    total_tax: Decimal
    restock_type: str


@dataclass(frozen=True)
class RefundData:
    shopify_id: int
    order_shopify_id: int
    note: str
    created_at: datetime
    processed_at: datetime | None
    amount: Decimal
    lines: tuple[RefundLineData, ...]


@dataclass(frozen=True)
class OrderData:
    shopify_id: int
    admin_graphql_api_id: str
    name: str
    order_number: int | None
    email: str
    phone: str
    customer_id: int | None
    customer_first_name: str
    customer_last_name: str
    shipping_address: dict | None
    currency: str
    subtotal_price: Decimal
    total_discounts: Decimal
    total_tax: Decimal
    total_shipping: Decimal
    total_price: Decimal
    current_total_price: Decimal | None
    taxes_included: bool
    financial_status: str
    fulfillment_status: str
    cancelled_at: datetime | None
    cancel_reason: str
    tags: str
    test: bool
    created_at: datetime
    updated_at: datetime
    lines: tuple[LineData, ...]
    shipping_lines: tuple[ShippingLineData, ...]
    refunds: tuple[RefundData, ...] = field(default=())

    @property
    def rank(self) -> tuple:
        return state_rank(
            updated_at=self.updated_at,
            cancelled_at=self.cancelled_at,
            financial_status=self.financial_status,
            fulfillment_status=self.fulfillment_status,
        )


# Shopify's financial and fulfillment statuses in the order an order moves through them.
FINANCIAL_PROGRESS = {
    status: rank
    for rank, statuses in enumerate(
        (
            ("pending",),
            ("authorized",),
            ("partially_paid",),
            ("paid",),
            ("partially_refunded",),
            ("refunded",),
            ("voided", "expired"),
        ),
        start=1,
    )
    for status in statuses
}
FULFILLMENT_PROGRESS = {"": 0, "unfulfilled": 0, "partial": 1, "fulfilled": 2, "restocked": 3}


def state_rank(
    *,
    updated_at: datetime,
    cancelled_at: datetime | None,
    financial_status: str,
    fulfillment_status: str,
) -> tuple:
    """A total order of an order's states, newest last.

    `updated_at` first. Shopify stamps whole seconds, so a cancellation and the update before it
    can share one: within a second the content decides — a cancelled state is newer than any
    uncancelled one (a cancel is never undone), then payment, then fulfillment progress. Equal
    ranks are the same state (a repeat), not news.
    """
    return (
        updated_at,
        cancelled_at is not None,
        FINANCIAL_PROGRESS.get(financial_status, 0),
        FULFILLMENT_PROGRESS.get(fulfillment_status or "", 0),
    )


def _id(value: Any, what: str, *, required: bool = True) -> int | None:
    if value is None and not required:
        return None
    # bool is an int subclass; a float would already have lost precision above 2^53.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PayloadError(f"{what} must be an integer id, got {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise PayloadError(f"{what} must be an integer id, got {value!r}") from None
    if not 0 < number < 2**63:
        raise PayloadError(f"{what} is out of range: {value!r}")
    return number


def _money(value: Any, what: str, *, default: str | None = None) -> Decimal:
    if value is None or value == "":
        if default is None:
            raise PayloadError(f"{what} is missing")
        value = default
    if isinstance(value, float):
        value = repr(value)  # refund amounts arrive as JSON numbers; repr keeps the written digits
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise PayloadError(f"{what} is not an amount: {value!r}") from None
    if not amount.is_finite() or abs(amount) >= Decimal("1e12"):
        raise PayloadError(f"{what} is not an amount: {value!r}")
    return amount.quantize(Decimal("0.01"))


def _rate(value: Any) -> Decimal:
    try:
        return Decimal(repr(value) if isinstance(value, float) else str(value or 0))
    except InvalidOperation:
        raise PayloadError(f"tax rate is not a number: {value!r}") from None


def _when(value: Any, what: str, *, required: bool = True) -> datetime | None:
    if not value:
        if required:
            raise PayloadError(f"{what} is missing")
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise PayloadError(f"{what} is not a date-time: {value!r}") from None
    if moment.tzinfo is None:
        raise PayloadError(f"{what} has no time zone: {value!r}")
    return moment


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _tax_lines(items: Any) -> tuple[TaxLineData, ...]:
    return tuple(
        TaxLineData(
            title=_text(item.get("title")) or "Tax",
            rate=_rate(item.get("rate")),
            amount=_money(item.get("price"), "tax line price"),
        )
        for item in items or []
    )


def _line(item: dict) -> LineData:
    if not isinstance(item, dict):
        raise PayloadError("a line item is not an object")
    line_id = _id(item.get("id"), "line_items[].id")
    quantity = item.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise PayloadError(f"line {line_id}: quantity must be a whole number, got {quantity!r}")
    sku = item.get("sku")
    return LineData(
        shopify_id=line_id,
        sku=sku.strip() if isinstance(sku, str) and sku.strip() else None,
        variant_id=_id(item.get("variant_id"), "variant_id", required=False),
        product_id=_id(item.get("product_id"), "product_id", required=False),
        title=_text(item.get("title") or item.get("name"))[:500] or "(untitled)",
        variant_title=_text(item.get("variant_title"))[:500],
        quantity=quantity,
        fulfillable_quantity=max(int(item.get("fulfillable_quantity") or 0), 0),
        price=_money(item.get("price"), f"line {line_id} price"),
        total_discount=_money(item.get("total_discount"), f"line {line_id} discount", default="0"),
        requires_shipping=bool(item.get("requires_shipping", True)),
        gift_card=bool(item.get("gift_card", False)),
        taxable=bool(item.get("taxable", True)),
        tax_lines=_tax_lines(item.get("tax_lines")),
        discount_allocations=tuple(
            (
                _money(allocation.get("amount"), f"line {line_id} discount allocation"),
                int(allocation.get("discount_application_index") or 0),
            )
            for allocation in item.get("discount_allocations") or []
        ),
    )


def _shipping_line(item: dict) -> ShippingLineData:
    price = _money(item.get("price"), "shipping line price")
    return ShippingLineData(
        shopify_id=_id(item.get("id"), "shipping_lines[].id", required=False),
        code=_text(item.get("code"))[:255],
        title=_text(item.get("title"))[:255],
        price=price,
        discounted_price=_money(
            item.get("discounted_price"), "shipping discounted price", default=str(price)
        ),
        tax_lines=_tax_lines(item.get("tax_lines")),
    )


def refund_from_rest(payload: Any, *, order_shopify_id: int | None = None) -> RefundData:
    if not isinstance(payload, dict):
        raise PayloadError("the refund is not a JSON object")
    refund_id = _id(payload.get("id"), "refund id")
    order_id = _id(payload.get("order_id") or order_shopify_id, "refund order_id")
    transactions = [
        t
        for t in payload.get("transactions") or []
        if t.get("kind") == "refund" and t.get("status") == "success"
    ]
    lines = tuple(
        RefundLineData(
            line_shopify_id=_id(item.get("line_item_id"), "refund_line_items[].line_item_id"),
            quantity=int(item.get("quantity") or 0),
            subtotal=_money(item.get("subtotal"), "refund line subtotal", default="0"),
            total_tax=_money(item.get("total_tax"), "refund line tax", default="0"),
            restock_type=_text(item.get("restock_type"))[:32],
        )
        for item in payload.get("refund_line_items") or []
    )
    return RefundData(
        shopify_id=refund_id,
        order_shopify_id=order_id,
        note=_text(payload.get("note")),
        created_at=_when(payload.get("created_at"), "refund created_at"),
        processed_at=_when(payload.get("processed_at"), "refund processed_at", required=False),
        amount=sum(
            (_money(t.get("amount"), "refund amount") for t in transactions), Decimal("0.00")
        ),
        lines=lines,
    )


def order_from_rest(payload: Any) -> OrderData:
    """Validate a REST Order resource (the body of orders/* webhooks, or wrapped as {"order": …})."""
    if (
        isinstance(payload, dict)
        and set(payload) >= {"order"}
        and isinstance(payload["order"], dict)
    ):
        payload = payload["order"]
    if not isinstance(payload, dict):
        raise PayloadError("the order is not a JSON object")
    order_id = _id(payload.get("id"), "order id")
    currency = _text(payload.get("currency")).upper()
    if len(currency) != 3 or not currency.isalpha():
        raise PayloadError(f"currency is not an ISO code: {payload.get('currency')!r}")
    line_items = payload.get("line_items")
    if not isinstance(line_items, list):
        raise PayloadError("line_items is missing")
    customer = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    shipping_lines = tuple(_shipping_line(item) for item in payload.get("shipping_lines") or [])
    address = payload.get("shipping_address")
    return OrderData(
        shopify_id=order_id,
        admin_graphql_api_id=_text(payload.get("admin_graphql_api_id"))
        or f"gid://shopify/Order/{order_id}",
        name=_text(payload.get("name"))[:64] or f"#{payload.get('order_number') or order_id}",
        order_number=_id(payload.get("order_number"), "order_number", required=False),
        email=_text(payload.get("email") or payload.get("contact_email") or customer.get("email"))[
            :254
        ],
        phone=_text(payload.get("phone") or customer.get("phone"))[:64],
        customer_id=_id(customer.get("id"), "customer id", required=False),
        customer_first_name=_text(customer.get("first_name") or (address or {}).get("first_name"))[
            :255
        ],
        customer_last_name=_text(customer.get("last_name") or (address or {}).get("last_name"))[
            :255
        ],
        shipping_address=address if isinstance(address, dict) else None,
        currency=currency,
        subtotal_price=_money(payload.get("subtotal_price"), "subtotal_price", default="0"),
        total_discounts=_money(payload.get("total_discounts"), "total_discounts", default="0"),
        total_tax=_money(payload.get("total_tax"), "total_tax", default="0"),
        total_shipping=sum((line.price for line in shipping_lines), Decimal("0.00")),
        total_price=_money(payload.get("total_price"), "total_price"),
        current_total_price=(
            _money(payload["current_total_price"], "current_total_price")
            if payload.get("current_total_price") not in (None, "")
            else None
        ),
        taxes_included=bool(payload.get("taxes_included")),
        financial_status=_text(payload.get("financial_status"))[:32],
        fulfillment_status=_text(payload.get("fulfillment_status"))[:32],
        cancelled_at=_when(payload.get("cancelled_at"), "cancelled_at", required=False),
        cancel_reason=_text(payload.get("cancel_reason"))[:64],
        tags=_text(payload.get("tags"))[:1000],
        test=bool(payload.get("test")),
        created_at=_when(payload.get("created_at"), "created_at"),
        updated_at=_when(payload.get("updated_at") or payload.get("created_at"), "updated_at"),
        lines=tuple(_line(item) for item in line_items),
        shipping_lines=shipping_lines,
        refunds=tuple(
            refund_from_rest(item, order_shopify_id=order_id)
            for item in payload.get("refunds") or []
        ),
    )
