"""The Shopify stand-in's inventory over real HTTP: reads, compare-and-set, @idempotent, limits."""

import pytest

from apps.sandbox.shopify.inventory import store_inventory_seed
from apps.sandbox.shopify.models import StoreInventoryLevel, StoreLocation
from integrations.http import PeerError
from integrations.shopify.client import INVENTORY_SET_QUANTITIES, QuantityChange

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def store(shopify_live):
    store_inventory_seed()
    return StoreLocation.objects.get()


def level(sku: str) -> StoreInventoryLevel:
    return StoreInventoryLevel.objects.get(item__sku=sku)


def test_items_are_found_by_sku_with_their_level_at_the_location(live_client, store):
    assert [loc.name for loc in live_client.locations()] == [store.name]
    items = live_client.inventory_items(skus=["TEE-BLK-M", "MUG-WHT"], location_id=store.pk)
    assert sorted(i.sku for i in items) == ["MUG-WHT", "TEE-BLK-M"]
    assert all(i.available == 0 and i.variant_id for i in items)
    page = live_client.inventory_levels(location_id=store.pk)
    assert len(page.levels) == 9
    assert page.next_cursor is None


def test_a_stale_compare_refuses_the_whole_call(live_client, store):
    tee, mug = level("TEE-BLK-M"), level("MUG-WHT")
    StoreInventoryLevel.objects.filter(pk=mug.pk).update(available=4)
    answer = live_client.inventory_set_quantities(
        changes=[
            QuantityChange(tee.item_id, store.pk, 10, 0),
            QuantityChange(mug.item_id, store.pk, 10, 0),  # Shopify has 4, not 0
        ],
        idempotency_key="key-stale",
    )
    assert (answer.applied, answer.stale) == (False, (mug.item_id,))
    assert (level("TEE-BLK-M").available, level("MUG-WHT").available) == (0, 4)


def test_a_key_again_with_the_same_input_changes_nothing_and_with_another_is_refused(
    live_client, store
):
    tee = level("TEE-BLK-M")
    change = QuantityChange(tee.item_id, store.pk, 10, 0)
    assert live_client.inventory_set_quantities(changes=[change], idempotency_key="k1").applied
    StoreInventoryLevel.objects.filter(pk=tee.pk).update(available=9)  # a sale since
    again = live_client.inventory_set_quantities(changes=[change], idempotency_key="k1")
    assert again.applied
    assert level("TEE-BLK-M").available == 9
    other = QuantityChange(tee.item_id, store.pk, 12, 9)
    refused = live_client.inventory_set_quantities(changes=[other], idempotency_key="k1")
    assert not refused.applied
    assert refused.user_errors[0].startswith("IDEMPOTENCY_KEY_PARAMETER_MISMATCH")


def test_without_idempotent_or_above_250_quantities_the_call_is_an_error(live_client, store):
    tee = level("TEE-BLK-M")
    quantity = {
        "inventoryItemId": f"gid://shopify/InventoryItem/{tee.item_id}",
        "locationId": f"gid://shopify/Location/{store.pk}",
        "quantity": 1,
        "changeFromQuantity": 0,
    }
    bare = INVENTORY_SET_QUANTITIES.replace(" @idempotent(key: $key)", "").replace(
        ", $key: String!", ""
    )
    with pytest.raises(PeerError, match="@idempotent directive"):
        live_client.execute(bare, {"input": {"name": "available", "quantities": [quantity]}})
    many = {"name": "available", "quantities": [quantity] * 251}
    with pytest.raises(PeerError, match="maximum allowed of 250"):
        live_client.execute(INVENTORY_SET_QUANTITIES, {"input": many, "key": "k-many"})
    without_from = {k: v for k, v in quantity.items() if k != "changeFromQuantity"}
    with pytest.raises(PeerError, match="changeFromQuantity is required"):
        live_client.execute(
            INVENTORY_SET_QUANTITIES,
            {"input": {"name": "available", "quantities": [without_from]}, "key": "k-from"},
        )
    assert level("TEE-BLK-M").available == 0


def test_the_cost_bucket_throttles_reads(live_client, store, settings):
    # A page requests 753 points and is charged for the 9 levels it returns: the second request
    # finds the bucket short of its requested cost.
    settings.SANDBOX_SHOPIFY = {"MAXIMUM_AVAILABLE": 760.0, "RESTORE_RATE": 1.0}
    live_client.throttle_retries = 0
    live_client.inventory_levels(location_id=store.pk)
    with pytest.raises(PeerError, match="THROTTLED") as caught:
        live_client.inventory_levels(location_id=store.pk)
    assert caught.value.retryable
    assert caught.value.retry_after > 0
