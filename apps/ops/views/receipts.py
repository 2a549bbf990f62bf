"""Inbound webhook receipts: what arrived, what failed and why, the raw body; replay failed ones."""

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.sync.models import WebhookReceipt
from apps.web import choice, paginate, render_page, selected_ids

TEMPLATE = "ops/webhookreceipt_list.html"


def _filters(params) -> dict[str, str]:
    return {
        "source": (params.get("source") or "").strip()[:32],
        "status": choice(params.get("status"), WebhookReceipt.Status.values),
    }


def _list_context(request: HttpRequest, filters: dict[str, str]) -> dict:
    # The raw body and headers stay on the detail page; a list of 50 must not load 50 bodies.
    receipts = WebhookReceipt.objects.defer("body", "headers")
    for field, value in filters.items():
        if value:
            receipts = receipts.filter(**{field: value})
    return {
        "page_obj": paginate(request, receipts),
        "filters": filters,
        "sources": sorted(settings.RATE_BUDGETS),
        "statuses": WebhookReceipt.Status.choices,
    }


@vary_on_headers("HX-Request")
@login_required
@permission_required("sync.view_webhookreceipt", raise_exception=True)
@require_GET
def receipt_list(request: HttpRequest) -> HttpResponse:
    context = _list_context(request, _filters(request.GET))
    return render_page(request, TEMPLATE, "receipt-table", context)


def body_text(body) -> tuple[str, bool]:
    """The raw body as text (pretty-printed when it is JSON), and whether it was shown as JSON.

    A body nested too deeply to parse (or to print) is shown raw, as is anything not JSON.
    """
    raw = bytes(body or b"").decode("utf-8", errors="replace")
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False), True
    except (ValueError, RecursionError):
        return raw, False


@login_required
@permission_required("sync.view_webhookreceipt", raise_exception=True)
@require_GET
def receipt_detail(request: HttpRequest, pk: int) -> HttpResponse:
    receipt = get_object_or_404(WebhookReceipt, pk=pk)
    body, is_json = body_text(receipt.body)
    context = {"receipt": receipt, "body": body, "body_is_json": is_json}
    return render(request, "ops/webhookreceipt_detail.html", context)


def _replay_panel(request: HttpRequest, context: dict) -> HttpResponse:
    if getattr(request, "htmx", False):
        response = render(request, f"{TEMPLATE}#replay-panel", context)
    else:
        full = {**_list_context(request, _filters(request.POST)), **context}
        response = render(request, TEMPLATE, full)
    if context.get("replayed") is not None:
        response["HX-Trigger"] = "receipts-changed"
    return response


@login_required
@permission_required("sync.replay_webhookreceipt", raise_exception=True)
@require_POST
def receipt_replay(request: HttpRequest) -> HttpResponse:
    """Re-apply failed receipts from their stored raw body; `dry_run=1` only lists them."""
    from apps.sync.replay import receipt_replay as replay

    ids = selected_ids(request)
    if not ids:
        return _replay_panel(request, {"replay_error": "Select at least one failed receipt."})
    if request.POST.get("dry_run") == "1":
        result = replay(actor=request.user, ids=ids, dry_run=True)
        return _replay_panel(request, {"preview": result.messages})
    result = replay(actor=request.user, ids=ids)
    return _replay_panel(request, {"replayed": result.messages, "requested": len(ids)})
