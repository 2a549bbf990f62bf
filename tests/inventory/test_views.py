"""The inventory page, its CSV and the drift report: what each role sees and does."""

import csv
import io
from datetime import UTC, datetime

import pytest

from apps.audit.models import AuditEvent
from apps.inventory.models import DriftReport, SkuMapping, StockLevel, VariantStock
from apps.sync.models import OutboxMessage
from tests.inventory.factories import SkuMappingFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def catalogue():
    rows = []
    for index in range(30):
        mapping = SkuMappingFactory(shopify_sku=f"SKU-{index:02d}")
        StockLevel.objects.create(
            inventory_id=90_000 + mapping.pk, fulfillable=100, on_hand=100, read_at=NOW
        )
        rows.append(VariantStock.objects.create(mapping=mapping, available=100, computed_at=NOW))
    bundle = SkuMappingFactory(shopify_sku="GIFT", components=[(1, "", 1), (2, "", 1)])
    VariantStock.objects.create(mapping=bundle, available=3, computed_at=NOW)
    low = rows[0]
    low.available = 2
    low.save()
    return rows


def skus(response) -> list[str]:
    return [row.mapping.shopify_sku for row in response.context["page_obj"]]


def test_the_page_lists_every_sku_in_a_fixed_number_of_queries(
    client, ops_user, catalogue, django_assert_max_num_queries
):
    client.force_login(ops_user)
    with django_assert_max_num_queries(12):
        response = client.get("/inventory/")
    assert response.status_code == 200
    assert len(skus(response)) == 31
    assert b"Run drift report now" in response.content


def test_filters_and_search(client, ops_user, catalogue, settings):
    settings.INVENTORY = {**settings.INVENTORY, "LOW_STOCK": 5}
    client.force_login(ops_user)
    assert skus(client.get("/inventory/?only=low")) == ["GIFT", "SKU-00"]
    assert skus(client.get("/inventory/?only=bundles")) == ["GIFT"]
    assert skus(client.get("/inventory/?only=exceptions")) == ["GIFT", "SKU-00"]
    assert skus(client.get("/inventory/?q=sku-1")) == [f"SKU-{i}" for i in range(10, 20)]
    partial = client.get("/inventory/?only=bundles", HTTP_HX_REQUEST="true")
    assert b"<h1>" not in partial.content
    assert b'data-sku="GIFT"' in partial.content


def test_a_variant_that_is_not_pushed_is_an_exception(client, ops_user, catalogue):
    VariantStock.objects.filter(mapping__shopify_sku="SKU-05").update(
        problem="Shopify has no inventory item with SKU SKU-05."
    )
    client.force_login(ops_user)
    response = client.get("/inventory/?only=exceptions")
    assert "SKU-05" in skus(response)
    assert b"not pushed" in response.content


def test_the_csv_has_a_row_per_sku_with_the_figures(client, support_user, catalogue):
    client.force_login(support_user)  # read only, but reads everything
    response = client.get("/inventory/export.csv?only=bundles")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["sku"], r["available"]) for r in rows] == [("GIFT", "3")]
    assert b"Run drift report now" not in client.get("/inventory/").content


def test_ops_runs_a_drift_report_on_demand(client, ops_user, catalogue):
    SkuMapping.objects.update(shopify_location_id=7, shopify_inventory_item_id=1)
    client.force_login(ops_user)
    response = client.post("/inventory/drift-reports/run/")
    report = DriftReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/inventory/drift-reports/{report.pk}/"
    assert (report.trigger, report.requested_by) == ("on_demand", ops_user)
    message = OutboxMessage.objects.get(action="inventory_read")
    assert message.payload["locations"] == [7]
    assert AuditEvent.objects.filter(verb="drift_report.requested", actor=ops_user).exists()
    page = client.get(response["Location"])
    assert b"still reading Shopify" in page.content
