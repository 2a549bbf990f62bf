"""The alerts inbox: what needs a person, with acknowledge and resolve in place and in bulk,
the acknowledge link of a Teams card, the test card, and the runbook every alert links to."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.ops import alerting
from apps.ops.runbook import runbook_html
from apps.sync.alerts import alert_acknowledge as acknowledge
from apps.sync.alerts import alert_resolve as resolve
from apps.sync.models import Alert
from apps.sync.selectors import alert_channels
from apps.web import choice, htmx_partial, paginate, redirect_after_post, render_page, selected_ids
from integrations.http import PeerError

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
        "channels": alert_channels(),
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
    # The service is idempotent: acknowledging twice (two tabs) changes nothing the second time.
    alert = acknowledge(alert=get_object_or_404(Alert, pk=pk), user=request.user)
    return _alert_answer(request, alert, f"Alert acknowledged: {alert.kind}.")


@login_required
@permission_required("sync.change_alert", raise_exception=True)
@require_POST
def alert_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    alert = resolve(alert=get_object_or_404(Alert, pk=pk), user=request.user)
    return _alert_answer(request, alert, f"Alert resolved: {alert.kind}.")


BULK_ACTIONS = {"acknowledge": (acknowledge, "acknowledged"), "resolve": (resolve, "resolved")}


@login_required
@permission_required("sync.change_alert", raise_exception=True)
@require_POST
def alert_bulk(request: HttpRequest) -> HttpResponse:
    """Acknowledge or resolve the ticked alerts (each through the audited service)."""
    action = BULK_ACTIONS.get(request.POST.get("action", ""))
    ids = selected_ids(request)
    if action is None or not ids:
        messages.error(request, "Tick some alerts, then press Acknowledge or Resolve.")
        return redirect_after_post(request, "ops:alert-list")
    service, done = action
    alerts = list(Alert.objects.filter(pk__in=ids))
    for alert in alerts:
        service(alert=alert, user=request.user)
    messages.success(request, f"{len(alerts)} alert(s) {done}.")
    return redirect_after_post(request, "ops:alert-list")


@login_required
@permission_required("sync.change_alert", raise_exception=True)
@require_http_methods(["GET", "POST"])
def alert_ack_link(request: HttpRequest, token: str) -> HttpResponse:
    """A Teams card's Acknowledge button: signed, and the person must still sign in.

    GET only shows the alert (link previews fetch URLs); the button on the page acknowledges.
    """
    pk = alerting.alert_ack_token_read(token)
    if pk is None:
        raise Http404("This acknowledge link is not valid or has expired.")
    alert = get_object_or_404(Alert, pk=pk)
    if request.method == "POST":
        alert = acknowledge(alert=alert, user=request.user)
        messages.success(request, f"Alert acknowledged: {alert.kind}.")
        return redirect("ops:alert-list")
    return render(request, "ops/alert_acknowledge.html", {"alert": alert})


@login_required
@permission_required("sync.change_alert", raise_exception=True)
@require_POST
def teams_test_card(request: HttpRequest) -> HttpResponse:
    """Post a test card now and show what Teams answered."""
    try:
        answer = alerting.teams_test_card_send(user=request.user)
    except (PeerError, ValueError) as error:
        messages.error(request, f"Teams did not accept the test card: {error}")
    else:
        body = f" {answer.body[:300]}" if answer.body else ""
        messages.success(request, f"Teams answered {answer.status_code}: accepted.{body}")
    return redirect_after_post(request, "ops:alert-list")


@login_required
@require_GET
def runbook(request: HttpRequest) -> HttpResponse:
    return render(request, "ops/runbook.html", {"runbook": runbook_html()})
