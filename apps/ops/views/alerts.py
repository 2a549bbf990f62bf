"""The alerts inbox: what needs a person, with acknowledge and resolve in place."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.sync.models import Alert
from apps.web import choice, htmx_partial, paginate, render_page

TEMPLATE = "ops/alert_list.html"
# "active" (open or acknowledged) is what an operator works from; "all" includes resolved ones.
STATUS_FILTERS = ("active", "all", *Alert.Status.values)


@vary_on_headers("HX-Request")
@login_required
@permission_required("sync.view_alert", raise_exception=True)
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    status = choice(request.GET.get("status"), STATUS_FILTERS) or "active"
    severity = choice(request.GET.get("severity"), Alert.Severity.values)
    alerts = Alert.objects.select_related("acknowledged_by", "resolved_by")
    if status == "active":
        alerts = alerts.exclude(status=Alert.Status.RESOLVED)
    elif status != "all":
        alerts = alerts.filter(status=status)
    if severity:
        alerts = alerts.filter(severity=severity)
    context = {
        "page_obj": paginate(request, alerts),
        "status": status,
        "severity": severity,
        "status_filters": [
            ("active", "Open or acknowledged"),
            ("all", "All"),
            *Alert.Status.choices,
        ],
        "severities": Alert.Severity.choices,
    }
    return render_page(request, TEMPLATE, "alert-table", context)


def _alert_answer(request: HttpRequest, alert: Alert, note: str) -> HttpResponse:
    """htmx gets the updated row; a plain form post goes back to the list."""
    if htmx_partial(request):
        return render(request, f"{TEMPLATE}#alert-row", {"alert": alert})
    messages.success(request, note)
    return redirect("ops:alert-list")


@login_required
@permission_required("sync.change_alert", raise_exception=True)
@require_POST
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    from apps.sync.alerts import alert_acknowledge as acknowledge

    # The service is idempotent: acknowledging twice (two tabs) changes nothing the second time.
    alert = acknowledge(alert=get_object_or_404(Alert, pk=pk), user=request.user)
    return _alert_answer(request, alert, f"Alert acknowledged: {alert.kind}.")


@login_required
@permission_required("sync.change_alert", raise_exception=True)
@require_POST
def alert_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    from apps.sync.alerts import alert_resolve as resolve

    alert = resolve(alert=get_object_or_404(Alert, pk=pk), user=request.user)
    return _alert_answer(request, alert, f"Alert resolved: {alert.kind}.")
