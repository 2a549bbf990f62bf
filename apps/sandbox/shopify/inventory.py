"""The stand-in's inventory: locations, inventory items and levels, and `inventorySetQuantities`.

As Shopify 2026-10: `quantities(names: ["available"])` on a level; `inventoryItems(query: "sku:A OR
id:7")`; `location(id).inventoryLevels` pages; the mutation takes ≤ 250 quantities, each with a
mandatory `changeFromQuantity` (null opts out of the compare), and is refused without
`@idempotent(key:)`. A stale compare refuses the whole call (nothing is applied) with one
CHANGE_FROM_QUANTITY_STALE user error per stale quantity. A key seen before with the same input
answers the stored result and changes nothing; with a different input it is
IDEMPOTENCY_KEY_PARAMETER_MISMATCH.
"""

import hashlib
import json
import re

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.sandbox.shopify.gql import GraphQLError
from apps.sandbox.shopify.models import (
    StoreIdempotencyKey,
    StoreInventoryItem,
    StoreInventoryLevel,
    StoreInventorySetCall,
    StoreLocation,
)

SET_QUANTITIES_MAX = 250
QUANTITY_NAMES = frozenset({"available", "on_hand"})
DEMO_LOCATION = "Cicero (IL) — ShipBob"
_TERM = re.compile(r"(sku|id):\s*'?([^'\s)]+)'?", re.IGNORECASE)


def _gid_number(value, kind: str) -> int | None:
    match = re.fullmatch(rf"gid://shopify/{kind}/(\d+)", str(value or ""))
    return int(match.group(1)) if match else None


def store_inventory_seed() -> int:
    """One location and an inventory item per demo variant (bundles are variants of their own)."""
    from apps.sandbox.shopify.simulator import CATALOGUE

    location = StoreLocation.objects.first() or StoreLocation.objects.create(name=DEMO_LOCATION)
    created = 0
    for item in CATALOGUE:
        if StoreInventoryItem.objects.filter(sku=item.sku).exists():
            continue
        row = StoreInventoryItem.objects.create(sku=item.sku, variant_id=item.variant_id)
        StoreInventoryLevel.objects.create(item=row, location=location, available=0)
        created += 1
    return created


def store_inventory_ensure() -> None:
    if not StoreLocation.objects.exists():
        store_inventory_seed()


def stock_available(skus) -> dict[str, int]:
    """Available per SKU at the first location, for the SKUs the store tracks (the simulator)."""
    levels = StoreInventoryLevel.objects.filter(item__sku__in=list(skus), item__tracked=True)
    return {sku: available for sku, available in levels.values_list("item__sku", "available")}


def stock_draw(quantities: dict[str, int]) -> None:
    """A checkout: each SKU's available goes down by what was sold (below zero when oversold)."""
    now = timezone.now()
    for sku, quantity in quantities.items():
        StoreInventoryLevel.objects.filter(item__sku=sku, item__tracked=True).update(
            available=F("available") - quantity, updated_at=now
        )


# --- nodes ----------------------------------------------------------------------------------------
def _quantities(level: StoreInventoryLevel | None):
    def resolve(args: dict) -> list[dict]:
        names = args.get("names")
        if not isinstance(names, list) or not names:
            raise GraphQLError("Field 'quantities' is missing required arguments: names")
        if level is None:
            return []
        values = {"available": level.available, "on_hand": max(0, level.available)}
        return [
            {"__typename": "InventoryQuantity", "name": name, "quantity": values[name]}
            for name in names
            if name in values
        ]

    return resolve


def location_node(row: StoreLocation) -> dict:
    return {
        "__typename": "Location",
        "id": row.gid,
        "name": row.name,
        "isActive": row.is_active,
        "inventoryLevels": lambda args: _levels_connection(row, args),
    }


def _level_node(level: StoreInventoryLevel) -> dict:
    return {
        "__typename": "InventoryLevel",
        "id": f"gid://shopify/InventoryLevel/{level.pk}",
        "item": {"__typename": "InventoryItem", "id": level.item.gid, "sku": level.item.sku},
        "location": {"__typename": "Location", "id": level.location.gid},
        "quantities": _quantities(level),
    }


def _item_node(item: StoreInventoryItem, levels: dict[int, StoreInventoryLevel]) -> dict:
    def level_at(args: dict) -> dict | None:
        location_id = _gid_number(args.get("locationId"), "Location")
        if location_id is None:
            raise GraphQLError(f"Invalid global id {args.get('locationId')!r}")
        level = levels.get(location_id)
        return _level_node(level) if level else None

    return {
        "__typename": "InventoryItem",
        "id": item.gid,
        "sku": item.sku,
        "tracked": item.tracked,
        "variant": {
            "__typename": "ProductVariant",
            "id": f"gid://shopify/ProductVariant/{item.variant_id}",
            "legacyResourceId": str(item.variant_id),
        }
        if item.variant_id
        else None,
        "inventoryLevel": level_at,
    }


