"""The outbox: every write to a peer, its state and error; dry-run and replay of dead messages."""

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.sync.models import OutboxMessage
from apps.web import choice, paginate, render_page, selected_ids

TEMPLATE = "ops/outboxmessage_list.html"


def _filters(params) -> dict[str, str]:
    return {
        "peer": choice(params.get("peer"), settings.RATE_BUDGETS.keys()),
        "status": choice(params.get("status"), OutboxMessage.Status.values),
        "action": (params.get("action") or "").strip()[:64],
    }


@vary_on_headers("HX-Request")
@login_required
@permission_required("sync.view_outboxmessage", raise_exception=True)
@require_GET
def outbox_list(request: HttpRequest) -> HttpResponse:
    filters = _filters(request.GET)
    # The payload and result can be large: the list shows neither.
    messages = OutboxMessage.objects.defer("payload", "result")
    for field, value in filters.items():
        if value:
            messages = messages.filter(**{field: value})
    context = {
        "page_obj": paginate(request, messages),
        "filters": filters,
        "peers": sorted(settings.RATE_BUDGETS),
        "statuses": OutboxMessage.Status.choices,
    }
    return render_page(request, TEMPLATE, "outbox-table", context)


@login_required
@permission_required("sync.view_outboxmessage", raise_exception=True)
@require_GET
def outbox_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(OutboxMessage, pk=pk)
    return render(request, "ops/outboxmessage_detail.html", {"message": message})


def _replay_panel(request: HttpRequest, context: dict) -> HttpResponse:
    """The replay panel alone for htmx; for a plain form post, the list page with the panel open."""
    if getattr(request, "htmx", False):
        response = render(request, f"{TEMPLATE}#replay-panel", context)
    else:
        filters = _filters(request.POST)
        page = paginate(request, OutboxMessage.objects.defer("payload", "result"))
        full = {
            "page_obj": page,
            "filters": filters,
            "peers": sorted(settings.RATE_BUDGETS),
            "statuses": OutboxMessage.Status.choices,
            **context,
        }
        response = render(request, TEMPLATE, full)
    if context.get("replayed") is not None:
        # The table listens for this and reloads itself with its current filters.
        response["HX-Trigger"] = "outbox-changed"
    return response


@login_required
@permission_required("sync.view_outboxmessage", raise_exception=True)
@require_POST
def outbox_replay_preview(request: HttpRequest) -> HttpResponse:
    """A dry run: the dead messages a replay would send again, without sending anything."""
    from apps.sync.replay import outbox_replay

    ids = selected_ids(request)
    every_dead = request.POST.get("scope") == "filter"
    if not ids and not every_dead:
        return _replay_panel(request, {"replay_error": "Select at least one dead message."})
    if every_dead:
        filters = _filters(request.POST)
        if not filters["peer"] and not filters["action"]:
            # Replaying every dead message of every peer at once is never what was meant.
            return _replay_panel(request, {"replay_error": "Filter by a peer or an action first."})
        result = outbox_replay(
            actor=request.user,
            peer=filters["peer"] or None,
            action=filters["action"] or None,
            dry_run=True,
        )
    else:
        result = outbox_replay(actor=request.user, ids=ids, dry_run=True)
    return _replay_panel(request, {"preview": result.messages})


@login_required
@permission_required("sync.replay_outboxmessage", raise_exception=True)
@require_POST
def outbox_replay(request: HttpRequest) -> HttpResponse:
    """Put the previewed dead messages back to pending (audited by the service)."""
    from apps.sync.replay import outbox_replay as replay

    ids = selected_ids(request)
    if not ids:
        return _replay_panel(request, {"replay_error": "Nothing to replay: run the dry run first."})
    result = replay(actor=request.user, ids=ids)
    return _replay_panel(request, {"replayed": result.messages, "requested": len(ids)})
