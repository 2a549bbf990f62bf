"""Pushes to the Shopify stand-in: compare-and-set, idempotency keys, mappings never guessed, lanes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.inventory.models import SkuMapping, VariantStock
from apps.inventory.sync import inventory_pull_start
from apps.sandbox.shipbob.models import InventoryItem
from apps.sandbox.shopify.inventory import store_inventory_seed
from apps.sandbox.shopify.models import (
    StoreInventoryItem,
    StoreInventoryLevel,
    StoreInventorySetCall,
    StoreLocation,
)
from apps.sync import registry
from apps.sync.models import Alert, OutboxMessage
from apps.sync.outbox import outbox_claim, outbox_enqueue
from apps.sync.pumps import pump_run
from tests.peers import drain

pytestmark = pytest.mark.django_db(transaction=True)


def shown(sku: str) -> int:
    return StoreInventoryLevel.objects.get(item__sku=sku).available


def outcomes() -> list[str]:
    return list(StoreInventorySetCall.objects.order_by("id").values_list("outcome", flat=True))


def sync_once() -> None:
    inventory_pull_start()
    drain("shipbob", "shopify")


def test_a_stale_compare_is_read_again_and_corrected_never_overwritten(peers):
    store_inventory_seed()
    sync_once()
    assert shown("MUG-WHT") == InventoryItem.objects.get(sku="MUG-WHT").fulfillable
    # A sale in Shopify we have not heard of yet, and a change at the warehouse.
    StoreInventoryLevel.objects.filter(item__sku="MUG-WHT").update(available=F_minus(3))
    InventoryItem.objects.filter(sku="MUG-WHT").update(on_hand=100, committed=0)
    sync_once()
    # Refused whole (nothing applied), read back, recomputed and sent again with a new key.
    assert outcomes() == ["applied", "stale", "applied"]
    stale_call, corrected = StoreInventorySetCall.objects.order_by("id")[1:3]
    assert stale_call.key != corrected.key
    row = VariantStock.objects.get(mapping__shopify_sku="MUG-WHT")
    assert shown("MUG-WHT") == row.available == row.shopify_known == row.last_pushed == 100


def F_minus(units: int):  # noqa: N802 - reads as the F() expression it builds
    from django.db.models import F

    return F("available") - units


def test_a_crash_after_shopify_applied_resends_the_same_key_and_changes_nothing_twice(peers):
    store_inventory_seed()
    sync_once()
    InventoryItem.objects.filter(sku="TEE-BLK-S").update(on_hand=77, committed=0)
    inventory_pull_start()
    drain("shipbob")
    reg, batch = outbox_claim(peer="shopify")
    assert reg.action == "inventory_set"
    reg.send(batch)  # Shopify applied it; the worker dies before recording the outcome
    assert shown("TEE-BLK-S") == 77
    StoreInventoryLevel.objects.filter(item__sku="TEE-BLK-S").update(available=76)  # a sale
    OutboxMessage.objects.filter(pk=batch[0].pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    pump_run("shopify", once=True)
    message = OutboxMessage.objects.get(pk=batch[0].pk)
    assert (message.status, message.attempts) == ("done", 2)
    assert outcomes()[-2:] == ["applied", "replayed"]
    assert shown("TEE-BLK-S") == 76  # the re-send did not set 77 over the sale


def test_an_ambiguous_mapping_is_never_pushed(peers):
    store_inventory_seed()
    SkuMapping.objects.filter(shopify_sku="TEE-BLK-S").update(shopify_variant_id=None)
    twin = StoreInventoryItem.objects.create(sku="TEE-BLK-S", variant_id=123)
    StoreInventoryLevel.objects.create(item=twin, location=StoreLocation.objects.get(), available=0)
    sync_once()
    mapping = SkuMapping.objects.get(shopify_sku="TEE-BLK-S")
    assert mapping.shopify_inventory_item_id is None
    assert mapping.shopify_lookup_problem.startswith("Ambiguous: 2 Shopify variants")
    assert list(
        StoreInventoryLevel.objects.filter(item__sku="TEE-BLK-S").values_list(
            "available", flat=True
        )
    ) == [0, 0]
    assert shown("TEE-BLK-M") > 0  # the others were pushed
    assert Alert.objects.filter(dedupe_key="inventory.mapping_unresolved:TEE-BLK-S").exists()


def test_an_inventory_pull_never_delays_a_ready_order(peers, settings):
    settings.INVENTORY = {**settings.INVENTORY, "PULL_PAGE_SIZE": 3}
    inventory_pull_start()
    order = outbox_enqueue(
        peer="shipbob",
        action="order_create",
        idempotency_key="shipbob.order_create:lane-test",
        payload={"order_id": 0},
        priority=10,
    )
    reg, batch = outbox_claim(peer="shipbob")
    assert [m.pk for m in batch] == [order.pk]
    OutboxMessage.objects.filter(pk=order.pk).update(status="done")
    pump_run_one_step()
    # Page 1 is in; page 2 waits behind an order that became ready mid-pull.
    second = outbox_enqueue(
        peer="shipbob",
        action="order_create",
        idempotency_key="shipbob.order_create:lane-test-2",
        payload={"order_id": 0},
        priority=10,
    )
    reg, batch = outbox_claim(peer="shipbob")
    assert [m.pk for m in batch] == [second.pk]
    pulls = OutboxMessage.objects.filter(action="inventory_pull").order_by("id")
    assert [(m.payload["page"], m.status) for m in pulls] == [(1, "done"), (2, "pending")]


def pump_run_one_step() -> None:
    from apps.sync.outbox import outbox_pump_step

    assert registry.action_get("shipbob", "inventory_pull") is not None
    outbox_pump_step(peer="shipbob")
