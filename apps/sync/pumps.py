"""Pumps: the receipts pump and one outbox pump per peer, each run by at most one worker at a time.

A run takes the pump's `PumpLease` by compare-and-set (free, expired, or already ours), renews it
while working and releases it at the end; a worker that dies frees the pump when the lease expires.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apps.sync import registry
from apps.sync.models import PumpLease
from apps.sync.outbox import outbox_pump_step
from apps.sync.receipts import receipts_pump_step
from apps.sync.stats import PumpStats

logger = logging.getLogger(__name__)

IDLE_SLEEP_SECONDS = 0.5


def pump_names() -> list[str]:
    """ "receipts" plus one pump per peer with registered outbox actions."""
    return [registry.RECEIPTS_PUMP, *registry.peers_with_actions()]


def _lease_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"


def lease_acquire(*, name: str, holder: str, seconds: float) -> bool:
    """Take the lease if it is free, expired or already ours (compare-and-set)."""
    now = timezone.now()
    PumpLease.objects.bulk_create([PumpLease(name=name)], ignore_conflicts=True)
    return bool(
        PumpLease.objects.filter(name=name)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__lte=now) | Q(holder=holder))
        .update(holder=holder, expires_at=now + timedelta(seconds=seconds))
    )


def lease_renew(*, name: str, holder: str, seconds: float) -> bool:
    """Extend our lease; False if we lost it (it expired and another runner took it)."""
    now = timezone.now()
    return bool(
        PumpLease.objects.filter(name=name, holder=holder, expires_at__gt=now).update(
            expires_at=now + timedelta(seconds=seconds)
        )
    )


def lease_release(*, name: str, holder: str) -> None:
    PumpLease.objects.filter(name=name, holder=holder).update(
        holder="", expires_at=None, last_run_at=timezone.now()
    )


def _pump_step(name: str, stats: PumpStats) -> int:
    if name == registry.RECEIPTS_PUMP:
        return receipts_pump_step(stats=stats)
    return outbox_pump_step(peer=name, stats=stats)


def pump_run(name: str, *, seconds: float | None = None, once: bool = False) -> PumpStats:
    """Run one pump while holding its lease.

    `once` (or no `seconds`): drain what is due now, then return. `seconds`: keep draining until
    then, sleeping briefly when idle, so a once-a-minute schedule processes work near real time.
    """
    if name not in pump_names():
        raise ValueError(f"Unknown pump {name!r}; known: {', '.join(pump_names())}")
    stats = PumpStats(name=name)
    started = time.monotonic()
    lease_seconds = float(settings.SYNC["LEASE_SECONDS"])
    holder = _lease_holder()
    if not lease_acquire(name=name, holder=holder, seconds=lease_seconds):
        stats.seconds = time.monotonic() - started
        return stats
    stats.acquired = True
    deadline = started + seconds if seconds is not None else None
    renewed = time.monotonic()
    worked = False
    try:
        while deadline is None or time.monotonic() < deadline:
            if time.monotonic() - renewed > lease_seconds / 3:
                if not lease_renew(name=name, holder=holder, seconds=lease_seconds):
                    logger.warning("pump %s lost its lease; stopping", name)
                    stats.lease_lost = True
                    break
                renewed = time.monotonic()
            worked = bool(_pump_step(name, stats))
            if worked:
                continue
            if once or deadline is None:
                break
            time.sleep(max(0.0, min(IDLE_SLEEP_SECONDS, deadline - time.monotonic())))
    finally:
        stats.backlog = worked and not stats.lease_lost
        if not stats.lease_lost:
            lease_release(name=name, holder=holder)
        stats.seconds = round(time.monotonic() - started, 3)
    return stats