def _connection(nodes: list[dict], cursors: list[str], has_next: bool, after) -> dict:
    return {
        "nodes": nodes,
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": after is not None,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


def _first(args: dict) -> int:
    first = args.get("first")
    if not isinstance(first, int) or not 1 <= first <= 250:
        raise GraphQLError("first must be between 1 and 250", code="MAX_PAGE_SIZE_EXCEEDED")
    return first


def _after(args: dict) -> int | None:
    after = args.get("after")
    if after is None:
        return None
    if not str(after).isdigit():
        raise GraphQLError(f"Invalid cursor {after!r}")
    return int(after)


def _levels_connection(location: StoreLocation, args: dict) -> dict:
    first, after = _first(args), _after(args)
    rows = StoreInventoryLevel.objects.filter(location=location).select_related("item", "location")
    if after is not None:
        rows = rows.filter(pk__gt=after)
    page = list(rows.order_by("pk")[: first + 1])
    has_next, page = len(page) > first, page[:first]
    return _connection([_level_node(r) for r in page], [str(r.pk) for r in page], has_next, after)


# --- root fields ----------------------------------------------------------------------------------
def locations_resolve(args: dict) -> dict:
    store_inventory_ensure()
    first, after = _first(args), _after(args)
    rows = StoreLocation.objects.order_by("pk")
    if after is not None:
        rows = rows.filter(pk__gt=after)
    page = list(rows[: first + 1])
    has_next, page = len(page) > first, page[:first]
    return _connection([location_node(r) for r in page], [str(r.pk) for r in page], has_next, after)


def location_resolve(args: dict) -> dict | None:
    store_inventory_ensure()
    number = _gid_number(args.get("id"), "Location")
    if number is None:
        raise GraphQLError(f"Invalid global id {args.get('id')!r}")
    row = StoreLocation.objects.filter(pk=number).first()
    return location_node(row) if row else None


def inventory_items_resolve(args: dict) -> dict:
    """inventoryItems(first, after, query): the `sku:` and `id:` terms, OR-ed as Shopify does."""
    store_inventory_ensure()
    first, after = _first(args), _after(args)
    rows = StoreInventoryItem.objects.order_by("pk")
    terms = _TERM.findall(args.get("query") or "")
    if terms:
        skus = [value for name, value in terms if name.lower() == "sku"]
        ids = [int(value) for name, value in terms if name.lower() == "id" and value.isdigit()]
        rows = rows.filter(sku__in=skus) | rows.filter(pk__in=ids)
    if after is not None:
        rows = rows.filter(pk__gt=after)
    page = list(rows.order_by("pk")[: first + 1])
    has_next, page = len(page) > first, page[:first]
    levels: dict[int, dict[int, StoreInventoryLevel]] = {}
    for level in StoreInventoryLevel.objects.filter(item__in=page).select_related(
        "item", "location"
    ):
        levels.setdefault(level.item_id, {})[level.location_id] = level
    nodes = [_item_node(item, levels.get(item.pk, {})) for item in page]
    return _connection(nodes, [str(r.pk) for r in page], has_next, after)


# --- the mutation ---------------------------------------------------------------------------------
def _payload(user_errors: list[dict], group: dict | None = None) -> dict:
    return {
        "__typename": "InventorySetQuantitiesPayload",
        "inventoryAdjustmentGroup": group,
        "userErrors": [{"__typename": "InventorySetQuantitiesUserError", **e} for e in user_errors],
    }


def _error(index: int | None, code: str, message: str, field: str = "") -> dict:
    path = ["input", "quantities", str(index)] if index is not None else ["input"]
    return {"field": [*path, field] if field else path, "code": code, "message": message}


def _validated(args: dict) -> tuple[str, str, list[dict]]:
    key = (args.get("@idempotent") or {}).get("key")
    if not isinstance(key, str) or not key.strip():
        raise GraphQLError(
            "The @idempotent directive with a key is required for this mutation.",
            code="BAD_REQUEST",
        )
    data = args.get("input")
    if not isinstance(data, dict):
        raise GraphQLError("Variable $input of type InventorySetQuantitiesInput! was not provided")
    quantities = data.get("quantities")
    if not isinstance(quantities, list) or not quantities:
        raise GraphQLError("Variable $input: quantities is required (a non-empty list)")
    if len(quantities) > SET_QUANTITIES_MAX:
        raise GraphQLError(
            f"The input array size of {len(quantities)} is greater than the maximum allowed of "
            f"{SET_QUANTITIES_MAX}.",
            code="MAX_INPUT_SIZE_EXCEEDED",
        )
    for index, quantity in enumerate(quantities):
        if not isinstance(quantity, dict) or "changeFromQuantity" not in quantity:
            raise GraphQLError(
                f"Variable $input: changeFromQuantity is required at quantities.{index} "
                "(pass null to opt out of the compare)"
            )
    return key.strip(), str(data.get("name") or ""), quantities


def inventory_set_quantities(args: dict) -> dict:
    key, name, quantities = _validated(args)
    fingerprint = hashlib.sha256(
        json.dumps(args.get("input"), sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    with transaction.atomic():
        seen = StoreIdempotencyKey.objects.select_for_update().filter(key=key).first()
        if seen is not None:
            same = seen.fingerprint == fingerprint
            StoreInventorySetCall.objects.create(
                key=key, quantities=len(quantities), outcome="replayed" if same else "mismatch"
            )
            if same:
                return seen.response
            return _payload(
                [
                    _error(
                        None,
                        "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                        "The same idempotency key cannot be used with different operation "
                        "parameters.",
                    )
                ]
            )
        response, outcome = _apply(name, quantities)
        try:
            with transaction.atomic():
                StoreIdempotencyKey.objects.create(
                    key=key, fingerprint=fingerprint, response=response
                )
        except IntegrityError:
            raise GraphQLError(
                "This request is currently in progress, please try again.",
                code="IDEMPOTENCY_CONCURRENT_REQUEST",
            ) from None
        StoreInventorySetCall.objects.create(key=key, quantities=len(quantities), outcome=outcome)
    return response


def _apply(name: str, quantities: list[dict]) -> tuple[dict, str]:
    """Compare every quantity, then apply all of them or none (inside the caller's transaction)."""
    if name not in QUANTITY_NAMES:
        return _payload(
            [_error(None, "INVALID_NAME", "The quantity name must be 'available' or 'on_hand'.")]
        ), "refused"
    errors, targets = [], []
    for index, quantity in enumerate(quantities):
        item_id = _gid_number(quantity.get("inventoryItemId"), "InventoryItem")
        location_id = _gid_number(quantity.get("locationId"), "Location")
        value = quantity.get("quantity")
        if not isinstance(value, int) or isinstance(value, bool):
            raise GraphQLError(f"Variable $input: quantity must be an Int at quantities.{index}")
        level = (
            StoreInventoryLevel.objects.select_for_update()
            .filter(item_id=item_id, location_id=location_id)
            .first()
            if item_id and location_id
            else None
        )
        if level is None:
            if not StoreInventoryItem.objects.filter(pk=item_id or 0).exists():
                errors.append(
                    _error(
                        index,
                        "INVALID_INVENTORY_ITEM",
                        "The specified inventory item could not be found.",
                        "inventoryItemId",
                    )
                )
            else:
                errors.append(
                    _error(
                        index,
                        "ITEM_NOT_STOCKED_AT_LOCATION",
                        "The item is not stocked at the location.",
                        "locationId",
                    )
                )
            continue
        if value < 0:
            errors.append(
                _error(
                    index,
                    "INVALID_QUANTITY_NEGATIVE",
                    "The quantity can't be negative.",
                    "quantity",
                )
            )
            continue
        expected = quantity.get("changeFromQuantity")
        if expected is not None and expected != level.available:
            errors.append(
                _error(
                    index,
                    "CHANGE_FROM_QUANTITY_STALE",
                    "The changeFromQuantity value does not match persisted value.",
                    "changeFromQuantity",
                )
            )
            continue
        targets.append((level, value))
    if errors:
        stale = all(e["code"] == "CHANGE_FROM_QUANTITY_STALE" for e in errors)
        return _payload(errors), "stale" if stale else "refused"
    now = timezone.now()
    changes = []
    for level, value in targets:
        delta = value - level.available
        level.available, level.updated_at = value, now
        level.save(update_fields=["available", "updated_at"])
        changes.append(
            {
                "__typename": "InventoryChange",
                "name": "available",
                "delta": delta,
                "quantityAfterChange": value,
                "item": {"__typename": "InventoryItem", "id": level.item.gid},
                "location": {"__typename": "Location", "id": level.location.gid},
            }
        )
    group = {
        "__typename": "InventoryAdjustmentGroup",
        "id": f"gid://shopify/InventoryAdjustmentGroup/{int(now.timestamp() * 1000)}",
        "createdAt": now.isoformat(),
        "reason": "correction",
        "changes": changes,
    }
    return _payload([], group), "applied"
