"""What a mapping says, in one comparable value: its warehouse components as text, and diffs.

Shared by the admin (list, confirmation page, version summaries) and the CSV resource, so the
screen, the file and the audit trail describe a change in the same words.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import NamedTuple

from apps.inventory.models import SkuMapping

BIGINT_MAX = 2**63 - 1
REFERENCE_MAX_LENGTH = 300
# A ShipBob reference that is only digits is written with this prefix (bare numbers are inventory ids).
REFERENCE_PREFIX = "ref:"
_QUANTITY_SUFFIX = re.compile(r"^(?P<item>.+?)\s*[xX×]\s*(?P<quantity>\d+)$")

COMPONENTS_FORMAT_HELP = (
    "Warehouse components, separated by “|”: each is a ShipBob item and its quantity, e.g. "
    "“12345 x1|REF-ABC x2”. A number is a ShipBob inventory id, anything else a ShipBob reference "
    "(write a reference made only of digits as “ref:00123”). The quantity “ x<n>” is optional "
    "(1 when left out). Leave empty for a SKU the warehouse does not ship."
)


class ComponentSpec(NamedTuple):
    """One warehouse item of a mapping; the same shape `mapping_save` takes."""

    inventory_id: int | None
    reference: str
    quantity: int

    @property
    def key(self) -> str:
        return str(self.inventory_id) if self.inventory_id is not None else self.reference


def components_format(components: Iterable[ComponentSpec]) -> str:
    """The CSV text of a component list; `components_parse` reads it back to the same list."""
    parts = []
    for component in components:
        if component.inventory_id is not None:
            item = str(component.inventory_id)
        elif component.reference.isdigit():
            item = f"{REFERENCE_PREFIX}{component.reference}"
        else:
            item = component.reference
        parts.append(f"{item} x{component.quantity}")
    return "|".join(parts)


def components_parse(text: str | None) -> list[ComponentSpec]:
    """Read "12345 x1|REF-ABC x2"; raise ValueError naming the bad part."""
    text = (text or "").strip()
    if not text:
        return []
    components = []
    for position, raw in enumerate(text.split("|"), start=1):
        token = raw.strip()
        if not token:
            raise ValueError(f"Component {position} is empty: remove the extra “|”.")
        quantity = 1
        match = _QUANTITY_SUFFIX.match(token)
        if match:
            token, quantity = match["item"].strip(), int(match["quantity"])
        if quantity < 1:
            raise ValueError(f"Component {position} ({token!r}) has quantity 0: use 1 or more.")
        if token.lower().startswith(REFERENCE_PREFIX):
            reference = token[len(REFERENCE_PREFIX) :].strip()
            if not reference:
                raise ValueError(f"Component {position} has an empty reference after “ref:”.")
            components.append(ComponentSpec(None, reference, quantity))
        elif token.isdigit():
            inventory_id = int(token)
            if inventory_id > BIGINT_MAX:
                raise ValueError(f"Component {position}: inventory id {token} is too large.")
            components.append(ComponentSpec(inventory_id, "", quantity))
        else:
            if len(token) > REFERENCE_MAX_LENGTH:
                raise ValueError(
                    f"Component {position}: a reference has at most {REFERENCE_MAX_LENGTH} characters."
                )
            components.append(ComponentSpec(None, token, quantity))
    return components


def components_problems(
    *, warehouse_managed: bool, components: Sequence[ComponentSpec]
) -> list[str]:
    """Why this component list cannot belong to a mapping (empty list = fine)."""
    problems = []
    if warehouse_managed and not components:
        problems.append(
            "A warehouse-managed SKU needs at least one warehouse component (the ShipBob item it "
            "ships as). Add one, or untick “warehouse managed” for an item the warehouse never ships."
        )
    if not warehouse_managed and components:
        problems.append(
            "This SKU is not warehouse-managed, so it cannot have warehouse components: remove them, "
            "or tick “warehouse managed”."
        )
    seen: set[str] = set()
    for component in components:
        if component.key in seen:
            problems.append(
                f"Warehouse item {component.key!r} is listed twice: list it once with the total quantity."
            )
        seen.add(component.key)
    return problems


def components_of(mapping: SkuMapping) -> list[ComponentSpec]:
    """The saved components (uses prefetched rows when present)."""
    if mapping.pk is None:
        return []
    return [
        ComponentSpec(component.inventory_id, component.reference, component.quantity)
        for component in mapping.components.all()
    ]


@dataclass(frozen=True)
class MappingState:
    shopify_sku: str
    shopify_variant_id: int | None
    title: str
    warehouse_managed: bool
    xero_item_code: str
    xero_account_code: str
    xero_tax_type: str
    components: tuple[ComponentSpec, ...]


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str
    new: str


_LABELS = {
    "shopify_sku": "Shopify SKU",
    "shopify_variant_id": "Shopify variant id",
    "title": "Title",
    "warehouse_managed": "Warehouse managed",
    "xero_item_code": "Xero ItemCode",
    "xero_account_code": "Xero AccountCode",
    "xero_tax_type": "Xero TaxType",
    "components": "Components",
}


def mapping_state_of(
    mapping: SkuMapping, components: Sequence[ComponentSpec] | None = None
) -> MappingState:
    """A mapping's values; `components` overrides the saved ones (for an unsaved form or row)."""
    return MappingState(
        shopify_sku=mapping.shopify_sku,
        shopify_variant_id=mapping.shopify_variant_id,
        title=mapping.title,
        warehouse_managed=mapping.warehouse_managed,
        xero_item_code=mapping.xero_item_code,
        xero_account_code=mapping.xero_account_code,
        xero_tax_type=mapping.xero_tax_type,
        components=tuple(components_of(mapping) if components is None else components),
    )


def _text(name: str, value) -> str:
    if name == "components":
        return components_format(value) or "—"
    if name == "warehouse_managed":
        return "yes" if value else "no"
    return "—" if value in (None, "") else str(value)


def mapping_state_diff(old: MappingState | None, new: MappingState | None) -> list[FieldChange]:
    """The fields that differ; every non-empty field when one side is missing (an add or a delete)."""
    changes = []
    for item in fields(MappingState):
        name = item.name
        before = getattr(old, name) if old is not None else None
        after = getattr(new, name) if new is not None else None
        if before == after:
            continue
        if old is None and after in (None, "", ()):
            continue
        if new is None and before in (None, "", ()):
            continue
        changes.append(
            FieldChange(
                field=name,
                label=_LABELS[name],
                old="" if old is None else _text(name, before),
                new="" if new is None else _text(name, after),
            )
        )
    return changes


def mapping_change_summary(old: MappingState | None, new: MappingState | None) -> str:
    """One line for the mapping version and the audit trail."""
    if old is None and new is not None:
        return f"Added {new.shopify_sku}: " + _summary_values(new)
    if new is None and old is not None:
        return f"Deleted {old.shopify_sku} (was {_summary_values(old)})"
    changes = mapping_state_diff(old, new)
    described = "; ".join(f"{change.label} {change.old} → {change.new}" for change in changes)
    return f"Changed {new.shopify_sku}: {described or 'no change'}"


def _summary_values(state: MappingState) -> str:
    parts = []
    if state.shopify_variant_id is not None:
        parts.append(f"variant {state.shopify_variant_id}")
    parts.append(components_format(state.components) or "not warehouse-managed")
    parts.append(f"Xero {state.xero_item_code}/{state.xero_account_code}/{state.xero_tax_type}")
    return ", ".join(parts)
