"""What Shopify should show: bundle arithmetic, demand from orders, buffers and peak profiles."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.inventory.models import PeakBufferProfile, StockLevel, StockPolicy, VariantStock
from apps.inventory.stock import Component, peak_profiles_apply, stock_compute, variant_figures
from apps.inventory.sync import inventory_tick
from apps.orders.models import Order
from tests.inventory.factories import SkuMappingFactory
from tests.orders.factories import OrderLineFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def level(inventory_id: int, fulfillable: int, sku: str = "") -> StockLevel:
    return StockLevel.objects.create(
        inventory_id=inventory_id,
        sku=sku or f"ITEM-{inventory_id}",
        on_hand=fulfillable,
        fulfillable=fulfillable,
        read_at=NOW,
    )


def figures() -> dict[str, VariantStock]:
    return {row.mapping.shopify_sku: row for row in stock_compute(now=NOW)}


def test_a_bundle_is_the_minimum_of_its_components_in_whole_bundles():
    result = variant_figures(
        components=[Component("1", 2), Component("2", 1)],
        fulfillable={"1": 9, "2": 7},
        component_pending={},
        component_velocity={},
        own_pending=0,
        buffer_for=lambda units: 0,
    )
    assert (result.units, result.available) == (4, 4)  # ⌊9 / 2⌋ = 4 < 7


def test_a_component_shared_by_two_bundles_counts_every_bundles_demand_once():
    level(1, 10)  # the tee, in both bundles
    level(2, 50)
    level(3, 50)
    tee = SkuMappingFactory(shopify_sku="TEE", components=[(1, "", 1)])
    gift_a = SkuMappingFactory(shopify_sku="GIFT-A", components=[(1, "", 1), (2, "", 1)])
    gift_b = SkuMappingFactory(shopify_sku="GIFT-B", components=[(1, "", 2), (3, "", 1)])
    # Not yet at the warehouse: 1 tee, 2 gift A, 1 gift B → the tee owes 1 + 2 + 2 = 5.
    for mapping, quantity in ((tee, 1), (gift_a, 2), (gift_b, 1)):
        OrderLineFactory(sku_mapping=mapping, quantity=quantity, order__status=Order.Status.READY)
    # Already at the warehouse (its stock counts it): not demand.
    OrderLineFactory(sku_mapping=tee, quantity=4, order__status=Order.Status.SUBMITTED)
    rows = figures()
    assert rows["TEE"].available == 5
    assert rows["GIFT-A"].available == 5
    assert rows["GIFT-B"].available == 2  # ⌊5 / 2⌋
    assert rows["TEE"].pending == 1
    assert rows["GIFT-A"].pending == 2


def test_orders_beyond_stock_leave_the_variant_oversold_and_shopify_at_zero():
    level(1, 3)
    tee = SkuMappingFactory(shopify_sku="TEE", components=[(1, "", 1)])
    OrderLineFactory(sku_mapping=tee, quantity=5, order__status=Order.Status.RECEIVED)
    row = figures()["TEE"]
    assert (row.warehouse_units, row.available) == (-2, 0)


def test_the_buffer_is_the_skus_own_or_the_default(settings):
    settings.INVENTORY = {**settings.INVENTORY, "DEFAULT_BUFFER": 2}
    level(1, 10)
    level(2, 10)
    own = SkuMappingFactory(shopify_sku="OWN", components=[(1, "", 1)])
    SkuMappingFactory(shopify_sku="DEFAULT", components=[(2, "", 1)])
    StockPolicy.objects.create(mapping=own, buffer=5)
    rows = figures()
    assert (rows["OWN"].buffer, rows["OWN"].available) == (5, 5)
    assert (rows["DEFAULT"].buffer, rows["DEFAULT"].available) == (2, 8)


def test_a_peak_profile_applies_and_reverts_itself_on_time_audited():
    level(1, 40)
    level(2, 40)
    SkuMappingFactory(shopify_sku="NAMED", components=[(1, "", 1)])
    SkuMappingFactory(shopify_sku="OTHER", components=[(2, "", 1)])
    PeakBufferProfile.objects.create(
        name="Black Friday",
        starts_at=NOW + timedelta(hours=1),
        ends_at=NOW + timedelta(hours=3),
        percent=Decimal("25"),
        buffers={"NAMED": 12},
    )
    with time_machine.travel(NOW + timedelta(minutes=59), tick=False):
        inventory_tick()
        rows = {r.mapping.shopify_sku: r for r in VariantStock.objects.select_related("mapping")}
        assert (rows["NAMED"].available, rows["OTHER"].available) == (40, 40)
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        inventory_tick()
        rows = {r.mapping.shopify_sku: r for r in VariantStock.objects.select_related("mapping")}
        assert (rows["NAMED"].buffer, rows["NAMED"].available) == (12, 28)
        assert (rows["OTHER"].buffer, rows["OTHER"].available) == (10, 30)  # ⌈25% of 40⌉
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        inventory_tick()
        rows = {r.mapping.shopify_sku: r for r in VariantStock.objects.select_related("mapping")}
        assert (rows["NAMED"].available, rows["OTHER"].available) == (40, 40)
    verbs = list(AuditEvent.objects.order_by("id").values_list("verb", flat=True))
    assert [v for v in verbs if v.startswith("peak_profile.")] == [
        "peak_profile.applied",
        "peak_profile.reverted",
    ]
    profile = PeakBufferProfile.objects.get()
    assert profile.applied_at == NOW + timedelta(hours=1)
    assert profile.reverted_at == NOW + timedelta(hours=3)


def test_a_profile_whose_window_passed_unseen_is_closed_without_applying():
    profile = PeakBufferProfile.objects.create(
        name="Missed", starts_at=NOW, ends_at=NOW + timedelta(hours=1), percent=Decimal("10")
    )
    peak_profiles_apply(now=NOW + timedelta(hours=2))
    profile.refresh_from_db()
    assert profile.applied_at is None
    assert profile.reverted_at == NOW + timedelta(hours=2)


def test_velocity_gives_a_sell_out_time(settings):
    settings.INVENTORY = {**settings.INVENTORY, "VELOCITY_WINDOW_MINUTES": 60}
    level(1, 30)
    tee = SkuMappingFactory(shopify_sku="TEE", components=[(1, "", 1)])
    for _ in range(4):  # 40 units in the last hour, already at the warehouse
        OrderLineFactory(
            sku_mapping=tee,
            quantity=10,
            order__status=Order.Status.SUBMITTED,
            order__shopify_created_at=NOW - timedelta(minutes=30),
        )
    row = figures()["TEE"]
    assert row.velocity_per_hour == Decimal("40.00")
    assert row.sell_out_at == NOW + timedelta(minutes=45)  # 30 left at 40 an hour
    assert timezone.is_aware(row.sell_out_at)
