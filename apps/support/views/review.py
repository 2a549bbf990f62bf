"""The review screen: the thread beside the draft, flags marked in it, the facts the model was given;
edit, approve and send, reject, regenerate, re-link."""

import re
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from apps.support.forms import TicketRelinkForm
from apps.support.intake import ticket_link
from apps.support.models import ReplyDraft, Ticket
from apps.support.selectors import order_by_name, ticket_for_page
from apps.support.services import (
    REASON_MAX,
    REVIEWABLE,
    reply_draft_approve,
    reply_draft_edit,
    reply_draft_regenerate,
    reply_draft_reject,
)
from apps.support.views.access import APPROVE, CHANGE, VIEW, VIEW_DRAFT
from apps.web import htmx_partial, redirect_after_post

DETAIL_TEMPLATE = "support/ticket_detail.html"
SWAP_TEMPLATE = "support/_review_swap.html"  # the draft panel, and the sources out of band
Status = ReplyDraft.Status


def highlight(text: str, excerpts: list[tuple[int, str]]) -> SafeString:
    """The text, escaped, with every occurrence of each flagged excerpt in <mark>."""
    spans = []
    for index, excerpt in excerpts:
        excerpt = (excerpt or "").strip()
        if excerpt:
            spans += [
                (m.start(), m.end(), index)
                for m in re.finditer(re.escape(excerpt), text, re.IGNORECASE)
            ]
    merged: list[list] = []
    for start, end, index in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2].add(index)
        else:
            merged.append([start, end, {index}])
    pieces, position = [], 0
    for start, end, indexes in merged:
        pieces.append(escape(text[position:start]))
        numbers = " ".join(str(i + 1) for i in sorted(indexes))
        pieces.append(
            format_html(
                '<mark data-flags="{}" title="Flag {}">{}</mark>', numbers, numbers, text[start:end]
            )
        )
        position = end
    pieces.append(escape(text[position:]))
    return format_html_join("", "{}", ((piece,) for piece in pieces))


def safe_link(url: str) -> str:
    """Only http(s) links become hrefs: a snapshot is data, and a javascript: URL is not a link."""
    return url if urlsplit(url or "").scheme in ("http", "https") else ""


def flags_listed(draft: ReplyDraft, reasons: dict[int, str] | None) -> list[dict]:
    """The flags as shown: a reason the agent just typed wins over the stored one."""
    typed = reasons or {}
    return [
        {
            "index": index,
            "number": index + 1,
            "code": flag.get("code", ""),
            "detail": flag.get("detail", ""),
            "excerpt": flag.get("excerpt", ""),
            "reason": typed.get(index, flag.get("reason", "")),
            "kept": bool(flag.get("reason")),
        }
        for index, flag in enumerate(draft.flags)
        if isinstance(flag, dict)
    ]


def _facts(ticket: Ticket, draft: ReplyDraft) -> dict:
    """What the model was given about the order (the draft's context snapshot)."""
    snapshot = draft.context_snapshot or {}
    order = snapshot.get("order") or None
    link = None
    if order:
        name = order.get("name", "")
        link = ticket.order if ticket.order and ticket.order.name == name else order_by_name(name)
        order = {
            **order,
            "shipments": [
                {**s, "tracking_link": safe_link(s.get("tracking_url", ""))}
                for s in order.get("shipments", [])
            ],
        }
    cited = list(draft.cited_policy_ids)
    policies = [
        {**policy, "cited": policy.get("id") in cited} for policy in snapshot.get("policies", [])
    ]
    known = {policy.get("id") for policy in policies}
    return {
        "facts": order,
        "facts_order": link,
        "first_name": (snapshot.get("customer") or {}).get("first_name", ""),
        # Cited policies first: they are what the reply leans on.
        "policies": sorted(policies, key=lambda p: not p["cited"]),
        "unknown_policies": [pid for pid in cited if pid not in known],
        "stale_order": bool(order) and (ticket.order is None or ticket.order.name != order["name"]),
    }


def _review_context(
    request: HttpRequest,
    ticket: Ticket,
    *,
    body: str | None = None,
    reasons: dict[int, str] | None = None,
    acted_on: ReplyDraft | None = None,
    **extra,
) -> dict:
    drafts = list(ticket.drafts.all())
    draft = drafts[0] if drafts else None
    context = {
        "ticket": ticket,
        "thread": ticket.messages.all(),
        "draft": draft,
        "earlier_drafts": drafts[1:],
        "relink_form": extra.pop("relink_form", None) or TicketRelinkForm(),
        **extra,
    }
    if draft is None:
        return context
    # What the agent typed survives a refused approval, as long as it was typed into this draft.
    mine = acted_on is None or acted_on.pk == draft.pk
    flags = flags_listed(draft, reasons if mine else None)
    reviewable = draft.status in REVIEWABLE
    context.update(
        _facts(ticket, draft),
        flags=flags,
        preview=highlight(draft.body, [(f["index"], f["excerpt"]) for f in flags]),
        verified_claims=_verified_once(draft.claims),
        body=body if (mine and body is not None) else draft.body,
        reviewable=reviewable,
        can_act=reviewable and request.user.has_perm(APPROVE),
        can_regenerate=request.user.has_perm(APPROVE)
        and draft.status not in (Status.DRAFTING, Status.APPROVED),
        polling=draft.status == Status.DRAFTING,
    )
    return context


