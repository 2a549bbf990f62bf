"""/metrics for Prometheus: the dashboard's numbers, from the same selectors, never public.

A scraper presents `Authorization: Bearer <METRICS_TOKEN>` or comes from an address in
METRICS_ALLOWED_IPS; with neither configured the endpoint does not exist (404).
"""

import hmac
import os
from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from apps.ops import selectors

PUMP_BUCKETS = (1.0, 5.0, 15.0, 30.0, 45.0, 60.0, 90.0)


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS["TOKEN"]
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    return request.META.get("REMOTE_ADDR", "") in settings.METRICS["ALLOWED_IPS"]


def _gauge(name: str, documentation: str, labels: list[str], rows) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for label_values, value in rows:
        if value is not None:
            family.add_metric(label_values, value)
    return family


class PortalCollector:
    """Reads the selectors once per scrape."""

    def collect(self):
        now = timezone.now()
        stages = selectors.pipeline_stages()
        yield _gauge(
            "o2c_stage_items",
            "Items in each pipeline stage (final stages: finished in the last 24 hours).",
            ["pipeline", "stage"],
            [((p, s.key), s.count) for p, rows in stages.items() for s in rows],
        )
        yield _gauge(
            "o2c_stage_oldest_age_seconds",
            "Age of the oldest item waiting in each stage.",
            ["pipeline", "stage"],
            [
                ((p, s.key), s.age.total_seconds())
                for p, rows in stages.items()
                for s in rows
                if s.age is not None
            ],
        )
        yield _gauge(
            "o2c_stage_target_seconds",
            "The target age for the oldest item of each stage.",
            ["pipeline", "stage"],
            [
                ((p, s.key), s.target.total_seconds())
                for p, rows in stages.items()
                for s in rows
                if s.target
            ],
        )
        peers = selectors.peer_tiles()
        yield _gauge(
            "o2c_outbox_queue_depth",
            "Outbox messages waiting, per peer and lane (priority).",
            ["peer", "lane"],
            [((t.peer, str(lane)), n) for t in peers for lane, n in t.lanes.items()],
        )
        yield _gauge(
            "o2c_outbox_dead",
            "Dead outbox messages per peer.",
            ["peer"],
            [((t.peer,), t.dead) for t in peers],
        )
        yield _gauge(
            "o2c_outbox_drain_seconds",
            "Estimated time to drain the queue at the budget.",
            ["peer"],
            [((t.peer,), t.drain_seconds) for t in peers],
        )
        yield _gauge(
            "o2c_budget_tokens",
            "Rate-budget tokens available now.",
            ["peer"],
            [((t.peer,), t.tokens) for t in peers],
        )
        yield _gauge(
            "o2c_budget_limit_per_minute",
            "The budget's refill, per minute.",
            ["peer"],
            [((t.peer,), t.limit_per_minute) for t in peers],
        )
        yield _gauge(
            "o2c_budget_calls_last_minute",
            "Calls taken from the budget in the last minute.",
            ["peer"],
            [((t.peer,), t.calls_last_minute) for t in peers],
        )
        yield _gauge(
            "o2c_budget_frozen_seconds",
            "Seconds left of a freeze after a 429 (0: not frozen).",
            ["peer"],
            [
                ((t.peer,), (t.frozen_until - now).total_seconds() if t.frozen_until else 0.0)
                for t in peers
            ],
        )
        yield _gauge(
            "o2c_peer_throttled_last_hour",
            "429 answers in the last hour.",
            ["peer"],
            [((t.peer,), t.throttled_last_hour) for t in peers],
        )
        yield _gauge(
            "o2c_peer_errors_last_hour",
            "Outbox messages that failed in the last hour.",
            ["peer"],
            [((t.peer,), t.errors_last_hour) for t in peers],
        )
        yield _gauge(
            "o2c_peer_last_success_age_seconds",
            "Seconds since the peer last accepted a write.",
            ["peer"],
            [((t.peer,), (now - t.last_success).total_seconds()) for t in peers if t.last_success],
        )
        xero = selectors.xero_day_meter()
        yield _gauge(
            "o2c_xero_day_calls_used", "Xero calls used today, of 5,000.", [], [((), xero["used"])]
        )
        alerts = selectors.alerts_summary()
        yield _gauge(
            "o2c_alerts_active",
            "Open or acknowledged alerts by severity.",
            ["severity"],
            [((sev,), n) for sev, n in alerts["counts"].items()],
        )
        yield _gauge(
            "o2c_exceptions_open",
            "Open exceptions in the queue, by kind.",
            ["kind"],
            [((kind,), n) for kind, n in selectors.exception_counts().items()],
        )
        health = selectors.health()
        yield _gauge(
            "o2c_receipts_waiting",
            "Webhook receipts waiting to be applied.",
            [],
            [((), health["receipts_waiting"])],
        )
        oldest = health["oldest_receipt"]
        yield _gauge(
            "o2c_receipt_oldest_age_seconds",
            "Age of the oldest unapplied receipt.",
            [],
            [((), (now - oldest).total_seconds() if oldest else 0.0)],
        )
        beat = health["heartbeat"]
        yield _gauge(
            "o2c_cluster_heartbeat_age_seconds",
            "Seconds since a worker's heartbeat.",
            [],
            [((), (now - beat.beat_at).total_seconds())] if beat else [],
        )
        yield _pump_durations(now)


def _pump_durations(now) -> HistogramMetricFamily:
    """Pump run durations over the last hour, from django-q2's task rows (started → stopped)."""
    from django_q.models import Task

    from apps.sync.tasks import PUMP_TASK

    family = HistogramMetricFamily(
        "o2c_pump_run_seconds", "Pump run durations over the last hour.", labels=["pump"]
    )
    runs: dict[str, list[float]] = {}
    for args, started, stopped in Task.objects.filter(
        func=PUMP_TASK, stopped__gte=now - timedelta(hours=1)
    ).values_list("args", "started", "stopped"):
        name = args[0] if args else "?"
        runs.setdefault(str(name), []).append((stopped - started).total_seconds())
    for name, seconds in sorted(runs.items()):
        buckets = [(str(b), sum(1 for s in seconds if s <= b)) for b in PUMP_BUCKETS]
        buckets.append(("+Inf", len(seconds)))
        family.add_metric([name], buckets, sum_value=sum(seconds))
    return family


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        raise Http404
    registry = CollectorRegistry()
    registry.register(PortalCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # every gunicorn worker's webhook histogram, summed
        body = generate_latest(registry)
    else:
        body = generate_latest(registry) + generate_latest(REGISTRY)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
