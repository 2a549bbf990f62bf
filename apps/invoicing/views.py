"""Finance's pages: the draft queue and bulk approval, one draft, reconciliation; the Xero connection."""

import csv
import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.invoicing.connection import (
    xero_authorize_finish,
    xero_authorize_start,
    xero_connection,
    xero_redirect_uri,
)
from apps.invoicing.models import InvoiceDraft, InvoiceDraftLine, XeroConnection
from apps.invoicing.posting import invoices_reconcile_enqueue
from apps.invoicing.selectors import (
    draft_audit,
    invoice_draft_currencies,
    invoice_draft_for_page,
    invoice_draft_totals,
    invoice_drafts_search,
    invoices_posted,
    reconciliation_counts,
    reconciliation_last_check,
)
from apps.invoicing.services import (
    invoice_draft_line_correct,
    invoice_draft_reject,
    invoice_drafts_approve,
)
from apps.sync.budgets import budget_state
from apps.sync.models import OutboxMessage
from apps.web import choice, htmx_partial, paginate, redirect_after_post, render_page, selected_ids
from integrations.http import PeerError

VIEW = "invoicing.view_invoicedraft"
APPROVE = "invoicing.approve_invoicedraft"
LIST_TEMPLATE = "invoicing/invoicedraft_list.html"
DETAIL_TEMPLATE = "invoicing/invoicedraft_detail.html"
XERO_TEMPLATE = "invoicing/xeroconnection_detail.html"
RECONCILIATION_TEMPLATE = "invoicing/invoicedraft_reconciliation.html"
# The queue opens on what finance has to decide; "all" shows every status.
STATUS_FILTERS = (*InvoiceDraft.Status.values, "all")
BULK_LIMIT = 500
CURRENCY = re.compile(r"^[A-Z]{3}$")


# --- The queue -----------------------------------------------------------------------------------


def _queue_filters(params) -> dict:
    currency = (params.get("currency") or "").strip().upper()
    return {
        "status": choice(params.get("status"), STATUS_FILTERS) or InvoiceDraft.Status.DRAFT,
        "variance": params.get("variance") == "1",
        "currency": currency if CURRENCY.match(currency) else "",
        "q": (params.get("q") or "").strip()[:100],
    }


def _queue_context(request: HttpRequest, params) -> dict:
    filters = _queue_filters(params)
    drafts = invoice_drafts_search(
        status="" if filters["status"] == "all" else filters["status"],
        variance_only=filters["variance"],
        currency=filters["currency"],
        query=filters["q"],
    )
    return {
        "page_obj": paginate(request, drafts),
        "totals": invoice_draft_totals(drafts),
        "filters": filters,
        "statuses": [*InvoiceDraft.Status.choices, ("all", "Any status")],
        "currencies": invoice_draft_currencies(),
    }


@vary_on_headers("HX-Request")
@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    return render_page(request, LIST_TEMPLATE, "drafts-table", _queue_context(request, request.GET))


@login_required
@permission_required(APPROVE, raise_exception=True)
@require_POST
def invoice_approve_bulk(request: HttpRequest) -> HttpResponse:
    """Approve the selected drafts; a draft with a variance is approved only from its own page."""
    ids = selected_ids(request)[:BULK_LIMIT]
    if not ids:
        return _bulk_answer(request, {"bulk_error": "Select at least one draft to approve."})
    candidates = list(
        InvoiceDraft.objects.select_related("order")
        .filter(pk__in=ids, status=InvoiceDraft.Status.DRAFT)
        .order_by("pk")
    )
    flagged = [draft for draft in candidates if draft.has_variance]
    approved = invoice_drafts_approve(
        actor=request.user, drafts=[draft for draft in candidates if not draft.has_variance]
    )
    # Not awaiting approval any more (someone else acted first, or a stale page): left alone.
    skipped = len(ids) - len(flagged) - len(approved)
    return _bulk_answer(request, {"approved": approved, "flagged": flagged, "skipped": skipped})


