"""The Django side of the inventory sync bench: a big catalogue, the order backlog, the records.

Import after `django.setup()`. The catalogue is bulk-created on both stand-ins and in the mapping
tables: singles are one ShipBob item each, bundles take 2–3 singles (components shared between
bundles), every SKU is an inventory item at the Shopify stand-in's one location with 0 available.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, F, Sum

from bench.common import tables_reset

INVENTORY_ID_BASE = 900_000
VARIANT_ID_BASE = 6_100_000_000_000
INVENTORY_TABLES = (
    "inventory_driftreport",
    "inventory_variantstock",
    "inventory_stockpolicy",
    "inventory_stocklevel",
    "inventory_inventorysyncstate",
    "inventory_peakbufferprofile",
    "inventory_warehousecomponent",
    "inventory_skumapping",
    "inventory_mappingversion",
    "sandbox_shopify_storeinventorylevel",
    "sandbox_shopify_storeinventoryitem",
    "sandbox_shopify_storelocation",
    "sandbox_shopify_storeidempotencykey",
    "sandbox_shopify_storeinventorysetcall",
    "sandbox_shopify_storecostbucket",
)
ORDER_TABLES = (
    "orders_shipmentline",
    "orders_shipment",
    "orders_orderevent",
    "orders_hold",
    "orders_shippingline",
    "orders_orderline",
    "orders_order",
    "sandbox_shipbob_warehouseshipmentproduct",
    "sandbox_shipbob_warehouseshipment",
    "sandbox_shipbob_warehouseorderproduct",
    "sandbox_shipbob_warehouseorder",
    "sandbox_shipbob_ordercreateattempt",
)


def inventory_tables_reset() -> None:
    from bench.warehouse_drain.orders import drain_tables_reset

    drain_tables_reset()
    tables_reset(INVENTORY_TABLES)


def orders_reset() -> None:
    """Forget the previous phase's orders (the next backlog re-uses the same Shopify ids)."""
    tables_reset(ORDER_TABLES)
    from apps.sync.models import OutboxMessage

    OutboxMessage.objects.filter(action="order_create").delete()


def catalogue_create(*, skus: int, bundles: int, seed: int) -> dict:
    """`skus` mapped variants, `bundles` of them bundles; stock at ShipBob, 0 shown in Shopify."""
    from apps.inventory.models import SkuMapping, WarehouseComponent
    from apps.inventory.services import mapping_version_bump
    from apps.sandbox.shipbob.models import InventoryItem
    from apps.sandbox.shopify.inventory import store_inventory_seed
    from apps.sandbox.shopify.models import StoreInventoryItem, StoreInventoryLevel, StoreLocation

    rng = random.Random(seed)
    singles = skus - bundles
    with transaction.atomic():
        InventoryItem.objects.bulk_create(
            InventoryItem(
                inventory_id=INVENTORY_ID_BASE + i,
                sku=f"B-{i:05d}",
                name=f"Bench item {i}",
                on_hand=rng.randint(50, 500),
            )
            for i in range(singles)
        )
        mappings = SkuMapping.objects.bulk_create(
            SkuMapping(
                shopify_sku=f"B-{i:05d}" if i < singles else f"BUNDLE-{i - singles:04d}",
                shopify_variant_id=VARIANT_ID_BASE + i,
                title=f"Bench SKU {i}",
                xero_item_code=f"B{i}",
                xero_account_code="200",
                xero_tax_type="OUTPUT2",
            )
            for i in range(skus)
        )
        components = []
        for i, mapping in enumerate(mappings):
            if i < singles:
                components.append(
                    WarehouseComponent(mapping=mapping, inventory_id=INVENTORY_ID_BASE + i)
                )
                continue
            # Bundles draw from the first 300 singles, so many share a component.
            for part in rng.sample(range(min(300, singles)), k=rng.randint(2, 3)):
                components.append(
                    WarehouseComponent(
                        mapping=mapping,
                        inventory_id=INVENTORY_ID_BASE + part,
                        quantity=rng.randint(1, 2),
                    )
                )
        WarehouseComponent.objects.bulk_create(components)
        mapping_version_bump(actor=None, summary=f"bench: {skus} SKUs")
        location = StoreLocation.objects.create(name="Bench warehouse")
        items = StoreInventoryItem.objects.bulk_create(
            StoreInventoryItem(sku=m.shopify_sku, variant_id=m.shopify_variant_id) for m in mappings
        )
        StoreInventoryLevel.objects.bulk_create(
            StoreInventoryLevel(item=item, location=location, available=0) for item in items
        )
    store_inventory_seed()  # the demo catalogue's items, which the order backlog sells
    return {"singles": singles, "bundles": bundles, "components": len(components)}


