"""What Shopify should show for each mapped variant, computed from warehouse stock and demand.

For a variant: units = min over its components of ⌊(fulfillable − pending) / quantity per unit⌋,
where a component's pending sums every variant's demand on it (a component shared by several
bundles is counted once, with all their demand); available = max(0, units − buffer). The buffer is
the SKU's own or the default, and while a peak profile is active the profile's value for the SKU,
or at least its percentage of the units (rounded up).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.inventory.demand import demand_read
from apps.inventory.models import (
    InventorySyncState,
    PeakBufferProfile,
    SkuMapping,
    StockLevel,
    VariantStock,
)

NOT_PULLED = "Waiting for the first complete ShipBob pull."


@dataclass(frozen=True)
class Component:
    key: str  # the warehouse item: its inventory id, or its reference (SKU at ShipBob)
    quantity: int


@dataclass(frozen=True)
class VariantFigures:
    fulfillable: int  # whole units the warehouse's fulfillable makes, before demand and buffer
    pending: int  # this variant's own units on orders not yet at the warehouse
    units: int  # whole units left after every variant's demand on the components (may be < 0)
    buffer: int
    available: int
    missing: tuple[str, ...]  # components the warehouse did not report
    sell_out_hours: float | None


def variant_figures(
    *,
    components: list[Component],
    fulfillable: dict[str, int],
    component_pending: dict[str, int],
    component_velocity: dict[str, float],
    own_pending: int,
    buffer_for,  # (units) -> buffer
) -> VariantFigures:
    """One variant's figures from its components (pure: the tests' bundle arithmetic)."""
    missing = tuple(c.key for c in components if c.key not in fulfillable)
    if not components or missing:
        return VariantFigures(0, own_pending, 0, 0, 0, missing, None)
    units = min(
        (fulfillable[c.key] - component_pending.get(c.key, 0)) // c.quantity for c in components
    )
    whole = min(fulfillable[c.key] // c.quantity for c in components)
    buffer = buffer_for(units)
    available = max(0, units - buffer)
    hours = None
    if available > 0:
        # The component that runs out first for this variant: what is left above the buffer at the
        # rate every variant using it consumes it.
        rates = [
            max(0, fulfillable[c.key] - component_pending.get(c.key, 0) - buffer * c.quantity)
            / component_velocity[c.key]
            for c in components
            if component_velocity.get(c.key, 0) > 0
        ]
        hours = min(rates) if rates else None
    return VariantFigures(whole, own_pending, units, buffer, available, (), hours)


def peak_profile_active() -> PeakBufferProfile | None:
    return (
        PeakBufferProfile.objects.filter(applied_at__isnull=False, reverted_at__isnull=True)
        .order_by("-applied_at")
        .first()
    )


def buffer_rule(mapping: SkuMapping, profile: PeakBufferProfile | None):
    """The buffer for a variant as a function of its units (a percentage depends on them)."""
    policy = getattr(mapping, "policy", None)
    base = policy.buffer if policy is not None and policy.buffer is not None else None
    if base is None:
        base = int(settings.INVENTORY["DEFAULT_BUFFER"])
    if profile is None:
        return lambda units: base
    named = {sku.upper(): value for sku, value in (profile.buffers or {}).items()}
    if mapping.shopify_sku.upper() in named:
        value = int(named[mapping.shopify_sku.upper()])
        return lambda units: value
    if profile.percent is None:
        return lambda units: base
    share = Decimal(profile.percent) / 100
    return lambda units: max(base, math.ceil(share * max(0, units)))


def low_stock_threshold(mapping: SkuMapping) -> int:
    policy = getattr(mapping, "policy", None)
    if policy is not None and policy.low_stock_threshold is not None:
        return policy.low_stock_threshold
    return int(settings.INVENTORY["LOW_STOCK"])


def _components(mapping: SkuMapping, key_of_sku: dict[str, str]) -> list[Component]:
    found = []
    for component in mapping.components.all():
        if component.inventory_id is not None:
            key = str(component.inventory_id)
        else:
            # A component named by reference is the warehouse item with that SKU.
            key = key_of_sku.get(component.reference.upper(), component.reference)
        found.append(Component(key, component.quantity))
    return found


def mappings_for_stock():
    return (
        SkuMapping.objects.filter(warehouse_managed=True)
        .select_related("policy")
        .prefetch_related("components")
        .order_by("shopify_sku")
    )


def sync_state_locked() -> InventorySyncState:
    InventorySyncState.objects.get_or_create(pk=1)
    return InventorySyncState.objects.select_for_update().get(pk=1)


@transaction.atomic
def stock_compute(*, now: datetime | None = None) -> list[VariantStock]:
    """Recompute every mapped variant's figures and save them; return the rows (with mappings)."""
    now = now or timezone.now()
    state = sync_state_locked()
    window = timedelta(minutes=int(settings.INVENTORY["VELOCITY_WINDOW_MINUTES"]))
    demand = demand_read(stock_read_at=state.pull_finished_at, sold_since=now - window)
    levels = list(StockLevel.objects.all())
    fulfillable = {str(level.inventory_id): level.fulfillable for level in levels}
    key_of_sku = {level.sku.upper(): str(level.inventory_id) for level in levels if level.sku}
    mappings = list(mappings_for_stock())
    components = {m.pk: _components(m, key_of_sku) for m in mappings}
    component_pending: dict[str, int] = {}
    component_velocity: dict[str, float] = {}
    hours = window.total_seconds() / 3600
    for mapping in mappings:
        pending = demand.pending.get(mapping.pk, 0)
        sold = demand.sold.get(mapping.pk, 0)
        for component in components[mapping.pk]:
            key = component.key
            component_pending[key] = component_pending.get(key, 0) + pending * component.quantity
            rate = sold * component.quantity / hours
            component_velocity[key] = component_velocity.get(key, 0.0) + rate
    profile = peak_profile_active()
    existing = VariantStock.objects.in_bulk([m.pk for m in mappings])
    rows = []
    for mapping in mappings:
        figures = variant_figures(
            components=components[mapping.pk],
            fulfillable=fulfillable,
            component_pending=component_pending,
            component_velocity=component_velocity,
            own_pending=demand.pending.get(mapping.pk, 0),
            buffer_for=buffer_rule(mapping, profile),
        )
        row = existing.get(mapping.pk) or VariantStock(mapping=mapping)
        row.mapping = mapping
        row.fulfillable = figures.fulfillable
        row.pending = figures.pending
        row.warehouse_units = figures.units
        row.buffer = figures.buffer
        row.available = figures.available
        row.computed_at = now
        velocity = Decimal(demand.sold.get(mapping.pk, 0)) / Decimal(str(hours))
        row.velocity_per_hour = velocity.quantize(Decimal("0.01"))
        row.sell_out_at = (
            now + timedelta(hours=figures.sell_out_hours)
            if figures.sell_out_hours is not None
            else None
        )
        threshold = int(settings.INVENTORY["DRIFT_THRESHOLD"])
        drifting = row.shopify_known is not None and abs(row.drift) > threshold
        row.drift_since = (row.drift_since or now) if drifting else None
        row.problem = (
            unpushable_reason(mapping, components[mapping.pk], figures.missing)
            if state.pull_finished_at is not None
            else NOT_PULLED
        )
        rows.append(row)
    fields = [
        "fulfillable",
        "pending",
        "warehouse_units",
        "buffer",
        "available",
        "computed_at",
        "velocity_per_hour",
        "sell_out_at",
        "drift_since",
        "problem",
    ]
    VariantStock.objects.bulk_update([r for r in rows if r.pk in existing], fields, batch_size=500)
    VariantStock.objects.bulk_create([r for r in rows if r.pk not in existing], batch_size=500)
    return rows


