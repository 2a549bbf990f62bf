"""Where an order stands with the warehouse, from its shipments: partially shipped, shipped, fulfilled."""

from django.db.models import Sum

from apps.orders.events import order_event
from apps.orders.models import Order, OrderLine, ShipmentLine
from integrations.shipbob.client import SHIPMENT_CANCELLED


def shippable_lines_outstanding(order: Order) -> list[tuple[OrderLine, dict[str, int], int]]:
    """Per warehouse-shipped line: units of each component one Shopify unit takes, units still to ship."""
    shipped = dict(
        ShipmentLine.objects.filter(shipment__order=order)
        .exclude(shipment__status=SHIPMENT_CANCELLED)
        .values_list("order_line")
        .annotate(total=Sum("quantity"))
    )
    needs = []
    for line in order.lines.select_related("sku_mapping").prefetch_related(
        "sku_mapping__components"
    ):
        if (
            not line.requires_shipping
            or line.sku_mapping is None
            or not line.sku_mapping.warehouse_managed
        ):
            continue
        per_unit = {
            component.warehouse_key: component.quantity
            for component in line.sku_mapping.components.all()
        }
        remaining = line.quantity - shipped.get(line.pk, 0)
        if per_unit and remaining > 0:
            needs.append((line, per_unit, remaining))
    return needs


def order_status_from_shipments(*, order: Order) -> None:
    """Partially shipped, shipped, or fulfilled (every parcel written to Shopify); with the row locked."""
    if order.status not in Order.AT_WAREHOUSE:
        return
    outstanding = shippable_lines_outstanding(order)
    shipped_any = order.shipments.exclude(status=SHIPMENT_CANCELLED).exists()
    if outstanding:
        status = Order.Status.PARTIALLY_SHIPPED if shipped_any else Order.Status.SUBMITTED
    elif (
        order.shipments.exclude(status=SHIPMENT_CANCELLED)
        .filter(fulfillment_status__in=["pending", "failed"])
        .exists()
    ):
        status = Order.Status.SHIPPED
    else:
        status = Order.Status.FULFILLED
    if status != order.status:
        previous = order.status
        order.status = status
        order.save(update_fields=["status", "updated_at"])
        order_event(
            order=order,
            kind=f"status.{status}",
            message=f"Status {previous} → {status}",
            data={"from": previous, "to": status},
        )
