"""Inventory exceptions → alerts, each under a stable dedupe key; one that clears is resolved.

Each kind is registered below and has an entry in docs/runbook.md (section 0, details in section 7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from apps.inventory.models import InventorySyncState, StockLevel, VariantStock
from apps.inventory.stock import low_stock_threshold
from apps.sync.alerts import alert_clear, alert_kind_register, alert_raise
from apps.sync.models import Alert, OutboxMessage

_KIND_SPECS = (
    ("inventory.drift", "Shopify's stock differs from ours for too long", "warning"),
    ("inventory.negative_stock", "The warehouse reports negative stock", "critical"),
    ("inventory.unmapped_item", "A warehouse item no SKU mapping uses", "info"),
    (
        "inventory.missing_item",
        "A mapped SKU whose warehouse item ShipBob does not report",
        "warning",
    ),
    ("inventory.mapping_unresolved", "A SKU that cannot be matched to Shopify's stock", "warning"),
    ("inventory.low_stock", "A SKU is low on stock", "warning"),
    ("inventory.sell_out", "A SKU sells out soon at the current rate", "warning"),
    ("inventory.oversold", "Orders accepted beyond the warehouse's stock", "critical"),
    ("inventory.stale_sync", "Inventory sync has stopped", "critical"),
)
KINDS = tuple(
    alert_kind_register(
        name,
        title=title,
        severity=severity,
        resolves="by itself, at the next stock check that finds the exception gone",
        auto_resolves=True,
    ).name
    for name, title, severity in _KIND_SPECS
)


@dataclass(frozen=True)
class StockException:
    kind: str
    subject: str  # the SKU or warehouse item: with the kind, the dedupe key
    message: str
    severity: str = Alert.Severity.WARNING

    @property
    def dedupe_key(self) -> str:
        return f"{self.kind}:{self.subject}"


def eta_words(minutes: float) -> str:
    """ "~40 min", "~3 h" — the rounded time a person reads at a glance."""
    if minutes < 90:
        return f"~{max(1, math.ceil(minutes))} min"
    return f"~{round(minutes / 60)} h"


def _variant_exceptions(row: VariantStock, now: datetime) -> list[StockException]:
    sku = row.mapping.shopify_sku
    found = []
    mapping = row.mapping
    if mapping.shopify_lookup_problem:
        found.append(
            StockException(
                "inventory.mapping_unresolved",
                sku,
                f"{sku} is not pushed to Shopify: {mapping.shopify_lookup_problem}",
            )
        )
    if row.problem.startswith(("ShipBob does not report", "The mapping has no warehouse")):
        found.append(
            StockException("inventory.missing_item", sku, f"{sku} is not pushed: {row.problem}")
        )
    if row.problem:
        # Not pushed (or not looked up yet): its computed figures are not what Shopify shows.
        return found
    if row.warehouse_units < 0:
        found.append(
            StockException(
                "inventory.oversold",
                sku,
                f"{sku} is oversold: orders not yet at the warehouse hold {-row.warehouse_units} "
                "more unit(s) than it can ship.",
                Alert.Severity.CRITICAL,
            )
        )
    threshold = low_stock_threshold(mapping)
    if row.available <= threshold:
        found.append(
            StockException(
                "inventory.low_stock",
                sku,
                f"{sku} is low: {row.available} available for Shopify (alert at {threshold}).",
            )
        )
    alert_minutes = float(settings.INVENTORY["SELL_OUT_ALERT_MINUTES"])
    if row.sell_out_at is not None:
        minutes = (row.sell_out_at - now).total_seconds() / 60
        if minutes <= alert_minutes:
            found.append(
                StockException(
                    "inventory.sell_out",
                    sku,
                    f"{sku} sells out in {eta_words(minutes)} at {row.velocity_per_hour}/h.",
                )
            )
    window = timedelta(minutes=int(settings.INVENTORY["DRIFT_WINDOW_MINUTES"]))
    if row.drift_since is not None and now - row.drift_since >= window:
        found.append(
            StockException(
                "inventory.drift",
                sku,
                f"{sku}: Shopify shows {row.shopify_known}, we compute {row.available}, "
                f"for {int((now - row.drift_since).total_seconds() // 60)} min.",
            )
        )
    return found


def _warehouse_exceptions(rows: list[VariantStock]) -> list[StockException]:
    used: set[str] = set()
    for row in rows:
        for component in row.mapping.components.all():
            used.add(component.warehouse_key.upper())
    found = []
    for level in StockLevel.objects.all():
        label = level.sku or str(level.inventory_id)
        if level.on_hand < 0 or level.fulfillable < 0:
            found.append(
                StockException(
                    "inventory.negative_stock",
                    str(level.inventory_id),
                    f"ShipBob reports negative stock for {label} ({level.inventory_id}): "
                    f"{level.on_hand} on hand, {level.fulfillable} fulfillable.",
                    Alert.Severity.CRITICAL,
                )
            )
        if str(level.inventory_id) not in used and level.sku.upper() not in used:
            found.append(
                StockException(
                    "inventory.unmapped_item",
                    str(level.inventory_id),
                    f"Warehouse item {label} ({level.inventory_id}, {level.fulfillable} "
                    "fulfillable) is used by no SKU mapping: its stock is never sold.",
                    Alert.Severity.INFO,
                )
            )
    return found


def _stale_sync(now: datetime) -> list[StockException]:
    state = InventorySyncState.objects.filter(pk=1).first()
    if state is None or state.pull_started_at is None:
        return []
    limit = timedelta(minutes=int(settings.INVENTORY["STALE_SYNC_MINUTES"]))
    last_pull = state.pull_finished_at
    stale = []
    if (last_pull is None and now - state.pull_started_at >= limit) or (
        last_pull is not None and now - last_pull >= limit
    ):
        stale.append(f"no complete ShipBob pull since {_when(last_pull)}")
    oldest = (
        OutboxMessage.objects.filter(
            peer="shopify",
            action="inventory_set",
            status__in=(OutboxMessage.Status.PENDING, OutboxMessage.Status.IN_FLIGHT),
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    no_push = state.last_push_at is None or now - state.last_push_at >= limit
    if oldest is not None and now - oldest >= limit and no_push:
        stale.append(
            f"pushes are waiting and none reached Shopify since {_when(state.last_push_at)}"
        )
    if not stale:
        return []
    return [
        StockException(
            "inventory.stale_sync",
            "all",
            f"Inventory sync is stale: {'; '.join(stale)}.",
            Alert.Severity.CRITICAL,
        )
    ]


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "ever"


def _link(subject: str) -> str:
    return f"{reverse('inventory:list')}?{urlencode({'q': subject, 'exceptions': '1'})}"


def stock_exceptions_check(*, rows: list[VariantStock], now: datetime) -> list[StockException]:
    """Raise an alert for each exception not already open; resolve open ones that cleared."""
    found = [e for row in rows for e in _variant_exceptions(row, now)]
    found += _warehouse_exceptions(rows)
    found += _stale_sync(now)
    current = {e.dedupe_key: e for e in found}
    open_alerts = Alert.objects.filter(kind__in=KINDS).exclude(status=Alert.Status.RESOLVED)
    open_keys = set()
    for alert in open_alerts:
        if alert.dedupe_key in current:
            open_keys.add(alert.dedupe_key)
        else:
            alert_clear(dedupe_key=alert.dedupe_key, reason="the stock check no longer finds it")
    for key, exception in current.items():
        if key in open_keys:
            continue
        alert_raise(
            kind=exception.kind,
            severity=exception.severity,
            dedupe_key=key,
            message=exception.message,
            link=_link(exception.subject if exception.subject != "all" else ""),
        )
    return found
