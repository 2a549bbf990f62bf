"""Ops opens the inventory page, filters to exceptions (htmx) and reads a SKU's sell-out ETA."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.inventory.models import InventorySyncState, SkuMapping, StockLevel, VariantStock
from apps.inventory.sync import stock_refresh
from apps.orders.models import Order
from tests.factories import PASSWORD
from tests.inventory.factories import SkuMappingFactory
from tests.orders.factories import OrderLineFactory

pytestmark = pytest.mark.browser


def stocked(sku: str, inventory_id: int, fulfillable: int) -> SkuMapping:
    now = timezone.now()
    StockLevel.objects.create(
        inventory_id=inventory_id,
        sku=sku,
        on_hand=fulfillable,
        fulfillable=fulfillable,
        read_at=now,
    )
    mapping = SkuMappingFactory(shopify_sku=sku, components=[(inventory_id, "", 1)])
    SkuMapping.objects.filter(pk=mapping.pk).update(
        shopify_inventory_item_id=inventory_id, shopify_location_id=1
    )
    VariantStock.objects.create(mapping=mapping, shopify_known=fulfillable, shopify_known_at=now)
    return mapping


def test_ops_filters_to_exceptions_and_sees_a_sell_out_eta(
    page, live_server, ops_user, sign_in_as, screenshot_dir
):
    tee = stocked("TEE-BLK-M", 700002, 40)
    stocked("MUG-WHT", 700005, 300)
    for _ in range(6):  # 60 tees in the last hour: 40 left sell out in ~40 minutes
        OrderLineFactory(
            sku_mapping=tee,
            quantity=10,
            order__status=Order.Status.SUBMITTED,
            order__shopify_created_at=timezone.now() - timedelta(minutes=20),
        )
    InventorySyncState.objects.create(
        pk=1, pull_started_at=timezone.now(), pull_finished_at=timezone.now()
    )
    stock_refresh()
    sign_in_as(page, ops_user.email, PASSWORD)
    page.wait_for_url("**/ops/")  # Ops land on the dashboard
    page.get_by_role("link", name="Inventory").first.click()
    page.wait_for_url("**/inventory/")
    table = page.get_by_test_id("stock-table")
    assert table.locator("tr[data-sku='MUG-WHT']").count() == 1
    page.screenshot(path=screenshot_dir / "inventory-all.png", full_page=True)
    page.evaluate("window.__same_document = true")

    page.get_by_test_id("stock-filter").select_option("exceptions")
    table.locator("tr[data-sku='MUG-WHT']").wait_for(state="detached")
    row = table.locator("tr[data-sku='TEE-BLK-M']")
    assert row.get_by_test_id("eta").inner_text() == "~40 min"
    assert page.evaluate("window.__same_document") is True
    assert "only=exceptions" in page.url
    page.screenshot(path=screenshot_dir / "inventory-exceptions.png", full_page=True)
    assert not page.console_errors, page.console_errors