def _bulk_answer(request: HttpRequest, result: dict) -> HttpResponse:
    """htmx: the result notice, and an event the queue reloads on; a plain post: back to the queue."""
    if htmx_partial(request):
        response = render(request, f"{LIST_TEMPLATE}#bulk-result", result)
        if result.get("approved"):
            response["HX-Trigger"] = "invoice-drafts-changed"
        return response
    if result.get("bulk_error"):
        context = {**_queue_context(request, request.POST), **result}
        return render(request, LIST_TEMPLATE, context)
    messages.success(
        request, f"Approved {len(result['approved'])} draft(s); they post to Xero next."
    )
    if result["flagged"]:
        names = ", ".join(draft.reference for draft in result["flagged"])
        messages.warning(
            request, f"Not approved in bulk (variance against Shopify): {names}. Open each one."
        )
    return redirect_after_post(request, "invoicing:list")


# --- One draft -----------------------------------------------------------------------------------

SOURCE_LABELS = {
    "shopify_line_id": "Shopify line",
    "sku": "SKU",
    "units_billable": "Units billable",
    "units_billed_before": "Units billed before",
    "line_discount": "Line discount (all units)",
    "line_tax": "Line tax (all units)",
    "tax_lines": "Tax lines",
    "mapping_version": "Mapping version",
    "shopify_shipping_line_id": "Shopify shipping line",
    "code": "Shipping code",
    "shopify_total": "Shopify order total",
    "drafts_before": "Earlier drafts of the order",
}


def _percent(rate: str) -> str:
    try:
        return f"{(Decimal(rate) * 100).normalize():f}%"
    except (InvalidOperation, TypeError):
        return str(rate)


def source_facts(source: dict) -> list[tuple[str, str]]:
    """A line's `source` JSON as (label, value) pairs finance can read."""
    facts = []
    for key, value in (source or {}).items():
        if value in (None, "", []):
            continue
        if key == "tax_lines" and isinstance(value, list):
            value = "; ".join(
                f"{tax.get('title', 'Tax')} {_percent(tax.get('rate', ''))}: {tax.get('amount', '')}"
                for tax in value
                if isinstance(tax, dict)
            )
        facts.append((SOURCE_LABELS.get(key, key.replace("_", " ").capitalize()), str(value)))
    return facts


def unit_display(value: Decimal) -> str:
    """A unit amount with its 4 places where it needs them, else in cents (20.00, 19.9917)."""
    value = value.normalize()
    return f"{value.quantize(Decimal('0.01')) if value.as_tuple().exponent > -2 else value:f}"


def _with_facts(line: InvoiceDraftLine) -> InvoiceDraftLine:
    line.source_facts = source_facts(line.source)
    line.unit_display = unit_display(line.unit_amount)
    return line


def _detail_context(draft: InvoiceDraft, **extra) -> dict:
    return {
        "draft": draft,
        "lines": [_with_facts(line) for line in draft.lines.all()],
        "editable": draft.codes_correctable,
        "audit": draft_audit(draft),
        **extra,
    }


@vary_on_headers("HX-Request")
@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    draft = get_object_or_404(invoice_draft_for_page(pk))
    return render_page(request, DETAIL_TEMPLATE, "draft-audit", _detail_context(draft))


