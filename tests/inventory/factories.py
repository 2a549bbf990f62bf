"""SKU mapping rows for tests."""

from decimal import Decimal

import factory

from apps.inventory.models import SkuMapping, TaxTypeMapping, WarehouseComponent


class SkuMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SkuMapping
        skip_postgeneration_save = True

    shopify_sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    title = factory.LazyAttribute(lambda mapping: f"Item {mapping.shopify_sku}")
    warehouse_managed = True
    xero_item_code = factory.LazyAttribute(lambda mapping: mapping.shopify_sku[:30])
    xero_account_code = "200"
    xero_tax_type = "OUTPUT2"

    @factory.post_generation
    def components(self, create, extracted, **kwargs):
        """`components=[(inventory_id, reference, quantity), …]`; one item by default when shipped."""
        if not create:
            return
        if extracted is None:
            extracted = [(90_000 + self.pk, "", 1)] if self.warehouse_managed else []
        for inventory_id, reference, quantity in extracted:
            WarehouseComponent.objects.create(
                mapping=self, inventory_id=inventory_id, reference=reference, quantity=quantity
            )


# The tax lines the tests' Shopify payloads carry, mapped as an Admin would (an order with an
# unmapped tax line is held): the factories' "VAT" and "State Tax" at any rate, and the simulated
# shops' lines as the demo seeds them. tests/conftest.py maps them for every database test.
TEST_TAX_TYPES = (("VAT", "OUTPUT2", Decimal("20")), ("State Tax", "TAX", Decimal("8.875")))


def tax_types_mapped() -> None:
    from o2c_portal.management.commands.seed_demo import DEMO_TAX_TYPES

    rows = [
        TaxTypeMapping(shopify_title=title, xero_tax_type=tax_type, xero_rate=rate)
        for title, tax_type, rate in TEST_TAX_TYPES
    ] + [
        TaxTypeMapping(
            shopify_title=title,
            shopify_rate=Decimal(rate),
            currency=currency,
            country_code=country,
            xero_tax_type=tax_type,
            xero_rate=Decimal(xero_rate),
        )
        for title, rate, currency, country, tax_type, xero_rate in DEMO_TAX_TYPES
    ]
    if not TaxTypeMapping.objects.exists():
        TaxTypeMapping.objects.bulk_create(rows)
