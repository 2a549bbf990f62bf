"""Mapping invariants outside the admin: model validation, database constraints, the Admin role."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.inventory.models import MappingVersion, SkuMapping
from apps.inventory.services import mapping_save
from tests.inventory.factories import SkuMappingFactory

pytestmark = pytest.mark.django_db


def test_full_clean_refuses_a_second_sku_differing_only_in_case():
    SkuMappingFactory(shopify_sku="TEE-BLK-M")
    twin = SkuMapping(
        shopify_sku=" tee-blk-m", xero_item_code="X", xero_account_code="200", xero_tax_type="T"
    )
    with pytest.raises(ValidationError) as caught:
        twin.full_clean()
    assert list(caught.value.message_dict) == ["shopify_sku"]
    assert "already mapped (as 'TEE-BLK-M')" in caught.value.message_dict["shopify_sku"][0]


def test_mapping_save_validates_and_bumps_nothing_on_refusal(admin_user):
    SkuMappingFactory(shopify_sku="TEE", shopify_variant_id=5)
    twin = SkuMapping(
        shopify_sku="MUG",
        shopify_variant_id=5,
        xero_item_code="M",
        xero_account_code="200",
        xero_tax_type="T",
    )
    with pytest.raises(ValidationError, match="Variant 5 is already mapped by SKU 'TEE'"):
        mapping_save(actor=admin_user, mapping=twin, components=[(1, "", 1)], summary="add MUG")
    assert not MappingVersion.objects.exists()


def test_the_database_refuses_a_case_twin_even_without_validation():
    SkuMappingFactory(shopify_sku="TEE")
    with pytest.raises(IntegrityError), transaction.atomic():
        SkuMapping.objects.create(
            shopify_sku="tee", xero_item_code="X", xero_account_code="2", xero_tax_type="T"
        )


def test_the_database_refuses_empty_codes():
    with pytest.raises(IntegrityError), transaction.atomic():
        SkuMapping.objects.create(
            shopify_sku="TEE", xero_item_code="", xero_account_code="2", xero_tax_type="T"
        )


def test_the_admin_role_holds_the_mapping_permissions(admin_user):
    codenames = set(Group.objects.get(name="Admin").permissions.values_list("codename", flat=True))
    assert {
        "view_skumapping",
        "add_skumapping",
        "change_skumapping",
        "delete_skumapping",
        "view_mappingversion",
    } <= codenames
    assert admin_user.has_perm("inventory.change_skumapping")
    assert not admin_user.has_perm("inventory.change_mappingversion")
