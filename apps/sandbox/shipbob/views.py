"""The ShipBob stand-in's REST surface under /sandbox/shipbob/<version>/ (2026-07 by default).

Every call: fault injection, then `Authorization: Bearer <SHIPBOB.TOKEN>`, then the token's sliding
window (LIMIT calls per WINDOW_SECONDS, settings.SANDBOX_SHIPBOB) answering 429 with
`x-retry-after`; `x-remaining-calls` rides on every authenticated answer.

The `shipbob_channel_id` header: Django's dev server (like nginx and gunicorn) drops headers with
underscores, so the stand-in cannot insist on it; when a server does pass it, a wrong value is 403.
"""

import base64
import functools
import hashlib
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.sandbox.faults import sandbox_faults
from apps.sandbox.shipbob import warehouse
from apps.sandbox.shipbob.models import InventoryItem, WarehouseOrder

SUPPORTED_VERSIONS = frozenset({"2025-07", "2026-01", "2026-07"})
ORDERS_LIMIT_DEFAULT, ORDERS_LIMIT_MAX = 50, 250
INVENTORY_PAGE_DEFAULT, INVENTORY_PAGE_MAX = 100, 250

shipbob_faults = sandbox_faults(
    "shipbob", retry_after_headers=("x-retry-after",), throttle_headers={"x-remaining-calls": "0"}
)


def _json(body, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, safe=False)


