"""Reads for the inventory page: variants with their figures, filters, the sync's state."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from apps.inventory.models import (
    DriftReport,
    InventorySyncState,
    PeakBufferProfile,
    VariantStock,
    WarehouseComponent,
)

FILTERS = ("exceptions", "low", "bundles")


def variant_stock_search(*, query: str = "", only: str = "", now: datetime) -> QuerySet:
    """Variants by SKU or title; `only`: exceptions (anything alerting), low, or bundles."""
    low_at = Coalesce(
        F("mapping__policy__low_stock_threshold"), Value(int(settings.INVENTORY["LOW_STOCK"]))
    )
    rows = (
        VariantStock.objects.select_related("mapping", "mapping__policy")
        .annotate(
            low_at=low_at,
            is_bundle=Exists(
                WarehouseComponent.objects.filter(mapping=OuterRef("mapping")).filter(
                    Q(quantity__gt=1)
                    | Exists(
                        WarehouseComponent.objects.filter(mapping=OuterRef("mapping")).exclude(
                            pk=OuterRef("pk")
                        )
                    )
                )
            ),
        )
        .order_by("mapping__shopify_sku")
    )
    if query:
        rows = rows.filter(
            Q(mapping__shopify_sku__icontains=query) | Q(mapping__title__icontains=query)
        )
    low = Q(problem="", available__lte=F("low_at"))
    if only == "low":
        rows = rows.filter(low)
    elif only == "bundles":
        rows = rows.filter(is_bundle=True)
    elif only == "exceptions":
        soon = now + timedelta(minutes=int(settings.INVENTORY["SELL_OUT_ALERT_MINUTES"]))
        drift_window = timedelta(minutes=int(settings.INVENTORY["DRIFT_WINDOW_MINUTES"]))
        rows = rows.filter(
            ~Q(problem="")
            | low
            | Q(problem="", warehouse_units__lt=0)
            | Q(problem="", sell_out_at__lte=soon)
            | Q(problem="", drift_since__lte=now - drift_window)
        )
    return rows


def inventory_overview(*, now: datetime) -> dict:
    """The page's header: sync times, the active and next peak profiles, the latest drift report."""
    return {
        "state": InventorySyncState.objects.filter(pk=1).first(),
        "peak_active": PeakBufferProfile.objects.filter(
            applied_at__isnull=False, reverted_at__isnull=True
        ).first(),
        "peak_next": PeakBufferProfile.objects.filter(applied_at__isnull=True, ends_at__gt=now)
        .order_by("starts_at")
        .first(),
        "drift_report": DriftReport.objects.first(),
    }
