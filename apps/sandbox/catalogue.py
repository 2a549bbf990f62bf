"""The demo catalogue: one home for the storefront, the warehouse stand-in and `seed_demo`.

The sandbox may not import the portal (`o2c_portal`), and the portal's `seed_demo` maps exactly these
SKUs, so the catalogue lives here, below both: the storefront simulator sells it, the ShipBob
stand-in stocks its single items, and `seed_demo` maps it to the same warehouse inventory ids.
"""

from dataclasses import dataclass
from decimal import Decimal

# ShipBob inventory ids of the single items (bundles ship as their components).
DEMO_INVENTORY_ID_BASE = 700001


@dataclass(frozen=True)
class CatalogueItem:
    sku: str
    title: str
    variant_title: str
    product_id: int
    variant_id: int
    price: Decimal  # in the shop's currency (same number for USD, GBP and EUR: a demo price list)
    requires_shipping: bool = True


# The demo shop's SKUs: seed_demo maps exactly these (bundles map to several components).
CATALOGUE: tuple[CatalogueItem, ...] = (
    CatalogueItem(
        "TEE-BLK-S",
        "Organic Tee",
        "Black / S",
        9007199254740993,
        9007199254741101,
        Decimal("24.00"),
    ),
    CatalogueItem(
        "TEE-BLK-M",
        "Organic Tee",
        "Black / M",
        9007199254740993,
        9007199254741102,
        Decimal("24.00"),
    ),
    CatalogueItem(
        "TEE-WHT-L",
        "Organic Tee",
        "White / L",
        9007199254740993,
        9007199254741103,
        Decimal("24.00"),
    ),
    CatalogueItem(
        "HOOD-GRY-M",
        "Heavy Hoodie",
        "Grey / M",
        9007199254740995,
        9007199254741201,
        Decimal("59.00"),
    ),
    CatalogueItem(
        "MUG-WHT", "Enamel Mug", "White", 9007199254740997, 9007199254741301, Decimal("14.50")
    ),
    CatalogueItem(
        "CAP-NVY", "Field Cap", "Navy", 9007199254740999, 9007199254741401, Decimal("19.99")
    ),
    CatalogueItem(
        "SOCK-3PK",
        "Wool Socks 3-pack",
        "One size",
        9007199254741001,
        9007199254741501,
        Decimal("17.95"),
    ),
    CatalogueItem(
        "GIFT-SET-01",
        "Gift Set (tee + mug)",
        "Default",
        9007199254741003,
        9007199254741601,
        Decimal("34.00"),
    ),
    CatalogueItem(
        "GIFT-SET-02",
        "Gift Set (cap + socks)",
        "Default",
        9007199254741005,
        9007199254741701,
        Decimal("32.50"),
    ),
)
# Bundle SKUs and their components: the warehouse stocks and ships the components.
BUNDLES: dict[str, tuple[tuple[str, int], ...]] = {
    "GIFT-SET-01": (("TEE-BLK-M", 1), ("MUG-WHT", 1)),
    "GIFT-SET-02": (("CAP-NVY", 1), ("SOCK-3PK", 1)),
}


def warehouse_items() -> list[tuple[int, CatalogueItem]]:
    """The single items and their warehouse inventory ids, as the ShipBob stand-in stocks them."""
    singles = [item for item in CATALOGUE if item.sku not in BUNDLES]
    return [(DEMO_INVENTORY_ID_BASE + index, item) for index, item in enumerate(singles)]
