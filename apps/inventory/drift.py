"""The drift report: every Shopify level at our locations read back and compared, then corrected.

`shopify.inventory_read` pages `location.inventoryLevels` (inventory lane); each page records the
differences against the computed values and updates what we last read from Shopify; the last page
recomputes, which queues a push (compare-and-set against what was just read) for each difference.
Runs nightly (schedule `inventory.drift_report`) and on demand from the inventory page.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.inventory.models import DriftReport, SkuMapping, VariantStock
from apps.inventory.sync import LANE_INVENTORY, shopify_client, stock_refresh
from apps.sync.models import OutboxMessage
from apps.sync.outbox import Sent, outbox_action, outbox_enqueue


def drift_report_start(*, trigger: str, actor=None) -> DriftReport:
    """Read every level Shopify holds at our locations, then correct what differs."""
    with transaction.atomic():
        report = DriftReport.objects.create(
            trigger=trigger,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        locations = sorted(
            set(
                SkuMapping.objects.filter(shopify_location_id__isnull=False).values_list(
                    "shopify_location_id", flat=True
                )
            )
        )
        audit_record(
            actor=actor,
            actor_label=None if actor else "system:inventory",
            verb=verbs.DRIFT_REPORT_REQUESTED,
            target=report,
            data={"trigger": trigger, "locations": locations},
        )
        if locations:
            _read_page_enqueue(report=report, locations=locations, index=0, page=1, cursor=None)
        else:
            report.finished_at = timezone.now()
            report.save(update_fields=["finished_at"])
    return report


def _read_page_enqueue(
    *, report: DriftReport, locations: list[int], index: int, page: int, cursor: str | None
) -> OutboxMessage:
    return outbox_enqueue(
        peer="shopify",
        action="inventory_read",
        idempotency_key=f"shopify.inventory_read:{report.pk}:{index}:{page}",
        payload={
            "report": report.pk,
            "locations": locations,
            "index": index,
            "page": page,
            "cursor": cursor,
        },
        priority=LANE_INVENTORY,
        subject=report,
    )


def _read_done(message: OutboxMessage, result: dict) -> None:
    now = timezone.now()
    payload = message.payload
    report = DriftReport.objects.select_for_update().get(pk=payload["report"])
    location = payload["locations"][payload["index"]]
    read = dict(result["levels"])
    rows = list(
        VariantStock.objects.select_for_update()
        .select_related("mapping")
        .filter(
            mapping__shopify_location_id=location,
            mapping__shopify_inventory_item_id__in=list(read),
        )
    )
    for row in rows:
        shopify = read[row.mapping.shopify_inventory_item_id]
        if shopify != row.available:
            report.differences.append(
                {"sku": row.mapping.shopify_sku, "shopify": shopify, "computed": row.available}
            )
        row.shopify_known, row.shopify_known_at = shopify, now
    VariantStock.objects.bulk_update(rows, ["shopify_known", "shopify_known_at"], batch_size=500)
    report.items_read += len(read)
    report.save(update_fields=["differences", "items_read"])
    if result.get("next"):
        _read_page_enqueue(
            report=report,
            locations=payload["locations"],
            index=payload["index"],
            page=payload["page"] + 1,
            cursor=result["next"],
        )
        return
    if payload["index"] + 1 < len(payload["locations"]):
        _read_page_enqueue(
            report=report,
            locations=payload["locations"],
            index=payload["index"] + 1,
            page=1,
            cursor=None,
        )
        return
    refreshed = {row.mapping.shopify_sku: row for row in stock_refresh(now=now)}
    for difference in report.differences:
        row = refreshed.get(difference["sku"])
        if row is None:
            difference["corrected"] = "no longer mapped"
        elif row.push_key:
            difference["corrected"] = f"set to {row.available}"
        elif row.problem:
            difference["corrected"] = f"not pushed: {row.problem}"
        else:
            difference["corrected"] = "already equal after recompute"
    report.finished_at = now
    report.save(update_fields=["differences", "finished_at"])


@outbox_action("shopify", "inventory_read", on_done=_read_done)
def shopify_inventory_read(messages: list[OutboxMessage]) -> list:
    outcomes = []
    with shopify_client() as client:
        for message in messages:
            payload = message.payload
            page = client.inventory_levels(
                location_id=payload["locations"][payload["index"]], cursor=payload["cursor"]
            )
            outcomes.append(Sent(result={"levels": page.levels, "next": page.next_cursor}))
    return outcomes


def drift_report_nightly_task() -> dict:
    report = drift_report_start(trigger=DriftReport.Trigger.NIGHTLY)
    return {"report": report.pk}
