"""The drift report over real HTTP: every Shopify level read back, differences listed and corrected."""

import pytest

from apps.inventory.drift import drift_report_start
from apps.inventory.models import DriftReport, VariantStock
from apps.inventory.sync import inventory_pull_start
from apps.sandbox.shopify.inventory import store_inventory_seed
from apps.sandbox.shopify.models import StoreInventoryLevel
from tests.peers import drain

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_level_edited_in_shopify_is_reported_and_set_back(peers, ops_user):
    store_inventory_seed()
    inventory_pull_start()
    drain("shipbob", "shopify")
    computed = VariantStock.objects.get(mapping__shopify_sku="CAP-NVY").available
    StoreInventoryLevel.objects.filter(item__sku="CAP-NVY").update(available=3)  # by hand
    report = drift_report_start(trigger=DriftReport.Trigger.ON_DEMAND, actor=ops_user)
    drain("shopify")
    report.refresh_from_db()
    assert report.finished_at is not None
    assert report.items_read == 9
    assert report.differences == [
        {"sku": "CAP-NVY", "shopify": 3, "computed": computed, "corrected": f"set to {computed}"}
    ]
    assert StoreInventoryLevel.objects.get(item__sku="CAP-NVY").available == computed
