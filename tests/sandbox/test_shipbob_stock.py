"""The sandbox page's ShipBob stock: listed, and restocked by a person (the demo clears a low stock)."""

import pytest

from apps.sandbox.shipbob.models import InventoryItem
from apps.sandbox.shipbob.warehouse import inventory_seed

pytestmark = pytest.mark.django_db


def test_ops_sees_the_warehouse_stock_and_restocks_an_item(client, ops_user):
    inventory_seed()
    tee = InventoryItem.objects.get(sku="TEE-BLK-M")
    client.force_login(ops_user)
    page = client.get("/sandbox/")
    assert f'id="stock-{tee.inventory_id}"' in page.content.decode()
    response = client.post(
        "/sandbox/shipbob/restock/", {"inventory_id": tee.inventory_id, "quantity": 100}
    )
    assert response.status_code == 302
    tee.refresh_from_db()
    assert tee.on_hand == 145  # the demo starts it short at 45
    assert tee.fulfillable == 145


def test_a_restock_of_nothing_or_of_an_unknown_item_changes_nothing(client, ops_user):
    inventory_seed()
    client.force_login(ops_user)
    client.post("/sandbox/shipbob/restock/", {"inventory_id": 700002, "quantity": 0})
    client.post("/sandbox/shipbob/restock/", {"inventory_id": 1, "quantity": 5})
    assert InventoryItem.objects.get(sku="TEE-BLK-M").on_hand == 45


def test_restocking_needs_the_sandbox_permission(client, support_user):
    client.force_login(support_user)
    response = client.post("/sandbox/shipbob/restock/", {"inventory_id": 700002, "quantity": 5})
    assert response.status_code == 403
