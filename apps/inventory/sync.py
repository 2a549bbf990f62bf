"""Stock in from ShipBob, stock out to Shopify, through the outbox and the shared rate budgets.

Every call is an outbox message in the inventory lane (30), the lowest of the ShipBob pump: order
submissions (10) and shipment polls (20) are always claimed first, and a pull is one message per
page, so an order that becomes ready mid-pull goes before the next page.

- Pull: `shipbob.inventory_pull` pages `GET /inventory-level`; each page's levels are written when
  its message settles, and the last page recomputes every variant (stock.py), looks up unmapped
  items, queues the pushes and checks the exceptions.
- Lookup: `shopify.inventory_lookup` finds each mapping's inventory item and location by SKU.
- Push: `shopify.inventory_set` sends ≤ 250 changed quantities in one `inventorySetQuantities`,
  `changeFromQuantity` = the value last read from Shopify, `@idempotent` key = a UUID derived from
  the quantities and the reads they compare against (a re-send after a crash carries the same key,
  so Shopify changes nothing twice). A stale compare re-reads those items and recomputes.
- Drift report (drift.py): reads every Shopify level, records the differences, and corrects them.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.inventory.exceptions import stock_exceptions_check
from apps.inventory.models import (
    InventorySyncState,
    SkuMapping,
    StockLevel,
    VariantStock,
)
from apps.inventory.services import mapping_version_current
from apps.inventory.stock import peak_profiles_apply, stock_compute, sync_state_locked
from apps.sync.budgets import sync_rate_gate
from apps.sync.models import OutboxMessage
from apps.sync.outbox import Failed, Sent, outbox_action, outbox_enqueue
from integrations.http import PeerError
from integrations.shipbob.client import ShipBobClient
from integrations.shopify.client import (
    INVENTORY_ITEMS_PAGE_SIZE,
    SET_QUANTITIES_MAX,
    QuantityChange,
    ShopifyClient,
)

LANE_INVENTORY = 30
# A pull not finished after this long is abandoned and the next one starts (its pages are done or
# dead by then: the claim and backoff limits are far shorter).
PULL_ABANDON = timedelta(minutes=30)
# Namespace of the @idempotent keys (uuid5 over the pushed quantities and the reads behind them).
PUSH_KEY_NAMESPACE = uuid.UUID("6f1d3c1e-2b0a-4a55-9a43-8d1c7e0b5a21")
# Lookups claimed together share one read of the shop's locations (a few: a pump step must end well
# inside its lease).
LOOKUPS_PER_BATCH = 5
REFRESH_FIELDS = ["shopify_known", "shopify_known_at", "push_key"]


def shipbob_client() -> ShipBobClient:
    return ShipBobClient.from_config(settings.SHIPBOB, rate_gate=sync_rate_gate("shipbob"))


def shopify_client() -> ShopifyClient:
    return ShopifyClient.from_config(
        settings.SHOPIFY, token_cache=cache, rate_gate=sync_rate_gate("shopify")
    )


# --- stock in -------------------------------------------------------------------------------------


def inventory_pull_start(*, now: datetime | None = None) -> OutboxMessage | None:
    """Queue page 1 of a new pull, unless one is still running."""
    now = now or timezone.now()
    with transaction.atomic():
        state = sync_state_locked()
        running = state.pull_started_at is not None and (
            state.pull_finished_at is None or state.pull_finished_at < state.pull_started_at
        )
        if running and now - state.pull_started_at < PULL_ABANDON:
            return None
        state.pull_number += 1
        state.pull_started_at = now
        state.save(update_fields=["pull_number", "pull_started_at"])
        return _pull_page_enqueue(pull=state.pull_number, page=1, cursor=None)


def _pull_page_enqueue(*, pull: int, page: int, cursor: str | None) -> OutboxMessage:
    return outbox_enqueue(
        peer="shipbob",
        action="inventory_pull",
        idempotency_key=f"shipbob.inventory_pull:{pull}:{page}",
        payload={"pull": pull, "page": page, "cursor": cursor},
        priority=LANE_INVENTORY,
    )


def _pull_page_done(message: OutboxMessage, result: dict) -> None:
    """Write the page's levels; queue the next page, or finish the pull and recompute."""
    now = timezone.now()
    pull = message.payload["pull"]
    levels = result.get("levels") or []
    existing = StockLevel.objects.in_bulk(
        [level["inventory_id"] for level in levels], field_name="inventory_id"
    )
    changed, created = [], []
    for level in levels:
        row = existing.get(level["inventory_id"]) or StockLevel(inventory_id=level["inventory_id"])
        row.sku, row.name = level["sku"][:300], level["name"][:300]
        row.on_hand, row.fulfillable = level["on_hand"], level["fulfillable"]
        row.committed, row.read_at, row.pull_number = level["committed"], now, pull
        (changed if row.pk else created).append(row)
    fields = ["sku", "name", "on_hand", "fulfillable", "committed", "read_at", "pull_number"]
    StockLevel.objects.bulk_update(changed, fields, batch_size=500)
    StockLevel.objects.bulk_create(created, batch_size=500)
    if result.get("next"):
        _pull_page_enqueue(pull=pull, page=message.payload["page"] + 1, cursor=result["next"])
        return
    state = sync_state_locked()
    if state.pull_number != pull:
        return  # an abandoned pull finishing late: the newer one will recompute
    # Items the warehouse no longer reports are gone there.
    StockLevel.objects.filter(pull_number__lt=pull).delete()
    state.pull_finished_at = now
    state.save(update_fields=["pull_finished_at"])
    stock_refresh(now=now)


