"""Each inventory exception raises its alert once, and resolves it when it clears."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.inventory.models import InventorySyncState, SkuMapping, StockLevel, VariantStock
from apps.inventory.sync import stock_refresh
from apps.orders.models import Order
from apps.sync.models import Alert
from tests.inventory.factories import SkuMappingFactory
from tests.orders.factories import OrderLineFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def tee(settings):
    settings.INVENTORY = {**settings.INVENTORY, "LOW_STOCK": 5, "DEFAULT_BUFFER": 0}
    StockLevel.objects.create(
        inventory_id=1, sku="ITEM-TEE", on_hand=50, fulfillable=50, read_at=NOW
    )
    mapping = SkuMappingFactory(shopify_sku="TEE", components=[(1, "", 1)])
    # As the Shopify lookup leaves it: found, and its level read.
    SkuMapping.objects.filter(pk=mapping.pk).update(
        shopify_inventory_item_id=11, shopify_location_id=7
    )
    VariantStock.objects.create(mapping=mapping, shopify_known=50, shopify_known_at=NOW)
    InventorySyncState.objects.create(pk=1, pull_started_at=NOW, pull_finished_at=NOW)
    return mapping


def alerts(kind: str) -> list[tuple[str, str]]:
    return list(Alert.objects.filter(kind=kind).values_list("dedupe_key", "status"))


def set_fulfillable(value: int, on_hand: int | None = None) -> None:
    StockLevel.objects.filter(inventory_id=1).update(
        fulfillable=value, on_hand=value if on_hand is None else on_hand
    )


def test_low_stock_raises_once_and_resolves_after_a_restock(tee):
    set_fulfillable(4)
    stock_refresh(now=NOW)
    stock_refresh(now=NOW + timedelta(minutes=1))
    assert alerts("inventory.low_stock") == [("inventory.low_stock:TEE", "open")]
    assert Alert.objects.get(kind="inventory.low_stock").count == 1
    set_fulfillable(40)
    stock_refresh(now=NOW + timedelta(minutes=2))
    assert alerts("inventory.low_stock") == [("inventory.low_stock:TEE", "resolved")]


def test_sell_out_eta_names_the_sku_and_the_minutes(tee):
    set_fulfillable(20)
    for _ in range(3):
        OrderLineFactory(
            sku_mapping=tee,
            quantity=10,
            order__status=Order.Status.SUBMITTED,
            order__shopify_created_at=NOW - timedelta(minutes=10),
        )
    stock_refresh(now=NOW)
    alert = Alert.objects.get(kind="inventory.sell_out")
    assert alert.message == "TEE sells out in ~40 min at 30.00/h."
    assert "q=TEE" in alert.link
    Order.objects.update(shopify_created_at=NOW - timedelta(hours=2))  # sales stopped
    stock_refresh(now=NOW + timedelta(minutes=1))
    assert alerts("inventory.sell_out") == [("inventory.sell_out:TEE", "resolved")]


def test_oversold_is_critical_and_clears_when_the_orders_fit(tee):
    set_fulfillable(3)
    line = OrderLineFactory(sku_mapping=tee, quantity=5, order__status=Order.Status.READY)
    stock_refresh(now=NOW)
    alert = Alert.objects.get(kind="inventory.oversold")
    assert alert.severity == "critical"
    assert "2 more unit(s)" in alert.message
    Order.objects.filter(pk=line.order_id).update(status=Order.Status.CANCELLED)
    stock_refresh(now=NOW + timedelta(minutes=1))
    assert alerts("inventory.oversold") == [("inventory.oversold:TEE", "resolved")]


def test_negative_stock_at_the_warehouse(tee):
    set_fulfillable(0, on_hand=-2)
    stock_refresh(now=NOW)
    assert alerts("inventory.negative_stock") == [("inventory.negative_stock:1", "open")]
    set_fulfillable(10)
    stock_refresh(now=NOW + timedelta(minutes=1))
    assert alerts("inventory.negative_stock") == [("inventory.negative_stock:1", "resolved")]


def test_a_warehouse_item_no_mapping_uses(tee):
    StockLevel.objects.create(inventory_id=2, sku="ORPHAN", fulfillable=9, read_at=NOW)
    stock_refresh(now=NOW)
    assert alerts("inventory.unmapped_item") == [("inventory.unmapped_item:2", "open")]
    SkuMappingFactory(shopify_sku="NEW", components=[(None, "ORPHAN", 1)])
    stock_refresh(now=NOW + timedelta(minutes=1))
    assert alerts("inventory.unmapped_item") == [("inventory.unmapped_item:2", "resolved")]


def test_a_mapped_variant_without_warehouse_item_is_never_pushed(tee):
    SkuMapping.objects.filter(pk=tee.pk).update(shopify_inventory_item_id=11)
    tee.components.update(inventory_id=99)
    rows = stock_refresh(now=NOW)
    assert rows[0].problem.startswith("ShipBob does not report warehouse item(s) 99")
    assert alerts("inventory.missing_item") == [("inventory.missing_item:TEE", "open")]
    assert not VariantStock.objects.exclude(push_key="").exists()
    tee.components.update(inventory_id=1)
    stock_refresh(now=NOW + timedelta(minutes=1))
    assert alerts("inventory.missing_item") == [("inventory.missing_item:TEE", "resolved")]


def test_drift_beyond_the_threshold_for_longer_than_the_window(tee, settings):
    settings.INVENTORY = {**settings.INVENTORY, "DRIFT_THRESHOLD": 2, "DRIFT_WINDOW_MINUTES": 15}
    VariantStock.objects.filter(pk=tee.pk).update(push_key="in-flight")  # the fix is not through
    VariantStock.objects.filter(pk=tee.pk).update(shopify_known=44)
    stock_refresh(now=NOW)
    stock_refresh(now=NOW + timedelta(minutes=14))
    assert alerts("inventory.drift") == []
    stock_refresh(now=NOW + timedelta(minutes=15))
    assert alerts("inventory.drift") == [("inventory.drift:TEE", "open")]
    VariantStock.objects.filter(pk=tee.pk).update(shopify_known=50)
    stock_refresh(now=NOW + timedelta(minutes=16))
    assert alerts("inventory.drift") == [("inventory.drift:TEE", "resolved")]


def test_a_stale_sync_when_no_pull_completes(tee, settings):
    settings.INVENTORY = {**settings.INVENTORY, "STALE_SYNC_MINUTES": 30}
    stock_refresh(now=NOW + timedelta(minutes=29))
    assert alerts("inventory.stale_sync") == []
    stock_refresh(now=NOW + timedelta(minutes=31))
    assert alerts("inventory.stale_sync") == [("inventory.stale_sync:all", "open")]
    InventorySyncState.objects.update(pull_finished_at=NOW + timedelta(minutes=32))
    stock_refresh(now=NOW + timedelta(minutes=33))
    assert alerts("inventory.stale_sync") == [("inventory.stale_sync:all", "resolved")]


def test_a_mapping_shopify_could_not_settle_alerts_and_is_never_pushed(tee):
    SkuMapping.objects.filter(pk=tee.pk).update(
        shopify_inventory_item_id=None,
        shopify_location_id=None,
        shopify_lookup_problem="Ambiguous: 2 Shopify variants carry SKU TEE (1, 2).",
    )
    set_fulfillable(20)
    stock_refresh(now=NOW)
    assert alerts("inventory.mapping_unresolved") == [("inventory.mapping_unresolved:TEE", "open")]
    assert not VariantStock.objects.exclude(push_key="").exists()


def test_before_the_first_pull_nothing_is_missing_and_nothing_is_pushed(tee):
    InventorySyncState.objects.update(pull_finished_at=None)
    StockLevel.objects.all().delete()
    rows = stock_refresh(now=NOW)
    assert rows[0].problem == "Waiting for the first complete ShipBob pull."
    assert not Alert.objects.filter(kind__startswith="inventory.").exists()


def test_a_push_waiting_only_briefly_is_not_a_stale_sync(tee, settings):
    settings.INVENTORY = {**settings.INVENTORY, "STALE_SYNC_MINUTES": 30}
    set_fulfillable(40)  # differs from Shopify's 50: a push is queued
    stock_refresh(now=NOW)
    assert VariantStock.objects.exclude(push_key="").exists()
    assert alerts("inventory.stale_sync") == []
