"""A tiny stand-in peer view, only for the fault-injection tests, mounted beside the real URLs."""

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from apps.sandbox.faults import sandbox_faults
from o2c_portal.urls import urlpatterns as portal_urlpatterns

VIEW_CALLS: list[str] = []


# Peers' APIs are called by server-side clients, not browsers: no CSRF token.
@csrf_exempt
@sandbox_faults(
    "shipbob", retry_after_headers=("x-retry-after",), throttle_headers={"x-remaining-calls": "0"}
)
def standin_order_create(request):
    VIEW_CALLS.append(request.method)
    return JsonResponse({"id": len(VIEW_CALLS)}, status=201)


urlpatterns = [
    path("standin/shipbob/order", standin_order_create),
    *portal_urlpatterns,
]
