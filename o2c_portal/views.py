import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Where everyone lands: the work waiting for their roles, their pages, the open alerts.

    Ops land on the dashboard after signing in (apps.accounts.adapters); this page is theirs too.
    """
    from apps.accounts.models import time_zone_choices
    from apps.ops.selectors import work_waiting

    context = {
        "time_zones": time_zone_choices(),
        "roles": request.user.role_names,
        "open_alerts": None,
        "work": work_waiting(request.user),
    }
    if request.user.has_perm("sync.view_alert"):
        from apps.sync.models import Alert

        context["open_alerts"] = Alert.objects.filter(status=Alert.Status.OPEN).count()
    return render(request, "home.html", context)


@login_required
@require_POST
def time_zone_set(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own time zone for every page (blank: the portal's TIME_ZONE)."""
    from apps.web import redirect_after_post

    name = request.POST.get("time_zone", "")
    if name and name not in zoneinfo.available_timezones():
        messages.error(request, f"Unknown time zone: {name[:64]}")
    else:
        request.user.time_zone = name
        request.user.save(update_fields=["time_zone"])
        messages.success(request, f"Times now show in {name or settings.TIME_ZONE}.")
    return redirect_after_post(request, "home")


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the process answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
