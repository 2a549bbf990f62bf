from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Where everyone lands: the work waiting for their roles, their pages, the open alerts.

    Ops land on the dashboard after signing in (apps.accounts.adapters); this page is theirs too.
    """
    from apps.ops.selectors import work_waiting

    context = {
        "roles": request.user.role_names,
        "open_alerts": None,
        "work": work_waiting(request.user),
    }
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
