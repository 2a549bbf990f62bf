"""The sandbox's own pages: the fault settings per peer (a page for people, JSON for scripts)."""

import json
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.forms.models import model_to_dict
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.sandbox.faults import fault_get, fault_rng_seed
from apps.sandbox.forms import FAULT_FIELDS, SandboxFaultForm
from apps.sandbox.models import SandboxFault

FAULT_PERMISSION = "sandbox.change_sandboxfault"
COUNTER_FIELDS = ["errors_injected", "throttles_injected", "timeouts_injected"]


def _peer_or_404(peer: str) -> str:
    if peer not in SandboxFault.Peer.values:
        raise Http404("unknown sandbox peer")
    return peer


def _fault_as_json(fault: SandboxFault) -> dict:
    data = model_to_dict(fault, fields=[*FAULT_FIELDS, *COUNTER_FIELDS])
    return {"peer": fault.peer, **data}


@login_required
@permission_required(FAULT_PERMISSION, raise_exception=True)
@require_http_methods(["GET"])
def index(request: HttpRequest) -> HttpResponse:
    rows = [
        {"fault": fault, "form": SandboxFaultForm(instance=fault, prefix=fault.peer)}
        for fault in (fault_get(peer=peer) for peer in SandboxFault.Peer.values)
    ]
    return render(request, "sandbox/sandboxfault_list.html", _page_context(rows))


def _page_context(rows: list[dict]) -> dict:
    from apps.sandbox.shipbob.models import InventoryItem
    from apps.sandbox.shipbob.warehouse import inventory_ensure

    inventory_ensure()
    return {"rows": rows, "stock": InventoryItem.objects.order_by("inventory_id")[:200]}


@login_required
@permission_required(FAULT_PERMISSION, raise_exception=True)
@require_http_methods(["POST"])
def shipbob_restock(request: HttpRequest) -> HttpResponse:
    """Goods received at the ShipBob stand-in's warehouse (the demo's way to clear a low stock)."""
    from apps.sandbox.shipbob.models import InventoryItem
    from apps.sandbox.shipbob.warehouse import stock_restock

    try:
        inventory_id = int(request.POST.get("inventory_id", ""))
        quantity = int(request.POST.get("quantity", ""))
        item = stock_restock(inventory_id=inventory_id, quantity=quantity)
    except (ValueError, InventoryItem.DoesNotExist):
        messages.error(request, "Give an existing item and a quantity of at least 1.")
    else:
        messages.success(
            request, f"Restocked {quantity} × {item.sku}: {item.on_hand} on hand at ShipBob."
        )
    return redirect("sandbox:index")


@login_required
@permission_required(FAULT_PERMISSION, raise_exception=True)
@require_http_methods(["POST"])
def fault_update(request: HttpRequest, peer: str) -> HttpResponse:
    fault = fault_get(peer=_peer_or_404(peer))
    form = SandboxFaultForm(request.POST, instance=fault, prefix=peer)
    if form.is_valid():
        form.save()
        messages.success(request, f"{fault.get_peer_display()} faults saved.")
        return redirect("sandbox:index")
    rows = [
        {"fault": other, "form": SandboxFaultForm(instance=other, prefix=other.peer)}
        if other.peer != peer
        else {"fault": fault, "form": form}
        for other in (fault_get(peer=name) for name in SandboxFault.Peer.values)
    ]
    return render(request, "sandbox/sandboxfault_list.html", _page_context(rows))


def _api_allowed(request: HttpRequest) -> bool:
    token = settings.SANDBOX_API_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return secrets.compare_digest(header.removeprefix("Bearer ").strip(), token)
    return request.user.is_authenticated and request.user.has_perm(FAULT_PERMISSION)


# PUT with a JSON body cannot be sent cross-site without a CORS preflight we never grant, so the
# CSRF token (which scripts using the bearer token do not have) adds nothing here.
@csrf_exempt
@require_http_methods(["GET", "PUT"])
def fault_api(request: HttpRequest, peer: str) -> JsonResponse:
    """GET the peer's faults; PUT a partial JSON object to change them (`seed` re-seeds the RNG)."""
    if not _api_allowed(request):
        raise PermissionDenied
    fault = fault_get(peer=_peer_or_404(peer))
    if request.method == "GET":
        return JsonResponse(_fault_as_json(fault))
    try:
        changes = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"errors": {"__all__": ["body is not JSON"]}}, status=400)
    if not isinstance(changes, dict):
        return JsonResponse({"errors": {"__all__": ["body must be an object"]}}, status=400)
    unknown = sorted(set(changes) - {*FAULT_FIELDS, "seed"})
    if unknown:
        return JsonResponse({"errors": {name: ["unknown field"] for name in unknown}}, status=400)
    seed = changes.pop("seed", None)
    if seed is not None and not isinstance(seed, int):
        return JsonResponse({"errors": {"seed": ["must be an integer"]}}, status=400)
    data = {**model_to_dict(fault, fields=FAULT_FIELDS), **changes}
    form = SandboxFaultForm(data, instance=fault)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors}, status=400)
    fault = form.save()
    if seed is not None:
        fault_rng_seed(seed=seed, peer=peer)
    return JsonResponse(_fault_as_json(fault))


@login_required
@permission_required("sandbox.view_sandboxmail", raise_exception=True)
@require_http_methods(["GET"])
def mailbox(request: HttpRequest) -> HttpResponse:
    """What customers received: every email the portal sent while the sandbox is on."""
    from apps.sandbox.models import SandboxMail

    return render(
        request, "sandbox/sandboxmail_list.html", {"mails": SandboxMail.objects.all()[:200]}
    )