@outbox_action("shipbob", "inventory_pull", on_done=_pull_page_done)
def shipbob_inventory_pull(messages: list[OutboxMessage]) -> list:
    outcomes = []
    with shipbob_client() as client:
        for message in messages:
            page = client.inventory_levels(
                cursor=message.payload.get("cursor"),
                page_size=int(settings.INVENTORY["PULL_PAGE_SIZE"]),
            )
            levels = [asdict(level) for level in page.levels]
            outcomes.append(Sent(result={"levels": levels, "next": page.next_cursor}))
    return outcomes


# --- the recompute and what follows it ------------------------------------------------------------


def stock_refresh(*, now: datetime | None = None) -> list[VariantStock]:
    """Recompute, look up what is unknown in Shopify, queue the pushes, check the exceptions."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = stock_compute(now=now)
        lookups_enqueue(rows=rows)
        pushes_enqueue(rows=rows)
        stock_exceptions_check(rows=rows, now=now)
    return rows


def lookups_enqueue(*, rows: list[VariantStock]) -> list[OutboxMessage]:
    """One lookup per ≤ 200 mappings Shopify has not settled yet (again after a mapping change)."""
    wanted = sorted(
        row.mapping_id
        for row in rows
        if row.mapping.components.all()
        and (row.mapping.shopify_inventory_item_id is None or row.mapping.shopify_lookup_problem)
    )
    version = mapping_version_current()
    messages = []
    for start in range(0, len(wanted), INVENTORY_ITEMS_PAGE_SIZE):
        chunk = wanted[start : start + INVENTORY_ITEMS_PAGE_SIZE]
        digest = uuid.uuid5(PUSH_KEY_NAMESPACE, json.dumps(chunk)).hex
        messages.append(
            outbox_enqueue(
                peer="shopify",
                action="inventory_lookup",
                idempotency_key=f"shopify.inventory_lookup:v{version}:{digest}",
                payload={"mappings": chunk},
                priority=LANE_INVENTORY,
            )
        )
    return messages


def push_key(quantities: list[dict]) -> str:
    """The @idempotent key of a push: derived from exactly what it sets and compares against."""
    canonical = json.dumps(
        [[q["item"], q["location"], q["quantity"], q["from"], q["read_at"]] for q in quantities],
        separators=(",", ":"),
    )
    return str(uuid.uuid5(PUSH_KEY_NAMESPACE, canonical))


def pushes_enqueue(*, rows: list[VariantStock]) -> list[OutboxMessage]:
    """Queue the changed quantities, ≤ 250 a message; a variant with a push in flight waits for it."""
    changed = [
        row
        for row in rows
        if not row.problem
        and not row.push_key
        and row.shopify_known is not None
        and row.available != row.shopify_known
    ]
    messages = []
    for start in range(0, len(changed), SET_QUANTITIES_MAX):
        chunk = changed[start : start + SET_QUANTITIES_MAX]
        quantities = [
            {
                "mapping": row.mapping_id,
                "sku": row.mapping.shopify_sku,
                "item": row.mapping.shopify_inventory_item_id,
                "location": row.mapping.shopify_location_id,
                "quantity": row.available,
                "from": row.shopify_known,
                "read_at": row.shopify_known_at.isoformat() if row.shopify_known_at else "",
            }
            for row in chunk
        ]
        key = push_key(quantities)
        message = outbox_enqueue(
            peer="shopify",
            action="inventory_set",
            idempotency_key=f"shopify.inventory_set:{key}",
            payload={"key": key, "quantities": quantities},
            priority=LANE_INVENTORY,
        )
        if message.status in (OutboxMessage.Status.PENDING, OutboxMessage.Status.IN_FLIGHT):
            VariantStock.objects.filter(pk__in=[row.pk for row in chunk]).update(
                push_key=message.idempotency_key
            )
            for row in chunk:
                row.push_key = message.idempotency_key
        messages.append(message)
    return messages


# --- stock out ------------------------------------------------------------------------------------


def _location_pick(client: ShopifyClient) -> int:
    """The location the warehouse stocks: named in settings, or the shop's only active one."""
    locations = [loc for loc in client.locations() if loc.active]
    wanted = settings.INVENTORY["SHOPIFY_LOCATION"].strip()
    if wanted:
        named = [loc for loc in locations if loc.name.strip().lower() == wanted.lower()]
        if len(named) == 1:
            return named[0].id
        raise PeerError(
            "shopify",
            f"INVENTORY_SHOPIFY_LOCATION={wanted!r} matches {len(named)} active locations",
            retryable=False,
        )
    if len(locations) == 1:
        return locations[0].id
    raise PeerError(
        "shopify",
        f"the shop has {len(locations)} active locations: name the warehouse's in "
        "INVENTORY_SHOPIFY_LOCATION",
        retryable=False,
    )


