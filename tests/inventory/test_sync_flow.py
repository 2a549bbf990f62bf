"""Stock in from the ShipBob stand-in, stock out to the Shopify stand-in, over real HTTP."""

import pytest

from apps.inventory.models import SkuMapping, StockLevel, VariantStock
from apps.inventory.sync import inventory_pull_start
from apps.sandbox.shipbob.models import InventoryItem
from apps.sandbox.shopify.inventory import store_inventory_seed
from apps.sandbox.shopify.models import StoreInventoryLevel, StoreInventorySetCall
from apps.sync.models import OutboxMessage
from tests.peers import drain

pytestmark = pytest.mark.django_db(transaction=True)


def shopify_available() -> dict[str, int]:
    return dict(StoreInventoryLevel.objects.values_list("item__sku", "available"))


def sync_once() -> None:
    inventory_pull_start()
    drain("shipbob", "shopify")


def test_a_cold_sync_sets_every_variant_and_bundles_at_the_minimum_of_their_components(peers):
    store_inventory_seed()
    sync_once()
    assert StockLevel.objects.count() == InventoryItem.objects.count()
    shown = shopify_available()
    stock = {i.sku: i.fulfillable for i in InventoryItem.objects.all()}
    assert shown["TEE-BLK-S"] == stock["TEE-BLK-S"]
    assert shown["GIFT-SET-01"] == min(stock["TEE-BLK-M"], stock["MUG-WHT"])
    assert shown["GIFT-SET-02"] == min(stock["CAP-NVY"], stock["SOCK-3PK"])
    mapping = SkuMapping.objects.get(shopify_sku="TEE-BLK-S")
    assert mapping.shopify_inventory_item_id
    assert mapping.shopify_location_id
    row = VariantStock.objects.get(mapping=mapping)
    assert (row.last_pushed, row.shopify_known, row.push_key) == (shown["TEE-BLK-S"],) * 2 + ("",)
    # One call set all nine: changed quantities go ≤ 250 at a time.
    assert list(StoreInventorySetCall.objects.values_list("outcome", "quantities")) == [
        ("applied", 9)
    ]


def test_only_changed_quantities_are_pushed(peers):
    store_inventory_seed()
    sync_once()
    InventoryItem.objects.filter(sku="MUG-WHT").update(on_hand=7, committed=0)
    sync_once()
    calls = list(StoreInventorySetCall.objects.values_list("outcome", "quantities"))
    # The mug and the gift set it is part of: two quantities, one call.
    assert calls[-1] == ("applied", 2)
    assert shopify_available()["MUG-WHT"] == 7
    assert not OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD).exists()
