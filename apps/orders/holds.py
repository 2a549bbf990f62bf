"""Ways out of a hold, for the Ops role that works the queue; every one audited.

- A line with no SKU (a custom item): map its title to an existing SKU mapping, or mark it not
  shipped (billed only) or shipped by hand, with a reason. The portal never guesses a SKU.
- The whole order: release with an override ("ship the rest, these lines by hand"), or cancel the
  hold (the order is not processed by the portal), each with a reason.
- A mapping save (SKU, variant, title or tax type) releases, in its own transaction, every order
  held only for what it now maps, and resolves the alerts no order needs any more.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Upper

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.inventory.models import MappingVersion, SkuMapping, TitleMapping
from apps.inventory.services import mapping_version_bump, on_mapping_changed
from apps.orders.events import order_event
from apps.orders.models import Hold, Order, OrderLine
from apps.orders.services import holds_close, order_resolve

RELEASE_PERMISSION = "orders.release_hold"
# Line problems a person can settle by handling the line outside the warehouse.
LINE_REASONS = (Hold.Reason.NO_SKU, Hold.Reason.UNKNOWN_SKU, Hold.Reason.AMBIGUOUS_SKU)


def _require_releaser(actor) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(RELEASE_PERMISSION):
        raise PermissionDenied("Only Ops clears holds.")


def _reason_required(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say why: the reason is kept with the order and in the audit trail.")
    return reason[:500]


def _locked_held(order_id: int) -> Order:
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.status != Order.Status.HELD:
        raise ValidationError(f"{order.name} is not held (it is {order.get_status_display()}).")
    return order


def order_line_handle(*, actor, line: OrderLine, handling: str, reason: str) -> Order:
    """Mark a held line not shipped (billed only) or shipped by hand; the order is re-checked."""
    _require_releaser(actor)
    if handling not in (OrderLine.Handling.NOT_SHIPPED, OrderLine.Handling.BY_HAND):
        raise ValidationError("Choose 'not shipped' or 'shipped by hand'.")
    reason = _reason_required(reason)
    with transaction.atomic():
        order = _locked_held(line.order_id)
        line = OrderLine.objects.get(pk=line.pk)
        line.handling, line.handling_reason = handling, reason
        line.save(update_fields=["handling", "handling_reason"])
        order_event(
            order=order,
            kind="hold.line_handled",
            message=f"Line {line.title!r}: {line.get_handling_display()} — {reason}",
            data={"line": line.pk, "handling": handling},
        )
        order_resolve(order=order, actor=actor)
        audit_record(
            actor=actor,
            verb=verbs.ORDER_LINE_HANDLING_CHANGED,
            target=order,
            data={
                "line": line.pk,
                "title": line.title,
                "handling": handling,
                "reason": reason,
                "result": order.status,
            },
        )
        return order


def order_line_title_map(*, actor, line: OrderLine, mapping: SkuMapping) -> TitleMapping:
    """Map a custom item's title to an existing SKU mapping: a mapping change (versioned), which
    releases every order held only for lines of that title."""
    _require_releaser(actor)
    if line.sku:
        raise ValidationError("Only a line without SKU is mapped by its title.")
    title = line.title.strip()
    with transaction.atomic():
        if TitleMapping.objects.annotate(t=Upper("shopify_title")).filter(t=title.upper()).exists():
            raise ValidationError(f"The title {title!r} is already mapped.")
        row = TitleMapping.objects.create(
            shopify_title=title, sku_mapping=mapping, created_by=actor
        )
        mapping_version_bump(actor=actor, summary=f"title {title!r} → SKU {mapping.shopify_sku}")
    return row


def order_hold_override(*, actor, order: Order, reason: str) -> Order:
    """Release with an override: every line the mapping cannot resolve is shipped by hand; the
    rest goes to the warehouse."""
    _require_releaser(actor)
    reason = _reason_required(reason)
    with transaction.atomic():
        order = _locked_held(order.pk)
        line_ids = list(
            order.holds.filter(
                released_at__isnull=True, reason__in=LINE_REASONS, line__isnull=False
            ).values_list("line", flat=True)
        )
        if not line_ids:
            raise ValidationError(
                "Nothing here can be shipped by hand: the hold is not about a line's SKU."
            )
        OrderLine.objects.filter(pk__in=line_ids).update(
            handling=OrderLine.Handling.BY_HAND, handling_reason=reason
        )
        order_event(
            order=order,
            kind="hold.override",
            message=f"Released with an override: {len(line_ids)} line(s) by hand — {reason}",
            data={"lines": line_ids},
        )
        order_resolve(order=order, actor=actor)
        audit_record(
            actor=actor,
            verb=verbs.ORDER_HOLD_OVERRIDDEN,
            target=order,
            data={"lines": line_ids, "reason": reason, "result": order.status},
        )
        return order


def order_hold_cancel(*, actor, order: Order, reason: str) -> Order:
    """Cancel the hold: the portal stops processing the order (nothing goes to the warehouse)."""
    _require_releaser(actor)
    reason = _reason_required(reason)
    with transaction.atomic():
        order = _locked_held(order.pk)
        holds = list(order.holds.filter(released_at__isnull=True).select_related("order"))
        holds_close(holds=holds, actor=actor, note=reason)
        order.status = Order.Status.CANCELLED
        order.save(update_fields=["status", "updated_at"])
        order_event(
            order=order,
            kind="hold.cancelled",
            message=f"Hold cancelled, order not processed by the portal — {reason}",
            data={"from": Order.Status.HELD, "to": order.status},
        )
        audit_record(
            actor=actor,
            verb=verbs.ORDER_HOLD_CANCELLED,
            target=order,
            data={"reason": reason, "holds": [hold.pk for hold in holds]},
        )
    return order


@on_mapping_changed
def holds_release_for_mapping(version: MappingVersion) -> list[Order]:
    """Inside the mapping change's transaction: re-check every held order with a hold the new
    mapping may clear; those with nothing else wrong are released."""
    skus = SkuMapping.objects.annotate(u=Upper("shopify_sku")).values("u")
    variants = SkuMapping.objects.filter(shopify_variant_id__isnull=False).values(
        "shopify_variant_id"
    )
    titles = TitleMapping.objects.annotate(u=Upper("shopify_title")).values("u")
    fixable = (
        Hold.objects.filter(released_at__isnull=True, order=OuterRef("pk"))
        .annotate(sku_u=Upper("sku"), title_u=Upper("line__title"))
        .filter(
            Q(reason=Hold.Reason.UNMAPPED_TAX)
            | Q(reason__in=LINE_REASONS, sku_u__in=skus)
            | Q(reason__in=LINE_REASONS, variant_id__in=variants)
            | Q(reason=Hold.Reason.NO_SKU, title_u__in=titles)
        )
    )
    released = []
    with transaction.atomic():  # the caller's transaction (mapping_version_bump runs inside one)
        for order in Order.objects.select_for_update().filter(
            Exists(fixable), status=Order.Status.HELD
        ):
            order_resolve(order=order, actor=None)
            # Audited for each order whose hold the mapping cleared; `result` says whether the
            # order is free or still held for something else.
            audit_record(
                actor=None,
                actor_label="system:mapping",
                verb=verbs.ORDER_HOLD_AUTO_RELEASED,
                target=order,
                data={"mapping_version": version.pk, "result": order.status},
            )
            if order.status != Order.Status.HELD:
                released.append(order)
    return released