def unpushable_reason(
    mapping: SkuMapping, components: list[Component], missing: tuple[str, ...]
) -> str:
    """Why this variant cannot be pushed ("" when it can): never guess where its stock goes."""
    if mapping.shopify_lookup_problem:
        return mapping.shopify_lookup_problem
    if not components:
        return "The mapping has no warehouse components."
    if missing:
        return f"ShipBob does not report warehouse item(s) {', '.join(missing)}."
    if mapping.shopify_inventory_item_id is None or mapping.shopify_location_id is None:
        return "Not yet found in Shopify (the lookup runs after each pull)."
    return ""


# --- peak profiles --------------------------------------------------------------------------------


@transaction.atomic
def peak_profiles_apply(*, now: datetime | None = None) -> list[tuple[PeakBufferProfile, str]]:
    """Apply profiles whose start has come and revert those whose end has; audited each way."""
    now = now or timezone.now()
    changed = []
    due = PeakBufferProfile.objects.select_for_update().filter(
        applied_at__isnull=True, starts_at__lte=now, ends_at__gt=now
    )
    for profile in due:
        profile.applied_at = now
        profile.save(update_fields=["applied_at"])
        audit_record(
            actor=None,
            actor_label="system:inventory",
            verb=verbs.PEAK_PROFILE_APPLIED,
            target=profile,
            data={"percent": str(profile.percent), "buffers": profile.buffers},
        )
        changed.append((profile, "applied"))
    ended = PeakBufferProfile.objects.select_for_update().filter(
        reverted_at__isnull=True, ends_at__lte=now
    )
    for profile in ended:
        was_applied = profile.applied_at is not None
        profile.reverted_at = now
        profile.save(update_fields=["reverted_at"])
        audit_record(
            actor=None,
            actor_label="system:inventory",
            verb=verbs.PEAK_PROFILE_REVERTED,
            target=profile,
            data={"was_applied": was_applied},
        )
        changed.append((profile, "reverted"))
    return changed
