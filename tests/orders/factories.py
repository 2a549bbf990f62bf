"""Orders for tests: Shopify REST payloads (for intake) and ORM rows (for pages and the admin)."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory

from apps.orders.models import Order, OrderLine
from tests.inventory.factories import SkuMappingFactory

_ids = itertools.count(2**53 + 1000)


def next_id() -> int:
    return next(_ids)


def line_payload(
    *, sku: str | None = "TEE-BLK-M", quantity: int = 1, price: str = "20.00", **extra
) -> dict:
    line = {
        "id": next_id(),
        "sku": sku,
        "variant_id": extra.pop("variant_id", next_id()),
        "product_id": next_id(),
        "title": f"Item {sku}",
        "variant_title": "",
        "quantity": quantity,
        "fulfillable_quantity": quantity,
        "price": price,
        "total_discount": "0.00",
        "requires_shipping": True,
        "gift_card": False,
        "taxable": True,
        "tax_lines": [{"title": "VAT", "rate": 0.2, "price": "4.00"}],
        "discount_allocations": [],
    }
    line.update(extra)
    return line


def order_payload(
    *, lines: list[dict] | None = None, updated: datetime | None = None, **extra
) -> dict:
    order_id = extra.pop("id", next_id())
    updated = updated or datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    payload = {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{order_id % 100000}",
        "order_number": order_id % 100000,
        "email": "ada@example.com",
        "created_at": (updated - timedelta(minutes=5)).isoformat(),
        "updated_at": updated.isoformat(),
        "cancelled_at": None,
        "cancel_reason": None,
        "currency": "GBP",
        "subtotal_price": "20.00",
        "total_discounts": "0.00",
        "total_tax": "4.00",
        "total_price": "24.00",
        "taxes_included": False,
        "financial_status": "paid",
        "fulfillment_status": None,
        "customer": {
            "id": next_id(),
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
        },
        "shipping_address": {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "address1": "1 Analytical Way",
            "city": "London",
            "zip": "N1 1AA",
            "country": "United Kingdom",
            "country_code": "GB",
        },
        "line_items": lines if lines is not None else [line_payload()],
        "shipping_lines": [],
        "refunds": [],
        "tags": "",
        "test": False,
    }
    payload.update(extra)
    return payload


def sku_mapping(sku: str = "TEE-BLK-M", *, variant_id: int | None = None, components=None):
    return SkuMappingFactory(shopify_sku=sku, shopify_variant_id=variant_id, components=components)


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    shopify_id = factory.LazyFunction(lambda: next_id())
    name = factory.Sequence(lambda n: f"#{1000 + n}")
    status = Order.Status.HELD
    currency = "GBP"
    subtotal_price = Decimal("20.00")
    total_price = Decimal("24.00")
    shopify_created_at = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    shopify_updated_at = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    shopify_id = factory.LazyFunction(lambda: next_id())
    sku = "SKU-0000"
    variant_id = None
    title = "A line"
    quantity = 1
    price = Decimal("20.00")


def order_with_line(
    *, sku: str | None, variant_id: int | None = None, status=Order.Status.HELD
) -> Order:
    line = OrderLineFactory(sku=sku, variant_id=variant_id, order__status=status)
    return line.order
