"""Smoke run of the inventory sync bench: 40 SKUs (4 bundles), 10 orders per phase, gunicorn and pumps.

No timing is asserted (the figures live in docs/benchmarks.md); what must hold on any machine is that
Shopify ends equal to every computed value, with no stale overwrite and no call beyond the minimum.
"""

import pytest

from apps.inventory.models import VariantStock
from apps.sandbox.shopify.models import StoreInventoryLevel
from bench.inventory_sync.run import bench_run

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_forty_skus_converge_with_the_minimum_calls(bench_database_url):
    result = bench_run(
        database_url=bench_database_url,
        skus=40,
        bundles=4,
        backlog=10,
        window=2.0,
        limit=20,
        capacity=2,
        workers=2,
        timeout=120,
        prepare=False,
    )
    cold, change = result.phase("cold"), result.phase("change")
    assert cold.converged, result.lines()
    assert change.converged, result.lines()
    assert cold.stale_sets == change.stale_sets == 0
    assert change.calls == change.minimum, result.lines()
    assert cold.pages == change.pages == 1
    shown = dict(StoreInventoryLevel.objects.values_list("item_id", "available"))
    for row in VariantStock.objects.select_related("mapping"):
        assert shown[row.mapping.shopify_inventory_item_id] == row.available
