"""The dashboard at /ops/: one page of tiles, each tile also its own partial that polls itself."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.ops import selectors
from apps.ops.charts import chart
from apps.sync.exceptions import exception_sources

TEMPLATE = "ops/dashboard.html"
POLL_SECONDS = 10


def _pipeline() -> dict:
    return {"stages": selectors.pipeline_stages()}


def _throughput() -> dict:
    week = selectors.throughput(hours=7 * 24)
    day_hours = week.hours[-24:]

    def last_day(series):
        return [selectors.Series(s.key, s.label, s.counts[-24:]) for s in series]

    return {
        "charts": [
            (
                "Orders and invoices, last 24 hours",
                chart(last_day(week.orders), day_hours, label_every=3),
            ),
            ("Orders and invoices, last 7 days", chart(week.orders, week.hours, label_every=24)),
            ("Tickets, last 24 hours", chart(last_day(week.tickets), day_hours, label_every=3)),
            ("Tickets, last 7 days", chart(week.tickets, week.hours, label_every=24)),
        ]
    }


def _peers() -> dict:
    return {"peers": selectors.peer_tiles(), "xero_day": selectors.xero_day_meter()}


def _health() -> dict:
    return {"health": selectors.health()}


def _alerts() -> dict:
    return {"alerts": selectors.alerts_summary()}


def _work() -> dict:
    counts = selectors.exception_counts()
    return {"exceptions": [(source, counts[source.kind]) for source in exception_sources()]}


TILES = {
    "pipeline": _pipeline,
    "throughput": _throughput,
    "peers": _peers,
    "health": _health,
    "alerts": _alerts,
    "work": _work,
}


def _context(name: str) -> dict:
    return {**TILES[name](), "refreshed_at": timezone.now(), "poll_seconds": POLL_SECONDS}


@login_required
@permission_required("ops.view_dashboard", raise_exception=True)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The whole dashboard; every tile then refreshes itself from `dashboard_tile`."""
    context = {"poll_seconds": POLL_SECONDS, "refreshed_at": timezone.now()}
    for build in TILES.values():
        context.update(build())
    return render(request, TEMPLATE, context)


@login_required
@permission_required("ops.view_dashboard", raise_exception=True)
@require_GET
def dashboard_tile(request: HttpRequest, tile: str) -> HttpResponse:
    if tile not in TILES:
        raise Http404("No such tile")
    return render(request, f"{TEMPLATE}#tile-{tile}", _context(tile))
