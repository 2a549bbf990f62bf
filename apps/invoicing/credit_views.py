"""Finance's credit-note pages: the queue with bulk approval, one credit note, approve or reject."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.invoicing.models import CreditNoteDraft
from apps.invoicing.selectors import credit_note_for_page, credit_notes_search, draft_audit
from apps.invoicing.services import credit_note_reject, credit_notes_approve
from apps.invoicing.views import APPROVE, BULK_LIMIT, VIEW, source_facts, unit_display
from apps.web import choice, paginate, redirect_after_post, render_page, selected_ids

LIST_TEMPLATE = "invoicing/creditnotedraft_list.html"
DETAIL_TEMPLATE = "invoicing/creditnotedraft_detail.html"
STATUS_FILTERS = (*CreditNoteDraft.Status.values, "all")


@vary_on_headers("HX-Request")
@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def credit_note_list(request: HttpRequest) -> HttpResponse:
    status = choice(request.GET.get("status"), STATUS_FILTERS) or CreditNoteDraft.Status.DRAFT
    context = {
        "page_obj": paginate(
            request, credit_notes_search(status="" if status == "all" else status)
        ),
        "status": status,
        "statuses": [*CreditNoteDraft.Status.choices, ("all", "Any status")],
    }
    return render_page(request, LIST_TEMPLATE, "credit-table", context)


@login_required
@permission_required(APPROVE, raise_exception=True)
@require_POST
def credit_note_approve_bulk(request: HttpRequest) -> HttpResponse:
    """Approve the selected credit notes; one with a variance is approved only from its page."""
    candidates = list(
        CreditNoteDraft.objects.filter(
            pk__in=selected_ids(request)[:BULK_LIMIT], status=CreditNoteDraft.Status.DRAFT
        ).order_by("pk")
    )
    flagged = [draft for draft in candidates if draft.has_variance]
    approved = credit_notes_approve(
        actor=request.user, drafts=[d for d in candidates if not d.has_variance]
    )
    messages.success(request, f"Approved {len(approved)} credit note(s); they post to Xero next.")
    if flagged:
        names = ", ".join(draft.reference for draft in flagged)
        messages.warning(request, f"Not approved in bulk (variance): {names}. Open each one.")
    return redirect_after_post(request, "invoicing:credit-list")


def _detail_context(draft: CreditNoteDraft, **extra) -> dict:
    lines = list(draft.lines.all())
    for line in lines:
        line.source_facts = source_facts(line.source)
        line.unit_display = unit_display(line.unit_amount)
    return {"draft": draft, "lines": lines, "audit": draft_audit(draft), **extra}


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def credit_note_detail(request: HttpRequest, pk: int) -> HttpResponse:
    draft = get_object_or_404(credit_note_for_page(pk))
    return render(request, DETAIL_TEMPLATE, _detail_context(draft))


@login_required
@permission_required(APPROVE, raise_exception=True)
@require_POST
def credit_note_approve(request: HttpRequest, pk: int) -> HttpResponse:
    draft = get_object_or_404(CreditNoteDraft, pk=pk)
    if credit_notes_approve(actor=request.user, drafts=[draft]):
        messages.success(request, f"{draft.reference} approved: it posts to Xero next.")
    else:
        messages.error(request, f"{draft.reference} is not awaiting approval.")
    return redirect_after_post(request, draft)


@login_required
@permission_required(APPROVE, raise_exception=True)
@require_POST
def credit_note_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    draft = get_object_or_404(CreditNoteDraft, pk=pk)
    reason = request.POST.get("reason", "")[:2000]
    try:
        credit_note_reject(actor=request.user, draft=draft, reason=reason)
    except ValidationError as error:
        page = get_object_or_404(credit_note_for_page(pk))
        context = _detail_context(page, reject_error=" ".join(error.messages), reason=reason)
        return render(request, DETAIL_TEMPLATE, context)
    messages.success(request, f"{draft.reference} rejected. Nothing goes to Xero.")
    return redirect_after_post(request, "invoicing:credit-list")