def stock_change(*, share: float, seed: int) -> int:
    """Change the on-hand of `share` of the warehouse items (a restock or a count correction)."""
    from apps.sandbox.shipbob.models import InventoryItem

    rng = random.Random(seed)
    ids = list(
        InventoryItem.objects.filter(inventory_id__gte=INVENTORY_ID_BASE).values_list(
            "inventory_id", flat=True
        )
    )
    picked = rng.sample(ids, k=round(len(ids) * share))
    InventoryItem.objects.filter(inventory_id__in=picked).update(on_hand=F("on_hand") + 37)
    return len(picked)


@dataclass
class Converged:
    mismatched: int  # mapped variants whose Shopify level differs from the computed value
    pushes_waiting: int
    inventory_waiting: int  # inventory outbox messages not settled yet


def convergence() -> Converged:
    """How far Shopify is from what we computed, read straight from both sides' tables."""
    from apps.sync.models import OutboxMessage

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM inventory_variantstock vs
            JOIN inventory_skumapping m ON m.id = vs.mapping_id
            LEFT JOIN sandbox_shopify_storeinventorylevel l
              ON l.item_id = m.shopify_inventory_item_id AND l.location_id = m.shopify_location_id
            WHERE vs.problem = '' AND (l.id IS NULL OR l.available <> vs.available)
            """
        )
        mismatched = cursor.fetchone()[0]
    from apps.inventory.models import VariantStock

    return Converged(
        mismatched=mismatched,
        pushes_waiting=VariantStock.objects.exclude(push_key="").count(),
        inventory_waiting=OutboxMessage.objects.filter(
            action__in=("inventory_pull", "inventory_lookup", "inventory_set"),
            status__in=(OutboxMessage.Status.PENDING, OutboxMessage.Status.IN_FLIGHT),
        ).count(),
    )


def counters() -> dict:
    """The stand-ins' own totals: ShipBob calls and 429s; Shopify sets by outcome and throttles."""
    from apps.sandbox.shopify.models import StoreCostBucket, StoreInventorySetCall
    from apps.sync.models import OutboxMessage
    from bench.warehouse_drain.orders import window_counters

    shipbob_calls, shipbob_429 = window_counters()
    sets = dict(
        StoreInventorySetCall.objects.values("outcome")
        .annotate(n=Count("id"))
        .values_list("outcome", "n")
    )
    applied_quantities = (
        StoreInventorySetCall.objects.filter(outcome="applied").aggregate(q=Sum("quantities"))["q"]
        or 0
    )
    done = OutboxMessage.Status.DONE
    return {
        "shipbob_calls": shipbob_calls,
        "shipbob_429": shipbob_429,
        "pages": OutboxMessage.objects.filter(action="inventory_pull", status=done).count(),
        "lookups": OutboxMessage.objects.filter(action="inventory_lookup", status=done).count(),
        "sets": sum(sets.values()),
        "stale_sets": sets.get("stale", 0),
        "applied_quantities": applied_quantities,
        "shopify_throttled": StoreCostBucket.objects.aggregate(t=Sum("throttled_total"))["t"] or 0,
    }
