"""sku_resolve_many: exactly one mapping per line, or a named problem — never a guess."""

import pytest

from apps.inventory.services import LineKey, Problem, sku_resolve_many
from tests.inventory.factories import SkuMappingFactory

pytestmark = pytest.mark.django_db


def test_line_without_sku_or_mapped_variant_is_no_sku():
    SkuMappingFactory(shopify_sku="TEE", shopify_variant_id=111)
    none_sku, empty_sku, blank_sku = sku_resolve_many(
        lines=[LineKey(None, None), LineKey("", 999), LineKey("   ", None)]
    )
    for resolution in (none_sku, empty_sku, blank_sku):
        assert not resolution.resolved
        assert resolution.problem == Problem.NO_SKU
    assert "variant 999" in empty_sku.detail
    assert "custom item" in none_sku.detail


def test_unknown_sku_is_named():
    SkuMappingFactory(shopify_sku="TEE")
    (resolution,) = sku_resolve_many(lines=[LineKey("MUG", None)])
    assert resolution.problem == Problem.UNKNOWN_SKU
    assert "'MUG'" in resolution.detail


def test_sku_matches_without_regard_to_case_and_spaces():
    mapping = SkuMappingFactory(shopify_sku="Tee-Blk-M")
    resolutions = sku_resolve_many(
        lines=[LineKey("TEE-BLK-M", None), LineKey(" tee-blk-m ", None), LineKey("Tee-Blk-M", None)]
    )
    assert [r.mapping.pk for r in resolutions] == [mapping.pk] * 3
    assert all(r.problem == "" for r in resolutions)


def test_variant_alone_resolves_a_line_without_sku():
    mapping = SkuMappingFactory(shopify_sku="TEE", shopify_variant_id=2**62 + 5)
    (resolution,) = sku_resolve_many(lines=[LineKey(None, 2**62 + 5)])
    assert resolution.mapping.pk == mapping.pk


def test_sku_and_variant_of_the_same_mapping_resolve():
    mapping = SkuMappingFactory(shopify_sku="TEE", shopify_variant_id=111)
    (resolution,) = sku_resolve_many(lines=[LineKey("tee", 111)])
    assert resolution.mapping.pk == mapping.pk


def test_sku_and_variant_pointing_at_two_mappings_is_ambiguous():
    SkuMappingFactory(shopify_sku="TEE", shopify_variant_id=111)
    SkuMappingFactory(shopify_sku="MUG", shopify_variant_id=222)
    (resolution,) = sku_resolve_many(lines=[LineKey("TEE", 222)])
    assert not resolution.resolved
    assert resolution.problem == Problem.AMBIGUOUS
    assert "'TEE'" in resolution.detail
    assert "'MUG'" in resolution.detail


def test_known_sku_with_unmapped_variant_resolves_by_sku():
    mapping = SkuMappingFactory(shopify_sku="TEE", shopify_variant_id=111)
    (resolution,) = sku_resolve_many(lines=[LineKey("TEE", 333)])
    assert resolution.mapping.pk == mapping.pk


def test_many_lines_take_a_fixed_number_of_queries(django_assert_max_num_queries):
    mappings = [SkuMappingFactory() for _ in range(5)]
    lines = [LineKey(m.shopify_sku.lower(), None) for m in mappings] * 4
    # Two lookups (SKU, variant) plus the components prefetch for each.
    with django_assert_max_num_queries(4):
        resolutions = sku_resolve_many(lines=lines)
    assert all(r.resolved for r in resolutions)
    assert all(len(r.mapping.components.all()) == 1 for r in resolutions)
