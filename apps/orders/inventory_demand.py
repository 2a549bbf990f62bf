"""Tells the inventory computation what orders hold: units not yet at the warehouse, units sold."""

from datetime import datetime

from django.db.models import Q, Sum

from apps.inventory.demand import Demand, demand_provider
from apps.orders.models import Order, OrderLine


def _units(lines) -> dict[int, int]:
    rows = lines.values("sku_mapping_id").annotate(units=Sum("quantity"))
    return {row["sku_mapping_id"]: row["units"] for row in rows if row["units"]}


@demand_provider
def order_demand(*, stock_read_at: datetime | None, sold_since: datetime) -> Demand:
    """Pending: lines of orders not yet at the warehouse, or submitted after it counted its stock
    (its count does not include them yet). Sold: every shippable line ordered since `sold_since`."""
    lines = OrderLine.objects.filter(sku_mapping__isnull=False, requires_shipping=True).exclude(
        order__status=Order.Status.CANCELLED
    )
    waiting = Q(order__status__in=Order.RESOLVABLE)
    if stock_read_at is not None:
        waiting |= Q(order__submitted_at__gt=stock_read_at)
    return Demand(
        pending=_units(lines.filter(waiting)),
        sold=_units(lines.filter(order__shopify_created_at__gte=sold_since)),
    )
