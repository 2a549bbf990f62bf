"""The ticket queue with bulk approval, and the form an agent files a ticket with."""

from uuid import uuid4

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.support.forms import TicketForm
from apps.support.intake import ticket_link, ticket_receive
from apps.support.models import ReplyDraft
from apps.support.selectors import QUEUE_VIEWS, tickets_attach_latest_drafts, tickets_search
from apps.support.services import reply_draft_bulk_approvable, reply_drafts_approve_unflagged
from apps.support.views.access import ADD, APPROVE, VIEW
from apps.web import choice, htmx_partial, paginate, redirect_after_post, render_page, selected_ids

LIST_TEMPLATE = "support/ticket_list.html"
FORM_TEMPLATE = "support/ticket_form.html"
BULK_LIMIT = 200
Status = ReplyDraft.Status
VIEW_LABELS = {
    "review": "Needs review",
    "human": "Needs a human",
    "sent": "Approved or sent",
    "all": "All tickets",
}


# --- The queue -----------------------------------------------------------------------------------


def _queue_filters(params) -> dict:
    return {
        # The queue opens on what an agent has to decide.
        "view": choice(params.get("view"), QUEUE_VIEWS) or "review",
        "q": (params.get("q") or "").strip()[:100],
    }


def _queue_context(request: HttpRequest, params) -> dict:
    filters = _queue_filters(params)
    page_obj = paginate(request, tickets_search(view=filters["view"], query=filters["q"]))
    tickets_attach_latest_drafts(page_obj.object_list)
    return {"page_obj": page_obj, "filters": filters, "views": list(VIEW_LABELS.items())}


@vary_on_headers("HX-Request")
@login_required
@permission_required(VIEW, raise_exception=True)
@require_http_methods(["GET"])
def ticket_list(request: HttpRequest) -> HttpResponse:
    return render_page(
        request, LIST_TEMPLATE, "tickets-table", _queue_context(request, request.GET)
    )


@login_required
@permission_required(APPROVE, raise_exception=True)
@require_http_methods(["POST"])
def ticket_approve_bulk(request: HttpRequest) -> HttpResponse:
    """Approve the selected drafts as written: only ready ones with no flag and every claim
    verified; the rest need a look of their own."""
    ids = selected_ids(request)[:BULK_LIMIT]
    if not ids:
        return _bulk_answer(request, {"bulk_error": "Select at least one reply to approve."})
    candidates = list(ReplyDraft.objects.select_related("ticket").filter(pk__in=ids).order_by("pk"))
    flagged = [
        d for d in candidates if d.status == Status.READY and not reply_draft_bulk_approvable(d)
    ]
    approved, not_ready = [], len(ids) - len(candidates)
    for draft in candidates:
        if draft.status != Status.READY:
            not_ready += 1
        elif reply_draft_bulk_approvable(draft):
            try:
                approved += reply_drafts_approve_unflagged(actor=request.user, drafts=[draft])
            except ValidationError:  # another agent acted on it meanwhile
                not_ready += 1
    return _bulk_answer(request, {"approved": approved, "flagged": flagged, "not_ready": not_ready})


def _bulk_answer(request: HttpRequest, result: dict) -> HttpResponse:
    """htmx: the result notice and an event the queue reloads on; a plain post: back to the queue."""
    if htmx_partial(request):
        response = render(request, f"{LIST_TEMPLATE}#bulk-result", result)
        if result.get("approved"):
            response["HX-Trigger"] = "tickets-changed"
        return response
    if result.get("bulk_error"):
        return render(request, LIST_TEMPLATE, {**_queue_context(request, request.POST), **result})
    count = len(result["approved"])
    messages.success(request, f"Approved {count} repl{'y' if count == 1 else 'ies'}: sending now.")
    if result["flagged"]:
        names = ", ".join(f"#{d.ticket_id} {d.ticket.subject}" for d in result["flagged"])
        messages.warning(request, f"Flagged, so not approved in bulk: {names}. Open each one.")
    if result["not_ready"]:
        messages.info(request, f"{result['not_ready']} selected not ready for approval: skipped.")
    return redirect_after_post(request, "support:ticket-list")


# --- The form intake -----------------------------------------------------------------------------


@login_required
@permission_required(ADD, raise_exception=True)
@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest) -> HttpResponse:
    """An agent files a customer's message (a call, a letter, a chat) as a ticket; a draft follows."""
    form = TicketForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # One transaction: the drafting task is queued on commit, so it sees the order link too.
        with transaction.atomic():
            ticket = ticket_receive(
                thread_id=f"form-{uuid4()}",
                customer_email=data["customer_email"],
                subject=data["subject"],
                body=data["message"],
                source="form",
            )
            audit_record(
                actor=request.user, verb=verbs.TICKET_FILED, target=ticket, data={"source": "form"}
            )
            if data["order"] is not None:
                ticket_link(actor=request.user, ticket=ticket, order=data["order"])
        messages.success(request, "Ticket filed: a draft reply is being written.")
        return redirect_after_post(request, ticket)
    return render(request, FORM_TEMPLATE, {"form": form})
