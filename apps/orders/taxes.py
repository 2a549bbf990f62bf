"""Which Xero tax type each line of an order posts under, from Shopify's tax lines (never guessed)."""

from apps.inventory.services import TaxLineKey, TaxTypeResolution, tax_types_resolve
from apps.orders.models import Order, OrderLine, ShippingLine


def order_country(order: Order) -> str:
    address = order.shipping_address or {}
    return str(address.get("country_code") or "").upper()


def tax_types_for(order: Order, lines: list[OrderLine | ShippingLine]) -> list[TaxTypeResolution]:
    """One resolution per line (order or shipping line), in one query."""
    return tax_types_resolve(
        lines=[tuple(TaxLineKey(t.title, t.rate) for t in line.tax_lines.all()) for line in lines],
        currency=order.currency,
        country=order_country(order),
    )


def tax_problems(order: Order, lines: list[OrderLine]) -> list[tuple[OrderLine | None, str]]:
    """(line or None for shipping, why) for every line whose tax lines have no Xero tax type."""
    shipping = list(order.shipping_lines.all())
    resolutions = tax_types_for(order, [*lines, *shipping])
    problems = []
    for line, resolution in zip([*lines, *shipping], resolutions, strict=True):
        if not resolution.resolved:
            where = line if isinstance(line, OrderLine) else None
            label = "" if where else f"Shipping ({line.title or line.code}): "
            problems.append((where, label + resolution.problem))
    return problems
