"""Tells the SKU mapping admin which open orders a mapping change would touch, before it is saved."""

from django.db.models import Q
from django.db.models.functions import Upper

from apps.inventory.services import Impact, mapping_impact_provider
from apps.orders.models import Order


@mapping_impact_provider
def open_orders_using(skus: set[str], variant_ids: set[int]) -> list[Impact]:
    if not skus and not variant_ids:
        return []
    match = Q()
    if skus:
        match |= Q(line_sku_upper__in=skus)
    if variant_ids:
        match |= Q(lines__variant_id__in=variant_ids)
    orders = (
        Order.objects.filter(status__in=Order.RESOLVABLE)
        .alias(line_sku_upper=Upper("lines__sku"))
        .filter(match)
        .distinct()
        .order_by("-shopify_created_at")[:200]
    )
    return [
        Impact(
            label=order.name, url=order.get_absolute_url(), detail=f"{order.get_status_display()}"
        )
        for order in orders
    ]
