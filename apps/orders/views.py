"""Orders list, order page with its timeline, and the holds list for Ops."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.db.models.functions import Upper
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.inventory.models import SkuMapping
from apps.orders.holds import (
    order_hold_cancel,
    order_hold_override,
    order_line_handle,
    order_line_title_map,
)
from apps.orders.models import Hold, Order, OrderLine, ShipmentLine
from apps.orders.selectors import holds_open, order_search, order_timeline, skus_mapped
from apps.orders.services import order_holds_release
from apps.web import choice, paginate, redirect_after_post, render_page, selected_ids


@vary_on_headers("HX-Request")
@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    status = choice(request.GET.get("status"), Order.Status.values)
    query = request.GET.get("q", "")[:100]
    context = {
        "page_obj": paginate(request, order_search(status=status, query=query)),
        "status": status,
        "q": query,
        "statuses": Order.Status.choices,
    }
    return render_page(request, "orders/order_list.html", "orders-table", context)


@vary_on_headers("HX-Request")
@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(
        Order.objects.prefetch_related(
            Prefetch(
                "lines",
                OrderLine.objects.select_related("sku_mapping").prefetch_related(
                    "tax_lines", "discount_allocations"
                ),
            ),
            "shipping_lines__tax_lines",
            "refunds__lines",
            # The shipment lines' order lines come joined, not as a second read of every line.
            Prefetch("shipments__lines", ShipmentLine.objects.select_related("order_line")),
        ),
        pk=pk,
    )
    context = {
        "order": order,
        "timeline": order_timeline(order),
        "open_holds": list(order.holds.filter(released_at__isnull=True).select_related("line")),
    }
    return render_page(request, "orders/order_detail.html", "order-timeline", context)


@login_required
@permission_required("orders.release_hold", raise_exception=True)
@require_POST
def order_release(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(Order, pk=pk)
    released = order_holds_release(actor=request.user, orders=[order])
    if released:
        messages.success(
            request, f"{order.name} released: it is {released[0].get_status_display().lower()} now."
        )
    else:
        messages.error(
            request,
            f"{order.name} is still held: fix the mapping named in each hold, then release.",
        )
    return redirect_after_post(request, order)


@vary_on_headers("HX-Request")
@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def hold_list(request: HttpRequest) -> HttpResponse:
    reason = choice(request.GET.get("reason"), Hold.Reason.values)
    holds = holds_open()
    if reason:
        holds = holds.filter(reason=reason)
    by_sku = (
        holds_open()
        .exclude(sku="")
        .annotate(sku_upper=Upper("sku"))
        .exclude(sku_upper__in=skus_mapped())  # mapped since: released on the save
        .values("sku", "reason")
        .annotate(orders=Count("order", distinct=True))
        .order_by("-orders", "sku")[:20]
    )
    context = {
        "page_obj": paginate(request, holds),
        "reason": reason,
        "reasons": Hold.Reason.choices,
        "by_sku": by_sku,
        "can_map": request.user.has_perm("inventory.add_skumapping"),
        "can_map_tax": request.user.has_perm("inventory.add_taxtypemapping"),
    }
    return render_page(request, "orders/hold_list.html", "hold-table", context)


@login_required
@permission_required("orders.release_hold", raise_exception=True)
@require_POST
def hold_release(request: HttpRequest) -> HttpResponse:
    """Release the selected held orders, or every order held on one SKU after its mapping was fixed."""
    orders = Order.objects.filter(status=Order.Status.HELD)
    sku = request.POST.get("sku", "").strip()
    if sku:
        orders = orders.filter(holds__released_at__isnull=True, holds__sku__iexact=sku).distinct()
    else:
        orders = orders.filter(pk__in=selected_ids(request))
    candidates = list(orders[:500])
    released = order_holds_release(actor=request.user, orders=candidates)
    still = len(candidates) - len(released)
    messages.success(request, f"Released {len(released)} order(s); {still} still held.")
    return redirect_after_post(request, "orders:hold-list")


# --- Ways out of a hold (apps/orders/holds.py) -----------------------------------------------------


def _hold_action(request: HttpRequest, order: Order, action, done: str) -> HttpResponse:
    try:
        action()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect_after_post(request, order)


@login_required
@permission_required("orders.release_hold", raise_exception=True)
@require_POST
def line_handle(request: HttpRequest, pk: int) -> HttpResponse:
    """A line without SKU: not shipped (billed only) or shipped by hand, with a reason."""
    line = get_object_or_404(OrderLine.objects.select_related("order"), pk=pk)
    handling = request.POST.get("handling", "")
    return _hold_action(
        request,
        line.order,
        lambda: order_line_handle(
            actor=request.user,
            line=line,
            handling=handling,
            reason=request.POST.get("reason", ""),
        ),
        f"Line {line.title!r}: {dict(OrderLine.Handling.choices).get(handling, handling)}.",
    )


@login_required
@permission_required("orders.release_hold", raise_exception=True)
@require_POST
def line_title_map(request: HttpRequest, pk: int) -> HttpResponse:
    """Map a custom item's title to the SKU mapping a person names (never guessed)."""
    line = get_object_or_404(OrderLine.objects.select_related("order"), pk=pk)
    sku = request.POST.get("sku", "").strip()
    mapping = SkuMapping.objects.filter(shopify_sku__iexact=sku).first() if sku else None
    if mapping is None:
        messages.error(request, f"No SKU mapping {sku!r}: give the SKU of an existing mapping.")
        return redirect_after_post(request, line.order)
    return _hold_action(
        request,
        line.order,
        lambda: order_line_title_map(actor=request.user, line=line, mapping=mapping),
        f"Title {line.title!r} is now SKU {mapping.shopify_sku}; orders held on it are released.",
    )


@login_required
@permission_required("orders.release_hold", raise_exception=True)
@require_POST
def hold_override(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(Order, pk=pk)
    return _hold_action(
        request,
        order,
        lambda: order_hold_override(
            actor=request.user, order=order, reason=request.POST.get("reason", "")
        ),
        f"{order.name} released with an override: unresolved lines are shipped by hand.",
    )


@login_required
@permission_required("orders.release_hold", raise_exception=True)
@require_POST
def hold_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(Order, pk=pk)
    return _hold_action(
        request,
        order,
        lambda: order_hold_cancel(
            actor=request.user, order=order, reason=request.POST.get("reason", "")
        ),
        f"{order.name}: hold cancelled, the portal will not process it.",
    )
