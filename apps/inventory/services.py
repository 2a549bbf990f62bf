"""Resolving Shopify lines through the mapping tables, and versioning every change to them."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Max, QuerySet
from django.db.models.functions import Upper

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.inventory.changes import (
    ComponentSpec,
    MappingState,
    mapping_change_summary,
    mapping_state_diff,
)
from apps.inventory.models import MappingVersion, ShippingMethodMapping, SkuMapping


class Problem:
    NO_SKU = "no_sku"
    UNKNOWN_SKU = "unknown_sku"
    AMBIGUOUS = "ambiguous_sku"


@dataclass(frozen=True)
class LineKey:
    sku: str | None
    variant_id: int | None


@dataclass(frozen=True)
class SkuResolution:
    mapping: SkuMapping | None
    problem: str = ""
    detail: str = ""

    @property
    def resolved(self) -> bool:
        return self.mapping is not None


def sku_resolve_many(*, lines: Iterable[LineKey]) -> list[SkuResolution]:
    """Resolve each line by SKU and by variant id, in two queries; never guess.

    A line is resolved when exactly one mapping matches it. Its SKU and its variant pointing at two
    different mappings is ambiguous; no SKU and no mapped variant is a hold.
    """
    lines = list(lines)
    skus = {line.sku.strip().upper() for line in lines if line.sku and line.sku.strip()}
    variants = {line.variant_id for line in lines if line.variant_id is not None}
    by_sku: dict[str, SkuMapping] = {}
    by_variant: dict[int, SkuMapping] = {}
    if skus or variants:
        query = SkuMapping.objects.prefetch_related("components")
        sku_query = query.annotate(sku_upper=Upper("shopify_sku")).filter(sku_upper__in=skus)
        for mapping in sku_query if skus else []:
            by_sku[mapping.shopify_sku.upper()] = mapping
        for mapping in query.filter(shopify_variant_id__in=variants) if variants else []:
            by_variant[mapping.shopify_variant_id] = mapping
    return [_resolve_one(line, by_sku, by_variant) for line in lines]


def _resolve_one(line: LineKey, by_sku: dict, by_variant: dict) -> SkuResolution:
    sku = (line.sku or "").strip()
    sku_match = by_sku.get(sku.upper()) if sku else None
    variant_match = by_variant.get(line.variant_id) if line.variant_id is not None else None
    if sku_match and variant_match and sku_match.pk != variant_match.pk:
        return SkuResolution(
            None,
            Problem.AMBIGUOUS,
            f"SKU {sku!r} maps to {sku_match.shopify_sku!r} but variant {line.variant_id} maps to "
            f"{variant_match.shopify_sku!r}. Fix one of the two mappings.",
        )
    if sku_match or variant_match:
        return SkuResolution(sku_match or variant_match)
    if not sku:
        where = f"variant {line.variant_id}" if line.variant_id is not None else "a custom item"
        return SkuResolution(
            None,
            Problem.NO_SKU,
            f"The line has no SKU ({where}). Set the SKU in Shopify, or map the variant id in the "
            "SKU mapping table.",
        )
    return SkuResolution(
        None,
        Problem.UNKNOWN_SKU,
        f"SKU {sku!r} is not in the SKU mapping table. Add it, then release the hold.",
    )


def mapping_version_current() -> int:
    return MappingVersion.objects.aggregate(number=Max("id"))["number"] or 0


def mapping_version_bump(*, actor, summary: str) -> MappingVersion:
    """Record a change to the mapping tables (call inside the transaction that made it)."""
    version = MappingVersion.objects.create(
        changed_by=actor if getattr(actor, "is_authenticated", False) else None,
        summary=summary[:500],
    )
    audit_record(actor=actor, verb=verbs.MAPPING_CHANGED, target=version, data={"summary": summary})
    return version


# --- Impact of a mapping change ------------------------------------------------------------------
# Apps above inventory (orders, invoicing) register a function that lists what a change to these
# SKUs / variants would touch, so the admin sees it before saving without inventory importing them.


@dataclass(frozen=True)
class Impact:
    label: str
    url: str
    detail: str = ""


ImpactProvider = Callable[[set[str], set[int]], list[Impact]]
_impact_providers: list[ImpactProvider] = []


def mapping_impact_provider(provider: ImpactProvider) -> ImpactProvider:
    if provider not in _impact_providers:
        _impact_providers.append(provider)
    return provider


def mapping_impact(*, skus: Iterable[str], variant_ids: Iterable[int]) -> list[Impact]:
    sku_set = {sku.strip().upper() for sku in skus if sku and sku.strip()}
    variant_set = {variant for variant in variant_ids if variant is not None}
    impacts: list[Impact] = []
    for provider in _impact_providers:
        impacts.extend(provider(sku_set, variant_set))
    return impacts


def mapping_change_record(
    *, actor, before: MappingState | None, after: MappingState | None
) -> MappingVersion | None:
    """The versioning rule for one mapping: a saved change bumps the version once, its summary
    saying what changed; a save that changed nothing records nothing. `before` is None for an
    add, `after` None for a delete. Call inside the transaction that made the change."""
    if before is not None and after is not None and not mapping_state_diff(before, after):
        return None
    return mapping_version_bump(actor=actor, summary=mapping_change_summary(before, after))


def mappings_delete(*, actor, mappings: QuerySet[SkuMapping]) -> MappingVersion | None:
    """Delete these mappings (their components go with them) as one version."""
    with transaction.atomic():
        skus = sorted(mapping.shopify_sku for mapping in mappings)
        if not skus:
            return None
        mappings.delete()
        return mapping_version_bump(
            actor=actor, summary=f"Deleted {len(skus)} mapping(s): {', '.join(skus)}"
        )


def mapping_save(
    *, actor, mapping: SkuMapping, components: list[ComponentSpec], summary: str
) -> SkuMapping:
    """Save one mapping with its components and bump the version."""
    with transaction.atomic():
        mapping.full_clean()
        mapping.save()
        mapping_components_replace(mapping=mapping, components=components)
        mapping_version_bump(actor=actor, summary=summary)
    return mapping


def mapping_components_replace(*, mapping: SkuMapping, components: list[ComponentSpec]) -> None:
    """Make the mapping's components exactly these (inventory_id, reference, quantity) rows."""
    mapping.components.all().delete()
    for inventory_id, reference, quantity in components:
        mapping.components.create(inventory_id=inventory_id, reference=reference, quantity=quantity)


def shipping_method_for(*, codes_and_titles: Iterable[str]) -> str:
    """The warehouse shipping method for an order's shipping lines (code first, then title), or the
    configured default when none is mapped."""
    wanted = [value.strip().upper() for value in codes_and_titles if value and value.strip()]
    if wanted:
        methods = dict(
            ShippingMethodMapping.objects.annotate(key=Upper("shopify_shipping"))
            .filter(key__in=wanted)
            .values_list("key", "shipbob_shipping_method")
        )
        for value in wanted:
            if value in methods:
                return methods[value]
    return settings.SHIPBOB["DEFAULT_SHIPPING_METHOD"]