def _verified_once(claims: list[dict]) -> list[dict]:
    """Each verified passage once, with the first source found for it (both layers may list it)."""
    seen, shown = set(), []
    for claim in claims:
        key = str(claim.get("excerpt", "")).lower()
        if claim.get("verified") and key not in seen:
            seen.add(key)
            shown.append(claim)
    return shown


def ticket_for_page_or_404(pk: int) -> Ticket:
    return get_object_or_404(ticket_for_page(pk))


def _review_page(request: HttpRequest, ticket: Ticket, **extra) -> HttpResponse:
    """The review screen, or for htmx its draft panel (and sources); after a refused action too
    (status 200: htmx 2 does not swap a 4xx)."""
    context = _review_context(request, ticket, **extra)
    return render(request, SWAP_TEMPLATE if htmx_partial(request) else DETAIL_TEMPLATE, context)


@vary_on_headers("HX-Request")
@login_required
@permission_required([VIEW, VIEW_DRAFT], raise_exception=True)
@require_http_methods(["GET"])
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The thread beside the latest draft; htmx polls the draft panel while the model writes."""
    return _review_page(request, ticket_for_page_or_404(pk))


def _draft(pk: int) -> ReplyDraft:
    return get_object_or_404(ReplyDraft.objects.select_related("ticket"), pk=pk)


def flag_reasons(request: HttpRequest) -> dict[int, str]:
    """The reasons typed for flags (`reason-<index>`); empty ones and bad names are ignored."""
    reasons = {}
    for key, value in request.POST.items():
        name, _, index = key.partition("-")
        if name == "reason" and index.isdigit() and value.strip():
            reasons[int(index)] = value.strip()[:REASON_MAX]
    return reasons


def seen_version(request: HttpRequest) -> int | None:
    """The draft version the agent's page showed (absent from old pages and API callers)."""
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else None


@login_required
@permission_required(APPROVE, raise_exception=True)
@require_http_methods(["POST"])
def draft_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the agent's text without approving it (the service records the edit as a diff)."""
    draft = _draft(pk)
    body = request.POST.get("body", "")[:20_000]
    reasons = flag_reasons(request)
    try:
        reply_draft_edit(
            actor=request.user,
            draft=draft,
            body=body,
            version=seen_version(request),
            reasons=reasons,
        )
    except ValidationError as error:
        return _review_page(
            request,
            ticket_for_page_or_404(draft.ticket_id),
            body=body,
            reasons=reasons,
            acted_on=draft,
            edit_error=" ".join(error.messages),
        )
    if htmx_partial(request):
        return _review_page(
            request, ticket_for_page_or_404(draft.ticket_id), acted_on=draft, saved=True
        )
    messages.success(request, "Draft saved.")
    return redirect_after_post(request, draft.ticket)


@login_required
@permission_required(APPROVE, raise_exception=True)
@require_http_methods(["POST"])
def draft_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve exactly the text in the box, as of the version shown, with the agent's reasons."""
    draft = _draft(pk)
    body = request.POST.get("body")
    body = body[:20_000] if body is not None else None
    reasons = flag_reasons(request)
    try:
        reply_draft_approve(
            actor=request.user,
            draft=draft,
            body=body,
            version=seen_version(request),
            reasons=reasons,
        )
    except ValidationError as error:
        return _review_page(
            request,
            ticket_for_page_or_404(draft.ticket_id),
            body=body,
            reasons=reasons,
            acted_on=draft,
            approve_error=" ".join(error.messages),
        )
    messages.success(request, f"Reply approved: it is on its way to {draft.ticket.customer_email}.")
    return redirect_after_post(request, draft.ticket)


@login_required
@permission_required(APPROVE, raise_exception=True)
@require_http_methods(["POST"])
def draft_reject(request: HttpRequest, pk: int) -> HttpResponse:
    draft = _draft(pk)
    reason = request.POST.get("reason", "")[:2000]
    try:
        reply_draft_reject(actor=request.user, draft=draft, reason=reason)
    except ValidationError as error:
        return _review_page(
            request,
            ticket_for_page_or_404(draft.ticket_id),
            acted_on=draft,
            reason=reason,
            reject_error=" ".join(error.messages),
        )
    messages.success(request, "Draft rejected. Nothing was sent.")
    return redirect_after_post(request, draft.ticket)


@login_required
@permission_required(APPROVE, raise_exception=True)
@require_http_methods(["POST"])
def draft_regenerate(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask the model for a new draft, with the agent's instruction; the page polls until it is in."""
    draft = _draft(pk)
    instruction = request.POST.get("instruction", "")[:1000]
    reply_draft_regenerate(actor=request.user, draft=draft, instruction=instruction)
    messages.info(request, "A new draft is being written.")
    return redirect_after_post(request, draft.ticket)


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_http_methods(["POST"])
def ticket_relink(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket.objects.select_related("order"), pk=pk)
    form = TicketRelinkForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            DETAIL_TEMPLATE,
            _review_context(
                request, ticket_for_page_or_404(pk), relink_form=form, relink_open=True
            ),
        )
    order = form.cleaned_data["order"]
    ticket_link(actor=request.user, ticket=ticket, order=order)
    messages.success(
        request,
        f"Linked to {order.name}. Regenerate the draft to write it with this order's facts.",
    )
    return redirect_after_post(request, ticket)
