# Replaced by the ops pages (alerts, outbox, audit); kept minimal only until they land.
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse


@login_required
@permission_required("sync.view_alert", raise_exception=True)
def alert_list(request):
    return HttpResponse("alerts")


@login_required
@permission_required("sync.view_outboxmessage", raise_exception=True)
def outbox_list(request):
    return HttpResponse("outbox")


@login_required
@permission_required("audit.view_auditevent", raise_exception=True)
def audit_list(request):
    return HttpResponse("audit")
