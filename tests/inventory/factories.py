"""SKU mapping rows for tests."""

import factory

from apps.inventory.models import SkuMapping, WarehouseComponent


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
