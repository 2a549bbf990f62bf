"""Resolving Shopify lines through the mapping tables, and versioning every change to them."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

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
from apps.inventory.models import (
    MappingVersion,
    ShippingMethodMapping,
    SkuMapping,
    TaxTypeMapping,
    TitleMapping,
)


class Problem:
    NO_SKU = "no_sku"
    UNKNOWN_SKU = "unknown_sku"
    AMBIGUOUS = "ambiguous_sku"


@dataclass(frozen=True)
class LineKey:
    sku: str | None
    variant_id: int | None
    title: str = ""  # resolves a line with no SKU through the title mapping (custom items)


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
    titles = {line.title.strip().upper() for line in lines if not line.sku and line.title}
    by_title: dict[str, SkuMapping] = {}
    if titles:
        for row in (
            TitleMapping.objects.annotate(title_upper=Upper("shopify_title"))
            .filter(title_upper__in=titles)
            .select_related("sku_mapping")
            .prefetch_related("sku_mapping__components")
        ):
            by_title[row.title_upper] = row.sku_mapping
    if skus or variants:
        query = SkuMapping.objects.prefetch_related("components")
        sku_query = query.annotate(sku_upper=Upper("shopify_sku")).filter(sku_upper__in=skus)
        for mapping in sku_query if skus else []:
            by_sku[mapping.shopify_sku.upper()] = mapping
        for mapping in query.filter(shopify_variant_id__in=variants) if variants else []:
            by_variant[mapping.shopify_variant_id] = mapping
    return [_resolve_one(line, by_sku, by_variant, by_title) for line in lines]


def _resolve_one(line: LineKey, by_sku: dict, by_variant: dict, by_title: dict) -> SkuResolution:
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
        if line.title.strip().upper() in by_title:
            return SkuResolution(by_title[line.title.strip().upper()])
        where = f"variant {line.variant_id}" if line.variant_id is not None else "a custom item"
        return SkuResolution(
            None,
            Problem.NO_SKU,
            f"The line {line.title!r} has no SKU ({where}). On the order page, Ops maps its title "
            "to a SKU, or marks it not shipped (billed only) or shipped by hand, with a reason.",
        )
    return SkuResolution(
        None,
        Problem.UNKNOWN_SKU,
        f"SKU {sku!r} is not in the SKU mapping table. Add it, then release the hold.",
    )


def mapping_version_current() -> int:
    return MappingVersion.objects.aggregate(number=Max("id"))["number"] or 0


# Apps above inventory (orders: release what the change fixed) react inside the same transaction.
MAPPING_CHANGED_HOOKS: list[Callable[[MappingVersion], object]] = []


def on_mapping_changed(
    hook: Callable[[MappingVersion], object],
) -> Callable[[MappingVersion], object]:
    if hook not in MAPPING_CHANGED_HOOKS:
        MAPPING_CHANGED_HOOKS.append(hook)
    return hook


def mapping_version_bump(*, actor, summary: str) -> MappingVersion:
    """Record a change to the mapping tables (call inside the transaction that made it)."""
    version = MappingVersion.objects.create(
        changed_by=actor if getattr(actor, "is_authenticated", False) else None,
        summary=summary[:500],
    )
    audit_record(actor=actor, verb=verbs.MAPPING_CHANGED, target=version, data={"summary": summary})
    for hook in MAPPING_CHANGED_HOOKS:
        hook(version)
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


# --- Tax types -----------------------------------------------------------------------------------
# Xero's tax type for a line with no Shopify tax line at all (untaxed item, free shipping).
UNTAXED_TAX_TYPE = "NONE"


@dataclass(frozen=True)
class TaxLineKey:
    title: str
    rate: Decimal


@dataclass(frozen=True)
class TaxTypeResolution:
    tax_type: str | None
    xero_rate: Decimal | None = None
    problem: str = ""

    @property
    def resolved(self) -> bool:
        return self.tax_type is not None


def _tax_match(rows: list[TaxTypeMapping], key: TaxLineKey, currency: str, country: str):
    """The most specific row for one tax line: an exact rate, currency and country beat 'any'."""
    best, best_score = None, -1
    for row in rows:
        if row.shopify_title.strip().upper() != key.title.strip().upper():
            continue
        if row.shopify_rate is not None and row.shopify_rate != key.rate:
            continue
        if row.currency and row.currency != currency.upper():
            continue
        if row.country_code and row.country_code != country.upper():
            continue
        score = (row.shopify_rate is not None) * 4 + bool(row.country_code) * 2 + bool(row.currency)
        if score > best_score:
            best, best_score = row, score
    return best


def tax_types_resolve(
    *, lines: list[tuple[TaxLineKey, ...]], currency: str, country: str
) -> list[TaxTypeResolution]:
    """The Xero tax type of each line from its Shopify tax lines, in one query; never guessed.

    A line without tax lines is untaxed (NONE, 0%). Every tax line of a line (a US state, county and
    city) must map, and to the same Xero tax type: Xero takes one tax type per line.
    """
    titles = {key.title.strip().upper() for keys in lines for key in keys}
    rows = (
        list(
            TaxTypeMapping.objects.annotate(title_upper=Upper("shopify_title")).filter(
                title_upper__in=titles
            )
        )
        if titles
        else []
    )
    where = "/".join(filter(None, [currency, country])) or "this order"
    results = []
    for keys in lines:
        if not keys:
            results.append(TaxTypeResolution(UNTAXED_TAX_TYPE, Decimal(0)))
            continue
        matches = [(key, _tax_match(rows, key, currency, country)) for key in keys]
        missing = [key for key, row in matches if row is None]
        if missing:
            named = ", ".join(f"{key.title!r} at {key.rate:g}" for key in missing)
            results.append(
                TaxTypeResolution(
                    None,
                    problem=f"Shopify tax line {named} ({where}) has no Xero tax type in the "
                    "tax type mapping table. An Admin adds it (Admin → Tax type mappings); "
                    "the order is released when it is saved.",
                )
            )
            continue
        types = {row.xero_tax_type for _, row in matches}
        if len(types) > 1:
            results.append(
                TaxTypeResolution(
                    None,
                    problem=f"The line's tax lines map to different Xero tax types "
                    f"({', '.join(sorted(types))}); Xero takes one per line. Map them to one.",
                )
            )
            continue
        row = matches[0][1]
        results.append(TaxTypeResolution(row.xero_tax_type, row.xero_rate))
    return results