@login_required
@permission_required(APPROVE, raise_exception=True)
@require_POST
def invoice_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve one draft (also one with a variance: finance has it open in front of them)."""
    draft = get_object_or_404(InvoiceDraft, pk=pk)
    if invoice_drafts_approve(actor=request.user, drafts=[draft]):
        messages.success(request, f"{draft.reference} approved: it posts to Xero next.")
    else:
        draft.refresh_from_db(fields=["status"])
        messages.error(
            request,
            f"{draft.reference} was not approved: it is "
            f"{draft.get_status_display().lower()}, not awaiting approval.",
        )
    return redirect_after_post(request, "invoicing:list")


@login_required
@permission_required(APPROVE, raise_exception=True)
@require_POST
def invoice_reject(request: HttpRequest, pk: int) -> HttpResponse:
    draft = get_object_or_404(InvoiceDraft, pk=pk)
    reason = request.POST.get("reason", "")[:2000]
    try:
        invoice_draft_reject(actor=request.user, draft=draft, reason=reason)
    except ValidationError as error:
        extra = {"reject_error": " ".join(error.messages), "reason": reason}
        if htmx_partial(request):
            return render(request, f"{DETAIL_TEMPLATE}#reject-form", {"draft": draft, **extra})
        draft = get_object_or_404(invoice_draft_for_page(pk))
        return render(request, DETAIL_TEMPLATE, _detail_context(draft, **extra))
    messages.success(request, f"{draft.reference} rejected. Nothing goes to Xero.")
    return redirect_after_post(request, "invoicing:list")


@login_required
@permission_required(APPROVE, raise_exception=True)
@require_POST
def invoice_line_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a line's account or tax code before approval; the service audits the change."""
    line = get_object_or_404(InvoiceDraftLine.objects.select_related("draft"), pk=pk)
    account_code = request.POST.get("account_code", "")[:10]
    tax_type = request.POST.get("tax_type", "")[:50]
    error = ""
    try:
        line = invoice_draft_line_correct(
            actor=request.user, line=line, account_code=account_code, tax_type=tax_type
        )
    except ValidationError as invalid:
        error = " ".join(invalid.messages)
    if htmx_partial(request):
        line.refresh_from_db()
        context = {
            "line": _with_facts(line),
            "draft": line.draft,
            "editable": line.draft.codes_correctable,
            "line_errors": {line.pk: error} if error else {},
            "line_saved": None if error else line.pk,
        }
        response = render(request, f"{DETAIL_TEMPLATE}#line-row", context)
        if not error:
            response["HX-Trigger"] = "invoice-draft-changed"  # the audit list reloads itself
        return response
    if error:
        draft = get_object_or_404(invoice_draft_for_page(line.draft_id))
        return render(
            request, DETAIL_TEMPLATE, _detail_context(draft, line_errors={line.pk: error})
        )
    messages.success(request, f"Line corrected: account {account_code}, tax {tax_type}.")
    return redirect_after_post(request, line.draft)


# --- Reconciliation ------------------------------------------------------------------------------


@vary_on_headers("HX-Request")
@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def reconciliation_report(request: HttpRequest) -> HttpResponse:
    state = choice(request.GET.get("state"), InvoiceDraft.Reconciliation.values)
    counts = reconciliation_counts()
    context = {
        "page_obj": paginate(request, invoices_posted(state=state)),
        "state": state,
        "states": [
            (value, label, counts[value]) for value, label in InvoiceDraft.Reconciliation.choices
        ],
        "posted_count": sum(counts.values()),
        "last_check": reconciliation_last_check(),
    }
    return render_page(request, RECONCILIATION_TEMPLATE, "reconciliation-table", context)


class _Echo:
    """The file-like object csv.writer wants; each row goes straight to the response stream."""

    def write(self, value: str) -> str:
        return value


def _cell(value: str) -> str:
    # A spreadsheet would run a cell starting with = + - @ as a formula: keep text text.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


