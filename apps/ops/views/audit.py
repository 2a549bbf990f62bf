"""The audit trail: who did what to which record, newest first."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from apps.audit.models import AuditEvent
from apps.web import paginate, render_page


def _filters(params) -> dict[str, str]:
    return {
        "verb": (params.get("verb") or "").strip()[:80],
        "actor": (params.get("actor") or "").strip()[:254],
        # "sync.outboxmessage" or "sync.outboxmessage:42" (what detail pages link with).
        "target": (params.get("target") or "").strip()[:150],
    }


@vary_on_headers("HX-Request")
@login_required
@permission_required("audit.view_auditevent", raise_exception=True)
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    filters = _filters(request.GET)
    events = AuditEvent.objects.all()
    if filters["verb"]:
        # A prefix, so "outbox." finds every outbox verb.
        events = events.filter(verb__startswith=filters["verb"])
    if filters["actor"]:
        events = events.filter(actor_label__icontains=filters["actor"])
    if filters["target"]:
        target_type, _, target_id = filters["target"].partition(":")
        events = events.filter(target_type=target_type)
        if target_id:
            events = events.filter(target_id=target_id)
    context = {"page_obj": paginate(request, events), "filters": filters}
    return render_page(request, "ops/auditevent_list.html", "audit-table", context)
