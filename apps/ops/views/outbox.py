"""The outbox: every write to a peer, its state and error; dry-run and replay of dead messages."""

from dataclasses import dataclass

from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.ops.views.lists import ReplayableList
from apps.sync.models import OutboxMessage
from apps.web import choice, selected_ids

TEMPLATE = "ops/outboxmessage_list.html"


def _filters(params) -> dict[str, str]:
    return {
        "peer": choice(params.get("peer"), settings.RATE_BUDGETS.keys()),
        "status": choice(params.get("status"), OutboxMessage.Status.values),
        "action": (params.get("action") or "").strip()[:64],
    }


def _choices() -> dict:
    return {"peers": sorted(settings.RATE_BUDGETS), "statuses": OutboxMessage.Status.choices}


# The payload and result can be large: the list shows neither.
OUTBOX = ReplayableList(
    TEMPLATE,
    "outbox-table",
    "outbox-changed",
    rows=lambda: OutboxMessage.objects.defer("payload", "result"),
    filters=_filters,
    choices=_choices,
)
outbox_list = OUTBOX.list_view("sync.view_outboxmessage")


@login_required
@permission_required("sync.view_outboxmessage", raise_exception=True)
@require_GET
def outbox_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(OutboxMessage, pk=pk)
    context = {"message": message, "subject": _subject(message)}
    return render(request, "ops/outboxmessage_detail.html", context)


@dataclass(frozen=True)
class Subject:
    label: str
    url: str = ""


# The page that shows each kind of subject (`subject_type` is the model's label).
SUBJECT_PAGES = {
    "orders.order": "orders:detail",
    "invoicing.invoicedraft": "invoicing:detail",
    "support.ticket": "support:ticket",
}


def _subject(message: OutboxMessage) -> Subject | None:
    """What the message is about, named as a person knows it ("Order #1001"), linked to its page."""
    if not message.subject_type:
        return None
    try:
        model = django_apps.get_model(message.subject_type)
    except (LookupError, ValueError):
        return Subject(f"{message.subject_type} {message.subject_id}")
    kind = str(model._meta.verbose_name).capitalize()
    row = model._default_manager.filter(pk=message.subject_id).first()
    if row is None:
        return Subject(f"{kind} {message.subject_id} (no longer exists)")
    page = SUBJECT_PAGES.get(message.subject_type)
    return Subject(f"{kind} {row}", reverse(page, args=[row.pk]) if page else "")


@login_required
@permission_required("sync.view_outboxmessage", raise_exception=True)
@require_POST
def outbox_replay_preview(request: HttpRequest) -> HttpResponse:
    """A dry run: the dead messages a replay would send again, without sending anything."""
    from apps.sync.replay import outbox_replay

    ids = selected_ids(request)
    every_dead = request.POST.get("scope") == "filter"
    if not ids and not every_dead:
        return OUTBOX.replay_panel(request, {"replay_error": "Select at least one dead message."})
    if every_dead:
        filters = _filters(request.POST)
        if not filters["peer"] and not filters["action"]:
            # Replaying every dead message of every peer at once is never what was meant.
            return OUTBOX.replay_panel(
                request, {"replay_error": "Filter by a peer or an action first."}
            )
        result = outbox_replay(
            actor=request.user,
            peer=filters["peer"] or None,
            action=filters["action"] or None,
            dry_run=True,
        )
    else:
        result = outbox_replay(actor=request.user, ids=ids, dry_run=True)
    return OUTBOX.replay_panel(request, {"preview": result.messages})


@login_required
@permission_required("sync.replay_outboxmessage", raise_exception=True)
@require_POST
def outbox_replay(request: HttpRequest) -> HttpResponse:
    """Put the previewed dead messages back to pending (audited by the service)."""
    from apps.sync.replay import outbox_replay as replay

    ids = selected_ids(request)
    if not ids:
        return OUTBOX.replay_panel(
            request, {"replay_error": "Nothing to replay: run the dry run first."}
        )
    result = replay(actor=request.user, ids=ids)
    return OUTBOX.replay_panel(request, {"replayed": result.messages, "requested": len(ids)})