def shipbob_api(*, write: bool = False):
    """Version, bearer token, channel (writes) and the sliding window, in ShipBob's order."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request: HttpRequest, version: str, *args, **kwargs) -> HttpResponse:
            if version not in SUPPORTED_VERSIONS:
                return _json({"message": f"API version {version} not found"}, 404)
            given = request.headers.get("Authorization", "")
            token = given[7:].strip() if given.lower().startswith("bearer ") else ""
            expected = settings.SHIPBOB.get("TOKEN", "")
            if not (token and expected and constant_time_compare(token, expected)):
                return _json({"message": "Authorization has been denied for this request."}, 401)
            answer = warehouse.window_take(key=hashlib.sha256(token.encode()).hexdigest()[:64])
            if not answer.allowed:
                response = _json(
                    {
                        "statusCode": 429,
                        "message": "Rate limit is exceeded. "
                        f"Try again in {answer.retry_after} seconds.",
                    },
                    429,
                )
                response["x-retry-after"] = str(answer.retry_after)
            else:
                channel = request.META.get("HTTP_SHIPBOB_CHANNEL_ID")
                expected_channel = str(settings.SHIPBOB.get("CHANNEL_ID", ""))
                if write and channel is not None and channel.strip() != expected_channel:
                    response = _json({"message": f"No access to channel {channel}"}, 403)
                else:
                    response = view(request, *args, **kwargs)
            response["x-remaining-calls"] = str(answer.remaining)
            return response

        return wrapper

    return decorator


def _int_param(request: HttpRequest, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    value = int(raw)  # ValueError → 400 in the caller
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}")
    return value


def _date_param(request: HttpRequest, name: str) -> datetime | None:
    raw = request.GET.get(name)
    if not raw:
        return None
    moment = datetime.fromisoformat(raw.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _bool_param(request: HttpRequest, name: str) -> bool | None:
    raw = (request.GET.get(name) or "").strip().lower()
    if raw in ("", None):
        return None
    if raw not in ("true", "false"):
        raise ValueError(f"{name} must be true or false")
    return raw == "true"


def _csv(request: HttpRequest, name: str) -> list[str]:
    # Both spellings appear in ShipBob's docs and SDKs (IDs / Ids).
    raw = request.GET.get(name) or request.GET.get(name.capitalize()) or ""
    return [part.strip() for part in raw.split(",") if part.strip()]


@csrf_exempt
@require_http_methods(["GET", "POST"])
@shipbob_faults
def orders(request: HttpRequest, version: str) -> HttpResponse:
    """GET /order (filters, paging headers) or POST /order (create)."""
    if request.method == "POST":
        return _order_create(request, version)
    return _order_list(request, version)


@shipbob_api(write=True)
def _order_create(request: HttpRequest) -> HttpResponse:
    try:
        body = json.loads(request.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _json(warehouse.problem(400, {"": ["The request body is not valid JSON."]}), 400)
    reference = body.get("reference_id") if isinstance(body, dict) else None
    if isinstance(reference, str) and 1 <= len(reference) <= 300:
        warehouse.attempt_count(reference_id=reference)
    errors = warehouse.order_body_errors(body)
    if errors:
        return _json(warehouse.problem(400, errors), 400)
    try:
        order = warehouse.order_create(
            body=body, channel_id=str(settings.SHIPBOB.get("CHANNEL_ID", ""))
        )
    except warehouse.OrderRefused as refused:
        return _json(refused.body, refused.status)
    return _json(warehouse.order_json(order), 201)


@shipbob_api()
def _order_list(request: HttpRequest) -> HttpResponse:
    try:
        page = _int_param(request, "Page", 1, 1, 1_000_000)
        limit = _int_param(request, "Limit", ORDERS_LIMIT_DEFAULT, 1, ORDERS_LIMIT_MAX)
        filters = Q()
        if ids := _csv(request, "IDs"):
            filters &= Q(pk__in=[int(i) for i in ids])
        if references := _csv(request, "ReferenceIds"):
            filters &= Q(reference_id__in=references)
        for name, lookup in (
            ("StartDate", "created_at__gt"),
            ("EndDate", "created_at__lt"),
            ("LastUpdateStartDate", "updated_at__gt"),
            ("LastUpdateEndDate", "updated_at__lt"),
        ):
            if (moment := _date_param(request, name)) is not None:
                filters &= Q(**{lookup: moment})
        tracked = Q(shipments__tracking_number__gt="")
        has_tracking = _bool_param(request, "HasTracking")
        if has_tracking is not None:
            filters &= tracked if has_tracking else ~tracked
        if _bool_param(request, "IsTrackingUploaded") is True:
            filters &= Q(pk__in=[])  # the stand-in never records an upload
        sort = request.GET.get("SortOrder") or "Newest"
        if sort not in ("Newest", "Oldest"):
            raise ValueError("SortOrder must be Newest or Oldest")
    except ValueError as error:
        return _json(warehouse.problem(400, {"": [str(error)]}), 400)
    matching = WarehouseOrder.objects.filter(filters).distinct()
    total = matching.count()
    ordering = ["created_at", "id"] if sort == "Oldest" else ["-created_at", "-id"]
    pks = list(
        matching.order_by(*ordering).values_list("pk", flat=True)[(page - 1) * limit : page * limit]
    )
    by_pk = {o.pk: o for o in warehouse.orders_with_lines().filter(pk__in=pks)}
    response = _json([warehouse.order_json(by_pk[pk]) for pk in pks])
    total_pages = max(1, -(-total // limit))
    response["page-number"] = str(page)
    response["total-pages"] = str(total_pages)
    response["total-count"] = str(total)
    if page < total_pages:
        query = {**request.GET.dict(), "Page": page + 1, "Limit": limit}
        response["next-page"] = f"{request.path}?{urlencode(query)}"
    if page > 1:
        query = {**request.GET.dict(), "Page": page - 1, "Limit": limit}
        response["prev-page"] = f"{request.path}?{urlencode(query)}"
    return response


@csrf_exempt
@require_GET
@shipbob_faults
@shipbob_api()
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = warehouse.orders_with_lines().filter(pk=order_id).first()
    if order is None:
        return _json({"message": f"Order {order_id} not found"}, 404)
    return _json(warehouse.order_json(order))


@csrf_exempt
@require_POST
@shipbob_faults
@shipbob_api(write=True)
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    """POST /order/{id}:cancel — only while no shipment is picked, packed or shipped."""
    outcome = warehouse.order_cancel(order_id=order_id)
    if outcome is None:
        return _json({"message": f"Order {order_id} not found"}, 404)
    return _json(outcome.body, outcome.status)


def _cursor_encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> int:
    padded = cursor + "=" * (-len(cursor) % 4)
    return int(json.loads(base64.urlsafe_b64decode(padded.encode()))["after"])


@csrf_exempt
@require_GET
@shipbob_faults
@shipbob_api()
def inventory_levels(request: HttpRequest) -> HttpResponse:
    """GET /inventory-level?PageSize=&Cursor=&InventoryIds= — cursor pages, `next-page` header."""
    warehouse.inventory_ensure()
    try:
        size = _int_param(request, "PageSize", INVENTORY_PAGE_DEFAULT, 1, INVENTORY_PAGE_MAX)
        cursor = request.GET.get("Cursor") or ""
        after = _cursor_decode(cursor) if cursor else None
        ids = [int(i) for i in _csv(request, "InventoryIds")]
    except (ValueError, KeyError, TypeError) as error:
        return _json(warehouse.problem(400, {"": [f"Bad paging parameters: {error}"]}), 400)
    items = InventoryItem.objects.order_by("inventory_id")
    if ids:
        items = items.filter(inventory_id__in=ids)
    first_query = {k: v for k, v in request.GET.dict().items() if k != "Cursor"}
    page = list(items.filter(inventory_id__gt=after) if after is not None else items)[: size + 1]
    more, page = len(page) > size, page[:size]
    next_link = None
    if more:
        next_link = f"{request.path}?{urlencode({**first_query, 'Cursor': _cursor_encode(page[-1].inventory_id)})}"
    body = {
        "first": f"{request.path}?{urlencode(first_query)}" if after is not None else None,
        "prev": None,
        "next": next_link,
        "last": None,
        "items": [
            {
                "inventory_id": item.inventory_id,
                "name": item.name,
                "sku": item.sku,
                "total_on_hand_quantity": item.on_hand,
                "total_committed_quantity": item.committed,
                "total_fulfillable_quantity": item.fulfillable,
                "total_sellable_quantity": item.fulfillable,
                "total_awaiting_quantity": 0,
                "total_exception_quantity": 0,
                "total_backordered_quantity": 0,
                "total_internal_transfer_quantity": 0,
            }
            for item in page
        ],
    }
    response = _json(body)
    if next_link:
        response["next-page"] = next_link
    return response
