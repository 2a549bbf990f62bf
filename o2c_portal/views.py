from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Where everyone lands: their roles, their pages, and for alert readers the open count."""
    context = {"roles": request.user.role_names, "open_alerts": None}
    if request.user.has_perm("sync.view_alert"):
        from apps.sync.models import Alert

        context["open_alerts"] = Alert.objects.filter(status=Alert.Status.OPEN).count()
    return render(request, "home.html", context)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the process answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