CSV_HEADER = ["reference", "order", "currency", "our_total", "xero_total", "state", "checked_at"]


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def reconciliation_csv(request: HttpRequest) -> StreamingHttpResponse:
    state = choice(request.GET.get("state"), InvoiceDraft.Reconciliation.values)
    drafts = invoices_posted(state=state).values_list(
        "reference",
        "order__name",
        "currency",
        "total",
        "xero_total",
        "reconciliation",
        "reconciled_at",
    )
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(CSV_HEADER)
        for reference, order, currency, total, xero_total, checked, at in drafts.iterator(
            chunk_size=2000
        ):
            yield writer.writerow(
                [
                    _cell(reference),
                    _cell(order),
                    currency,
                    total,
                    "" if xero_total is None else xero_total,
                    checked,
                    at.isoformat() if at else "",
                ]
            )

    name = f"xero-reconciliation-{state or 'all'}-{timezone.localdate():%Y-%m-%d}.csv"
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@permission_required(APPROVE, raise_exception=True)
@require_POST
def reconciliation_check(request: HttpRequest) -> HttpResponse:
    """Queue a reconciliation pass now (one per minute: the same minute's pass is not queued twice)."""
    message = invoices_reconcile_enqueue()
    if message.status in (OutboxMessage.Status.PENDING, OutboxMessage.Status.IN_FLIGHT):
        messages.success(request, "Check queued: the Xero pump compares every posted invoice next.")
    else:
        at = timezone.localtime(message.done_at or message.updated_at)
        messages.info(
            request,
            f"This minute's check already ran at {at:%H:%M} "
            f"({message.get_status_display().lower()}); the next one can run from the next minute.",
        )
    return redirect_after_post(request, "invoicing:reconciliation")


# --- The Xero connection (Admin) -----------------------------------------------------------------


def _xero_context(**extra) -> dict:
    mode = settings.XERO["CONNECTION"]
    return {
        "connection": xero_connection(),
        "budget": budget_state("xero"),
        "mode": mode,
        "custom": mode == XeroConnection.Kind.CUSTOM,
        "redirect_uri": xero_redirect_uri(),
        "now": timezone.now(),
        **extra,
    }


def _xero_page(request: HttpRequest, **extra) -> HttpResponse:
    page = render(request, XERO_TEMPLATE, _xero_context(**extra))
    # Chromium applies form-action to a form's redirects too: "Connect" must reach Xero's login.
    origin = urlsplit(settings.XERO["AUTHORIZE_URL"])
    if origin.scheme not in ("http", "https") or not origin.netloc:
        return page
    policy = dict(settings.SECURE_CSP)
    policy["form-action"] = [*policy.get("form-action", []), f"{origin.scheme}://{origin.netloc}"]
    return csp_override(policy)(lambda _request: page)(request)


@login_required
@permission_required("invoicing.view_xeroconnection", raise_exception=True)
@require_GET
def xero_status(request: HttpRequest) -> HttpResponse:
    return _xero_page(request)


@login_required
@permission_required("invoicing.connect_xero", raise_exception=True)
@require_POST
def xero_connect(request: HttpRequest) -> HttpResponse:
    """Send the admin to Xero's consent page; the state kept in the session comes back to us."""
    if settings.XERO["CONNECTION"] == XeroConnection.Kind.CUSTOM:
        messages.info(request, "This portal uses a custom connection: there is nothing to connect.")
        return redirect_after_post(request, "invoicing:xero")
    try:
        url = xero_authorize_start(session=request.session)
    except ValueError as error:
        messages.error(request, f"Xero is not configured: {error}.")
        return redirect_after_post(request, "invoicing:xero")
    return redirect_after_post(request, url)


@login_required
@permission_required("invoicing.connect_xero", raise_exception=True)
@require_GET
def xero_callback(request: HttpRequest) -> HttpResponse:
    """Xero sends the admin back here with a code (or an error) and our state."""
    refused = request.GET.get("error", "")
    if refused:
        detail = request.GET.get("error_description", "")[:300]
        return _xero_page(
            request, connect_error=f"Xero did not connect: {refused} {detail}".strip()
        )
    code, state = request.GET.get("code", ""), request.GET.get("state", "")
    if not code:
        return _xero_page(request, connect_error="Xero sent no authorization code. Try again.")
    try:
        connection = xero_authorize_finish(
            actor=request.user, session=request.session, code=code, state=state
        )
    except PermissionError as error:
        return _xero_page(request, connect_error=str(error))
    except PeerError as error:
        return _xero_page(request, connect_error=f"Xero refused the connection: {error.message}")
    messages.success(request, f"Connected to Xero: {connection.tenant_name}.")
    return redirect("invoicing:xero")
