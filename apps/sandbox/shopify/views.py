"""The Shopify stand-in's HTTP surface: the client-credentials grant and the Admin GraphQL endpoint.

Cost-based throttling like Shopify's: a leaky bucket of points per access token (maximumAvailable
1,000, restoreRate 100/s by default; `settings.SANDBOX_SHOPIFY` overrides), the requested cost
taken before a query runs and the unused part refunded after; `extensions.cost` on every answer;
THROTTLED (HTTP 200) when the bucket cannot cover the request.
"""

import json
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.sandbox.faults import sandbox_faults
from apps.sandbox.shopify import gql, schema
from apps.sandbox.shopify.models import StoreAccessToken, StoreCostBucket

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"  # noqa: S105 - an error message
MUTATION_COST = 10
DEFAULTS = {"MAXIMUM_AVAILABLE": 1000.0, "RESTORE_RATE": 100.0, "TOKEN_TTL_SECONDS": 86399}


def sandbox_config() -> dict:
    return {**DEFAULTS, **getattr(settings, "SANDBOX_SHOPIFY", {})}


def _matches(given: str, expected: str) -> bool:
    return bool(expected) and constant_time_compare(given, expected)


@csrf_exempt
@require_POST
@sandbox_faults("shopify")
def access_token(request: HttpRequest) -> JsonResponse:
    """POST /admin/oauth/access_token (form): grant_type=client_credentials, client_id, client_secret."""
    shop = settings.SHOPIFY
    if request.POST.get("grant_type") != "client_credentials":
        return JsonResponse(
            {"error": "unsupported_grant_type", "error_description": "Use client_credentials."},
            status=400,
        )
    if not (
        _matches(request.POST.get("client_id", ""), shop.get("CLIENT_ID", ""))
        and _matches(request.POST.get("client_secret", ""), shop.get("CLIENT_SECRET", ""))
    ):
        return JsonResponse(
            {"error": "invalid_client", "error_description": "Client authentication failed."},
            status=401,
        )
    ttl = int(sandbox_config()["TOKEN_TTL_SECONDS"])
    token = StoreAccessToken.objects.create(
        token=f"shpat_{secrets.token_hex(16)}", expires_at=timezone.now() + timedelta(seconds=ttl)
    )
    return JsonResponse(
        {"access_token": token.token, "scope": "read_orders,write_orders", "expires_in": ttl}
    )


def _token_valid(token: str) -> bool:
    if not token:
        return False
    if _matches(token, settings.SHOPIFY.get("ACCESS_TOKEN", "")):
        return True
    return StoreAccessToken.objects.filter(token=token, expires_at__gt=timezone.now()).exists()


def _bucket_take(key: str, requested: int) -> tuple[bool, dict]:
    """Refill by elapsed time, then take `requested` points if they are there."""
    config = sandbox_config()
    maximum, rate = float(config["MAXIMUM_AVAILABLE"]), float(config["RESTORE_RATE"])
    now = timezone.now()
    with transaction.atomic():
        StoreCostBucket.objects.get_or_create(
            key=key, defaults={"available": maximum, "updated_at": now}
        )
        bucket = StoreCostBucket.objects.select_for_update().get(key=key)
        elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
        available = min(maximum, bucket.available + elapsed * rate)
        allowed = requested <= available
        if allowed:
            available -= requested
        else:
            bucket.throttled_total += 1
        bucket.available, bucket.updated_at = available, now
        bucket.save()
    return allowed, {
        "maximumAvailable": maximum,
        "currentlyAvailable": int(available),
        "restoreRate": rate,
    }


def _bucket_refund(key: str, points: int) -> dict:
    config = sandbox_config()
    maximum = float(config["MAXIMUM_AVAILABLE"])
    with transaction.atomic():
        bucket = StoreCostBucket.objects.select_for_update().get(key=key)
        bucket.available = min(maximum, bucket.available + max(0, points))
        bucket.save(update_fields=["available"])
    return {
        "maximumAvailable": maximum,
        "currentlyAvailable": int(bucket.available),
        "restoreRate": float(config["RESTORE_RATE"]),
    }


def _error(
    message: str, *, code: str = "", status: int = 200, cost: dict | None = None
) -> JsonResponse:
    error = {"message": message, "locations": [{"line": 1, "column": 1}]}
    if code:
        error["extensions"] = {"code": code}
    body: dict = {"errors": [error]}
    if cost is not None:
        body["extensions"] = {"cost": cost}
    return JsonResponse(body, status=status)


@csrf_exempt
@require_POST
@sandbox_faults("shopify")
def graphql(request: HttpRequest, version: str) -> JsonResponse:
    """POST /admin/api/<version>/graphql.json with X-Shopify-Access-Token."""
    token = request.headers.get("X-Shopify-Access-Token", "")
    if not _token_valid(token):
        return JsonResponse({"errors": INVALID_TOKEN}, status=401)
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return JsonResponse(
            {"errors": {"query": "Required parameter missing or invalid"}}, status=400
        )
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return JsonResponse(
            {"errors": {"query": "Required parameter missing or invalid"}}, status=400
        )
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        return _error("Variables must be an object")
    try:
        operation = gql.operation_parse(body["query"], body.get("operationName"))
        merged = {name: default for name, default in operation.variables.items()}
        merged.update(variables)
        roots = schema.MUTATION_ROOT if operation.kind == "mutation" else schema.QUERY_ROOT
        requested = sum(
            (MUTATION_COST if operation.kind == "mutation" else 0) + gql.field_cost(f, merged)
            for f in operation.selections
        )
    except gql.GraphQLError as error:
        return _error(error.message, code=error.code)
    maximum = float(sandbox_config()["MAXIMUM_AVAILABLE"])
    if requested > maximum:
        return _error(
            f"Query cost is {requested}, which exceeds the single query max cost limit ({maximum:g}).",
            code="MAX_COST_EXCEEDED",
            cost={"requestedQueryCost": requested, "actualQueryCost": None},
        )
    key = token[:100]
    allowed, throttle = _bucket_take(key, requested)
    cost = {"requestedQueryCost": requested, "actualQueryCost": None, "throttleStatus": throttle}
    if not allowed:
        return _error("Throttled", code="THROTTLED", cost=cost)
    data = {}
    try:
        for field_ in operation.selections:
            resolver = roots.get(field_.name)
            if resolver is None:
                raise gql.GraphQLError(
                    f"Field '{field_.name}' doesn't exist on type "
                    f"'{'Mutation' if operation.kind == 'mutation' else 'QueryRoot'}'"
                )
            args = gql.args_resolve(field_, merged)
            for name, directive_args in field_.directives.items():
                # Resolvers that honour a directive (@idempotent) read it as "@name".
                args[f"@{name}"] = gql.value_resolve(directive_args, merged)
            value = resolver(args)
            data[field_.key] = (
                gql.value_prune(field_, value, merged) if field_.selections else value
            )
    except gql.GraphQLError as error:
        cost["throttleStatus"] = _bucket_refund(key, requested)
        return _error(error.message, code=error.code, cost=cost)
    actual = (MUTATION_COST if operation.kind == "mutation" else 0) + gql.actual_cost(
        operation.selections, data
    )
    actual = min(actual, requested)
    cost["actualQueryCost"] = actual
    cost["throttleStatus"] = _bucket_refund(key, requested - actual)
    return JsonResponse({"data": data, "extensions": {"cost": cost}})
