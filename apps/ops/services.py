"""Control-room actions: triage of the exception queue (assign, resolve, retry) and the rollups."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.ops.models import ExceptionTriage, ThroughputHour
from apps.ops.selectors import FLOWS, TICKET_FLOWS, flow_counts, hour_start
from apps.sync.exceptions import ExternalWrite, exception_source

ExceptionKey = tuple[str, int]  # (source kind, row id)
ROLLUP_DAYS = 7
# Finished hours are counted again this long after they end: late rows (a poll catching up) land.
ROLLUP_RECOUNT = timedelta(hours=2)


def _keys_by_kind(keys: list[ExceptionKey]) -> dict[str, list[int]]:
    by_kind: dict[str, list[int]] = {}
    for kind, pk in keys:
        if exception_source(kind) is None:
            raise ValueError(f"Unknown exception kind {kind!r}")
        by_kind.setdefault(kind, []).append(pk)
    return by_kind


def _triage_rows(keys: list[ExceptionKey]) -> list[ExceptionTriage]:
    """The triage rows of these exceptions, created where missing, locked (inside a transaction)."""
    ExceptionTriage.objects.bulk_create(
        [ExceptionTriage(kind=kind, object_id=pk) for kind, pk in keys], ignore_conflicts=True
    )
    rows = []
    for kind, ids in _keys_by_kind(keys).items():
        rows += list(
            ExceptionTriage.objects.select_for_update().filter(kind=kind, object_id__in=ids)
        )
    return rows


def exceptions_assign(*, actor, keys: list[ExceptionKey], assignee) -> int:
    """Give these exceptions to a person (None: nobody); one audit row each."""
    now = timezone.now()
    with transaction.atomic():
        rows = _triage_rows(keys)
        for row in rows:
            row.assignee = assignee
            row.assigned_at = now if assignee else None
            row.save(update_fields=["assignee", "assigned_at"])
            audit_record(
                actor=actor,
                verb=verbs.EXCEPTION_ASSIGNED,
                target=row,
                data={"kind": row.kind, "id": row.object_id, "to": getattr(assignee, "email", "")},
            )
    return len(rows)


def exceptions_resolve(*, actor, keys: list[ExceptionKey], reason: str) -> int:
    """Take these exceptions off the queue with a reason (they come back if they fail again)."""
    reason = reason.strip()
    if not reason:
        raise ValueError("Say why these are resolved.")
    now = timezone.now()
    with transaction.atomic():
        rows = _triage_rows(keys)
        for row in rows:
            row.resolved_by, row.resolved_at, row.resolution = actor, now, reason[:2000]
            row.save(update_fields=["resolved_by", "resolved_at", "resolution"])
            audit_record(
                actor=actor,
                verb=verbs.EXCEPTION_RESOLVED,
                target=row,
                data={"kind": row.kind, "id": row.object_id, "reason": reason[:2000]},
            )
    return len(rows)


@dataclass
class RetryReport:
    dry_run: bool
    retried: int = 0
    writes: list[ExternalWrite] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    not_retryable: list[str] = field(default_factory=list)  # kinds without a retry


def exceptions_retry(*, actor, keys: list[ExceptionKey], dry_run: bool) -> RetryReport:
    """Send these exceptions through the pipeline again, each kind through its own audited service.

    A dry run changes nothing and lists the requests the retry would send to peers.
    """
    report = RetryReport(dry_run=dry_run)
    for kind, ids in _keys_by_kind(keys).items():
        source = exception_source(kind)
        if source.retry is None:
            report.not_retryable.append(source.label)
            continue
        outcome = source.retry(actor=actor, ids=ids, dry_run=dry_run)
        report.retried += outcome.retried
        report.writes += outcome.writes
        report.skipped += outcome.skipped
    return report


def throughput_rollup(*, now: datetime | None = None) -> int:
    """Store per-hour counts of every flow for the finished hours of the last week.

    Hours already stored and older than ROLLUP_RECOUNT are kept; the rest are counted (a first run
    fills the week: one query per flow). Returns the rows written.
    """
    now = now or timezone.now()
    current = hour_start(now)
    start = current - timedelta(days=ROLLUP_DAYS)
    written = 0
    for key, _label, rows, time_field in (*FLOWS, *TICKET_FLOWS):
        have = set(
            ThroughputHour.objects.filter(
                flow=key, hour__gte=start, hour__lt=current - ROLLUP_RECOUNT
            ).values_list("hour", flat=True)
        )
        hours = [start + timedelta(hours=i) for i in range(ROLLUP_DAYS * 24)]
        missing = [hour for hour in hours if hour not in have]
        if not missing:
            continue
        counts = flow_counts(
            time_field, rows().filter(**{f"{time_field}__lt": current}), since=missing[0]
        )
        with transaction.atomic():
            ThroughputHour.objects.filter(flow=key, hour__in=missing).delete()
            ThroughputHour.objects.bulk_create(
                ThroughputHour(flow=key, hour=hour, count=counts.get(hour, 0)) for hour in missing
            )
        written += len(missing)
    ThroughputHour.objects.filter(hour__lt=start).delete()
    return written