def _lookup_verdict(mapping: SkuMapping, matches: list[dict]) -> tuple[dict | None, str]:
    """The one Shopify item this mapping means, or why there is none (never a guess)."""
    sku = mapping.shopify_sku
    if mapping.shopify_variant_id is not None:
        same_variant = [m for m in matches if m["variant_id"] == mapping.shopify_variant_id]
        if len(matches) > 1 and len(same_variant) == 1:
            matches = same_variant
        elif len(matches) == 1 and not same_variant:
            return None, (
                f"Ambiguous: SKU {sku} is variant {matches[0]['variant_id']} in Shopify but the "
                f"mapping names variant {mapping.shopify_variant_id}. Fix the mapping or the SKU."
            )
    if not matches:
        return None, f"Shopify has no inventory item with SKU {sku}."
    if len(matches) > 1:
        variants = ", ".join(str(m["variant_id"]) for m in matches)
        return None, (
            f"Ambiguous: {len(matches)} Shopify variants carry SKU {sku} ({variants}). Give the "
            "mapping its Shopify variant id, or make the SKUs unique in Shopify."
        )
    if matches[0]["available"] is None:
        return None, f"SKU {sku} is not stocked at the warehouse's Shopify location."
    return matches[0], ""


def _lookup_done(message: OutboxMessage, result: dict) -> None:
    now = timezone.now()
    by_sku: dict[str, list[dict]] = {}
    for item in result["items"]:
        by_sku.setdefault(item["sku"].strip().upper(), []).append(item)
    mappings = list(
        SkuMapping.objects.select_for_update().filter(pk__in=message.payload["mappings"])
    )
    stock = VariantStock.objects.select_for_update().in_bulk([m.pk for m in mappings])
    found, created = [], []
    for mapping in mappings:
        match, problem = _lookup_verdict(mapping, by_sku.get(mapping.shopify_sku.upper(), []))
        mapping.shopify_inventory_item_id = match["item_id"] if match else None
        mapping.shopify_location_id = result["location"] if match else None
        mapping.shopify_lookup_problem = problem[:500]
        if match:
            row = stock.get(mapping.pk) or VariantStock(mapping=mapping)
            row.shopify_known, row.shopify_known_at = match["available"], now
            (found if row.pk in stock else created).append(row)
    SkuMapping.objects.bulk_update(
        mappings,
        ["shopify_inventory_item_id", "shopify_location_id", "shopify_lookup_problem"],
        batch_size=500,
    )
    VariantStock.objects.bulk_update(found, ["shopify_known", "shopify_known_at"], batch_size=500)
    VariantStock.objects.bulk_create(created, batch_size=500)
    # The last lookup of a run recomputes: one push per 250 changes, not one per lookup.
    others = OutboxMessage.objects.filter(
        peer="shopify",
        action="inventory_lookup",
        status__in=(OutboxMessage.Status.PENDING, OutboxMessage.Status.IN_FLIGHT),
    ).exclude(pk=message.pk)
    if not others.exists():
        stock_refresh(now=now)


