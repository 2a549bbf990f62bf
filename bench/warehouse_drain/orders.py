"""The Django side of the warehouse drain bench: reset, ready orders in bulk, the stand-in's records.

Import after `django.setup()`. Orders are bulk-created READY with resolved lines, then each gets its
outbox message through the real `order_submission_enqueue` (the warehouse body is built as the app
builds it), so the pump sends exactly what it would send after `order_resolve`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone

from bench.common import tables_reset

# Shopify-sized ids far from the storefront simulator's, so a bench order is recognisable.
SHOPIFY_ID_BASE = 7_100_000_000_000
LINE_ID_BASE = 8_100_000_000_000

# Emptied before a run: the orders, the outbox and budget state, the stand-in's warehouse and window.
RESET_TABLES = (
    "orders_shipmentline",
    "orders_shipment",
    "orders_orderevent",
    "orders_hold",
    "orders_shippingline",
    "orders_orderline",
    "orders_order",
    "sync_outboxmessage",
    "sync_ratebudget",
    "sync_pumplease",
    "sync_alert",
    "sandbox_shipbob_webhookevent",
    "sandbox_shipbob_warehouseshipmentproduct",
    "sandbox_shipbob_warehouseshipment",
    "sandbox_shipbob_warehouseorderproduct",
    "sandbox_shipbob_warehouseorder",
    "sandbox_shipbob_ordercreateattempt",
    "sandbox_shipbob_ratewindow",
    "sandbox_shipbob_inventoryitem",
    "django_q_ormq",
    "django_q_task",
    "django_q_schedule",
)


def drain_tables_reset() -> None:
    """Empty every table the bench writes or measures (PostgreSQL: one TRUNCATE)."""
    tables_reset(RESET_TABLES)


def ready_orders_create(*, n: int, seed: int = 7, batch: int = 500) -> list[int]:
    """n READY orders (1–3 mapped catalogue lines each) with their warehouse submissions queued.

    Returns the Shopify order ids. Mappings and the stand-in's stock are seeded first.
    """
    from apps.inventory.models import SkuMapping
    from apps.orders.models import Order, OrderLine
    from apps.orders.warehouse import order_submission_enqueue
    from apps.sandbox.catalogue import CATALOGUE
    from apps.sandbox.shipbob.warehouse import inventory_seed
    from o2c_portal.management.commands.seed_demo import demo_mappings_seed

    demo_mappings_seed()
    inventory_seed()
    mappings = {m.shopify_sku: m for m in SkuMapping.objects.all()}
    shippable = [item for item in CATALOGUE if item.requires_shipping and item.sku in mappings]
    rng = random.Random(seed)
    now = timezone.now()
    shopify_ids: list[int] = []
    for start in range(0, n, batch):
        with transaction.atomic():
            orders = []
            picks = []
            for index in range(start, min(n, start + batch)):
                items = rng.sample(shippable, k=rng.randint(1, 3))
                quantities = [rng.randint(1, 2) for _ in items]
                subtotal = sum(
                    (item.price * qty for item, qty in zip(items, quantities, strict=True)),
                    Decimal(0),
                )
                shopify_id = SHOPIFY_ID_BASE + index
                orders.append(
                    Order(
                        shopify_id=shopify_id,
                        name=f"#B{index + 1}",
                        order_number=100_000 + index,
                        status=Order.Status.READY,
                        email=f"buyer{index}@example.com",
                        customer_first_name="Bench",
                        customer_last_name=f"Buyer {index}",
                        shipping_address={
                            "first_name": "Bench",
                            "last_name": f"Buyer {index}",
                            "address1": f"{index + 1} Drain Street",
                            "city": "Chicago",
                            "province_code": "IL",
                            "country_code": "US",
                            "zip": "60601",
                        },
                        currency="USD",
                        subtotal_price=subtotal,
                        total_price=subtotal,
                        financial_status="paid",
                        shopify_created_at=now,
                        shopify_updated_at=now,
                    )
                )
                picks.append((items, quantities))
            Order.objects.bulk_create(orders)
            lines = [
                OrderLine(
                    order=order,
                    shopify_id=LINE_ID_BASE + (order.shopify_id - SHOPIFY_ID_BASE) * 4 + position,
                    sku=item.sku,
                    variant_id=item.variant_id,
                    product_id=item.product_id,
                    title=item.title,
                    variant_title=item.variant_title,
                    quantity=qty,
                    fulfillable_quantity=qty,
                    price=item.price,
                    sku_mapping=mappings[item.sku],
                )
                for order, (items, quantities) in zip(orders, picks, strict=True)
                for position, (item, qty) in enumerate(zip(items, quantities, strict=True))
            ]
            OrderLine.objects.bulk_create(lines)
            for order in orders:
                order_submission_enqueue(order=order)
                shopify_ids.append(order.shopify_id)
    return shopify_ids


def window_counters() -> tuple[int, int]:
    """The stand-in's own totals over every token: (calls let through, calls answered 429)."""
    from apps.sandbox.shipbob.models import RateWindow

    totals = RateWindow.objects.aggregate(
        calls=Sum("calls_total"), throttled=Sum("throttled_total")
    )
    return int(totals["calls"] or 0), int(totals["throttled"] or 0)


@dataclass
class StandInRecords:
    create_times: list[datetime]  # every accepted create, oldest first
    references: int  # distinct reference_ids the stand-in saw a POST for
    posts: int  # POST /order calls past the window (includes re-sends answered 422)
    creates: int  # orders created (sum over references)
    duplicates: int  # warehouse orders beyond the first per reference (must be 0)
    resent: int  # references POSTed more than once (harmless when answered 422)
    max_created_per_reference: int


def stand_in_records() -> StandInRecords:
    from apps.sandbox.shipbob.models import OrderCreateAttempt, WarehouseOrder

    attempts = OrderCreateAttempt.objects.aggregate(
        references=Count("id"),
        posts=Sum("attempts"),
        creates=Sum("created"),
        most=Max("created"),
    )
    per_reference = (
        WarehouseOrder.objects.values("reference_id").annotate(n=Count("id")).filter(n__gt=1)
    )
    duplicates = sum(row["n"] - 1 for row in per_reference)
    duplicates += sum(
        row.created - 1 for row in OrderCreateAttempt.objects.filter(created__gt=1).only("created")
    )
    return StandInRecords(
        create_times=list(
            WarehouseOrder.objects.order_by("created_at").values_list("created_at", flat=True)
        ),
        references=attempts["references"] or 0,
        posts=attempts["posts"] or 0,
        creates=attempts["creates"] or 0,
        duplicates=duplicates,
        resent=OrderCreateAttempt.objects.filter(attempts__gt=1).count(),
        max_created_per_reference=attempts["most"] or 0,
    )


def orders_submitted(shopify_ids: list[int]) -> dict:
    """Our side: how many bench orders are SUBMITTED with the warehouse id the stand-in gave."""
    from apps.orders.models import Order
    from apps.sandbox.shipbob.models import WarehouseOrder

    remote = dict(
        WarehouseOrder.objects.filter(reference_id__in=[str(i) for i in shopify_ids]).values_list(
            "reference_id", "pk"
        )
    )
    rows = Order.objects.filter(shopify_id__in=shopify_ids).values_list(
        "shopify_id", "status", "warehouse_order_id"
    )
    submitted = matching = 0
    for shopify_id, status, warehouse_id in rows:
        submitted += status == Order.Status.SUBMITTED
        matching += warehouse_id is not None and remote.get(str(shopify_id)) == warehouse_id
    return {"orders": len(rows), "submitted": submitted, "warehouse_id_matches": matching}
