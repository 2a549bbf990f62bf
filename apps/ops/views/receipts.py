"""Inbound webhook receipts: what arrived, what failed and why, the raw body; replay failed ones."""

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from apps.ops.views.lists import ReplayableList
from apps.sync.models import WebhookReceipt
from apps.web import choice, selected_ids

TEMPLATE = "ops/webhookreceipt_list.html"


def _filters(params) -> dict[str, str]:
    return {
        "source": (params.get("source") or "").strip()[:32],
        "status": choice(params.get("status"), WebhookReceipt.Status.values),
    }


def _choices() -> dict:
    return {"sources": sorted(settings.RATE_BUDGETS), "statuses": WebhookReceipt.Status.choices}


# The raw body and headers stay on the detail page; a list of 50 must not load 50 bodies.
RECEIPTS = ReplayableList(
    TEMPLATE,
    "receipt-table",
    "receipts-changed",
    rows=lambda: WebhookReceipt.objects.defer("body", "headers"),
    filters=_filters,
    choices=_choices,
)
receipt_list = RECEIPTS.list_view("sync.view_webhookreceipt")


def body_text(body: bytes | memoryview | None) -> tuple[str, bool]:
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
    body, is_json = body_text(receipt.body_bytes())
    context = {"receipt": receipt, "body": body, "body_is_json": is_json}
    return render(request, "ops/webhookreceipt_detail.html", context)


@login_required
@permission_required("sync.replay_webhookreceipt", raise_exception=True)
@require_POST
def receipt_replay(request: HttpRequest) -> HttpResponse:
    """Re-apply failed receipts from their stored raw body; `dry_run=1` only lists them."""
    from apps.sync.replay import receipt_replay as replay

    ids = selected_ids(request)
    if not ids:
        return RECEIPTS.replay_panel(
            request, {"replay_error": "Select at least one failed receipt."}
        )
    if request.POST.get("dry_run") == "1":
        result = replay(actor=request.user, ids=ids, dry_run=True)
        return RECEIPTS.replay_panel(request, {"preview": result.messages})
    result = replay(actor=request.user, ids=ids)
    return RECEIPTS.replay_panel(request, {"replayed": result.messages, "requested": len(ids)})
