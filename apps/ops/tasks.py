"""The cluster's heartbeat: a one-minute schedule (`ops.heartbeat`) that a worker runs.

It proves a worker picks up scheduled work, samples each peer budget's counters so the dashboard
can tell calls per minute and 429s per hour from the budget's running totals, and keeps the
per-hour throughput rollup up to date.
"""

import os
import socket
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.ops.models import BudgetSample, ClusterHeartbeat
from apps.ops.selectors import HEARTBEAT
from apps.ops.services import throughput_rollup
from apps.sync.models import RateBudget

SAMPLES_KEPT = timedelta(hours=25)


def heartbeat_beat() -> dict:
    now = timezone.now()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    with transaction.atomic():
        ClusterHeartbeat.objects.update_or_create(
            name=HEARTBEAT, defaults={"beat_at": now, "worker": worker}
        )
        BudgetSample.objects.bulk_create(
            BudgetSample(
                peer=budget.peer,
                at=now,
                calls_total=budget.calls_total,
                throttled_total=budget.throttled_total,
            )
            for budget in RateBudget.objects.all()
        )
        pruned, _ = BudgetSample.objects.filter(at__lt=now - SAMPLES_KEPT).delete()
    return {"worker": worker, "pruned": pruned, "rollup_hours": throughput_rollup(now=now)}
