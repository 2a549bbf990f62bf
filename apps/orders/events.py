"""The order's own history, shown on its timeline."""

from apps.orders.models import Order, OrderEvent


def order_event(*, order: Order, kind: str, message: str, data: dict | None = None) -> OrderEvent:
    return OrderEvent.objects.create(order=order, kind=kind, message=message[:500], data=data or {})
