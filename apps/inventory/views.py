"""The inventory page: every mapped variant's stock figures, filters, CSV, the drift report."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.inventory.drift import drift_report_start
from apps.inventory.models import DriftReport
from apps.inventory.selectors import FILTERS, inventory_overview, variant_stock_search
from apps.web import choice, paginate, redirect_after_post, render_page

VIEW = "inventory.view_variantstock"
CSV_COLUMNS = (
    "sku",
    "title",
    "fulfillable",
    "pending",
    "buffer",
    "available",
    "last_pushed",
    "last_pushed_at",
    "shopify_known",
    "drift",
    "velocity_per_hour",
    "sell_out_at",
    "computed_at",
    "problem",
)


def _filters(request: HttpRequest) -> tuple[str, str]:
    only = choice(request.GET.get("only"), FILTERS)
    if request.GET.get("exceptions") == "1":
        only = "exceptions"
    return request.GET.get("q", "").strip()[:100], only


@vary_on_headers("HX-Request")
@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def stock_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    query, only = _filters(request)
    context = {
        "page_obj": paginate(request, variant_stock_search(query=query, only=only, now=now)),
        "q": query,
        "only": only,
        "filters": FILTERS,
        "now": now,
        "can_run_report": request.user.has_perm("inventory.run_driftreport"),
        **inventory_overview(now=now),
    }
    return render_page(request, "inventory/variantstock_list.html", "stock-table", context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def stock_export(request: HttpRequest) -> HttpResponse:
    query, only = _filters(request)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="inventory.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for row in variant_stock_search(query=query, only=only, now=timezone.now()).iterator(2000):
        writer.writerow(
            [
                row.mapping.shopify_sku,
                row.mapping.title,
                row.fulfillable,
                row.pending,
                row.buffer,
                row.available,
                row.last_pushed,
                row.last_pushed_at.isoformat() if row.last_pushed_at else "",
                row.shopify_known,
                row.drift,
                row.velocity_per_hour,
                row.sell_out_at.isoformat() if row.sell_out_at else "",
                row.computed_at.isoformat() if row.computed_at else "",
                row.problem,
            ]
        )
    return response


@login_required
@permission_required("inventory.run_driftreport", raise_exception=True)
@require_POST
def drift_report_run(request: HttpRequest) -> HttpResponse:
    report = drift_report_start(trigger=DriftReport.Trigger.ON_DEMAND, actor=request.user)
    messages.success(
        request, "Drift report started: it reads every level from Shopify, then corrects."
    )
    return redirect_after_post(request, report)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def drift_report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(DriftReport, pk=pk)
    return render(request, "inventory/driftreport_detail.html", {"report": report})