@outbox_action("shopify", "inventory_lookup", batch_size=LOOKUPS_PER_BATCH, on_done=_lookup_done)
def shopify_inventory_lookup(messages: list[OutboxMessage]) -> list:
    outcomes = []
    with shopify_client() as client:
        location = _location_pick(client)
        for message in messages:
            skus = list(
                SkuMapping.objects.filter(pk__in=message.payload["mappings"]).values_list(
                    "shopify_sku", flat=True
                )
            )
            items = client.inventory_items(skus=skus, location_id=location)
            outcomes.append(
                Sent(result={"location": location, "items": [asdict(item) for item in items]})
            )
    return outcomes


def _changes(message: OutboxMessage) -> list[QuantityChange]:
    return [
        QuantityChange(
            item_id=q["item"],
            location_id=q["location"],
            quantity=q["quantity"],
            change_from=q["from"],
        )
        for q in message.payload["quantities"]
    ]


def _set_done(message: OutboxMessage, result: dict) -> None:
    now = timezone.now()
    quantities = message.payload["quantities"]
    rows = VariantStock.objects.select_for_update().in_bulk([q["mapping"] for q in quantities])
    stale = result.get("stale")
    for q in quantities:
        row = rows.get(q["mapping"])
        if row is None:
            continue
        if row.push_key == message.idempotency_key:
            row.push_key = ""
        if stale is None:
            row.shopify_known, row.shopify_known_at = q["quantity"], now
            row.last_pushed, row.last_pushed_at = q["quantity"], now
        elif str(q["item"]) in stale:
            row.shopify_known, row.shopify_known_at = stale[str(q["item"])], now
    VariantStock.objects.bulk_update(
        list(rows.values()), [*REFRESH_FIELDS, "last_pushed", "last_pushed_at"]
    )
    if stale is None:
        InventorySyncState.objects.filter(pk=1).update(last_push_at=now)
    else:
        audit_record(
            actor=None,
            actor_label="system:inventory",
            verb=verbs.INVENTORY_PUSH_REREAD,
            data={"key": message.payload["key"], "stale": stale},
        )
        stock_refresh(now=now)


def _set_dead(message: OutboxMessage, error: PeerError) -> None:
    VariantStock.objects.filter(push_key=message.idempotency_key).update(push_key="")


@outbox_action("shopify", "inventory_set", on_done=_set_done, on_dead=_set_dead)
def shopify_inventory_set(messages: list[OutboxMessage]) -> list:
    outcomes = []
    with shopify_client() as client:
        for message in messages:
            changes = _changes(message)
            answer = client.inventory_set_quantities(
                changes=changes, idempotency_key=message.payload["key"]
            )
            if answer.applied:
                outcomes.append(Sent(result={"applied": len(changes)}))
            elif answer.user_errors:
                error = "; ".join(answer.user_errors)
                outcomes.append(Failed(PeerError("shopify", error[:1000], retryable=False)))
            else:
                # Someone changed these in Shopify since we read them: read them again, never
                # overwrite blind. Nothing of this call was applied.
                location = changes[0].location_id
                reread = client.inventory_items(item_ids=list(answer.stale), location_id=location)
                outcomes.append(
                    Sent(result={"stale": {str(i.item_id): i.available for i in reread}})
                )
    return outcomes


# --- the minute tick ------------------------------------------------------------------------------


def inventory_tick(*, now: datetime | None = None) -> dict:
    """Scheduled each minute: peak profiles, a pull when due, the recompute and exception checks."""
    now = now or timezone.now()
    profiles = peak_profiles_apply(now=now)
    state = InventorySyncState.objects.filter(pk=1).first()
    every = timedelta(minutes=int(settings.INVENTORY["PULL_MINUTES"]))
    pulled = None
    if state is None or state.pull_started_at is None or now - state.pull_started_at >= every:
        pulled = inventory_pull_start(now=now)
    rows = stock_refresh(now=now)
    return {
        "profiles": [f"{profile.name} {what}" for profile, what in profiles],
        "pull": pulled.idempotency_key if pulled else None,
        "variants": len(rows),
        "pushes_pending": sum(1 for row in rows if row.push_key),
    }
