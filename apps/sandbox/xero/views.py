"""The Xero stand-in's HTTP surface, mounted at /sandbox/xero/ (the layout of settings.XERO):

- identity/connect/token        POST: authorization_code, refresh_token (rotated), client_credentials
- login/authorize               GET: auto-approves, redirects to redirect_uri?code=…&state=…
- connections                   GET: the one demo organisation
- api.xro/2.0/Invoices[/{id}]   PUT/POST create, GET (where=, page, pageSize, summaryOnly)
- api.xro/2.0/Contacts[/{id}]   PUT/POST create, GET (where=)
- api.xro/2.0/CreditNotes[/{id}] PUT/POST create, GET (where=, page, pageSize, summaryOnly)
- api.xro/2.0/CreditNotes/{id}/Allocations  PUT: apply the credit to an invoice

Every API call: the bearer token, the tenant header (OAuth tokens only), the concurrent limit, the
day / minute / app-minute windows (429 with X-Rate-Limit-Problem and Retry-After), then fault
injection, then the view. X-MinLimit-Remaining, X-DayLimit-Remaining and X-AppMinLimit-Remaining
ride on every answer. Writes honour Idempotency-Key (the first answer is replayed).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.sandbox.faults import sandbox_faults
from apps.sandbox.xero import books
from apps.sandbox.xero.models import Contact, CreditNote, Invoice, IssuedToken

MAX_BODY_BYTES = 3_500_000
PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX = 100, 1000

xero_faults = sandbox_faults(
    "xero",
    retry_after_headers=("Retry-After",),
    throttle_headers={"X-Rate-Limit-Problem": "minute"},
)


def _json(body, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, safe=False)


def _envelope(resource: str, items: list, **extra) -> dict:
    return {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": "O2C Portal",
        "DateTimeUTC": books.ms_date(datetime.now(UTC)),
        **extra,
        resource: items,
    }


def _problem(status: int, title: str, detail: str) -> JsonResponse:
    return _json({"Type": None, "Title": title, "Status": status, "Detail": detail}, status)


def _validation_exception(elements: list, message: str = "A validation exception occurred"):
    return _json(
        {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": message,
            "Elements": elements,
        },
        400,
    )


# --- identity --------------------------------------------------------------------------------------
def _client_from(request: HttpRequest) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return request.POST.get("client_id", ""), request.POST.get("client_secret", "")


def _client_ok(client_id: str, secret: str) -> bool:
    expected_id = settings.XERO.get("CLIENT_ID", "")
    expected_secret = settings.XERO.get("CLIENT_SECRET", "")
    return bool(
        expected_id
        and expected_secret
        and constant_time_compare(client_id, expected_id)
        and constant_time_compare(secret, expected_secret)
    )


def _oauth_error(error: str, description: str = "", status: int = 400) -> JsonResponse:
    body = {"error": error}
    if description:
        body["error_description"] = description
    return _json(body, status)


@csrf_exempt
@require_POST
@xero_faults
def token(request: HttpRequest) -> HttpResponse:
    books.call_count("token")
    client_id, secret = _client_from(request)
    if not _client_ok(client_id, secret):
        return _oauth_error("invalid_client", status=401)
    grant = request.POST.get("grant_type", "")
    try:
        if grant == "authorization_code":
            issued = books.code_redeem(
                code=request.POST.get("code", ""),
                client_id=client_id,
                redirect_uri=request.POST.get("redirect_uri", ""),
            )
        elif grant == "refresh_token":
            issued = books.refresh_redeem(
                refresh_token=request.POST.get("refresh_token", ""), client_id=client_id
            )
        elif grant == "client_credentials":
            scope = " ".join(request.POST.get("scope", "").split())
            issued = books.tokens_issue(
                client_id=client_id, scope=scope, grant=IssuedToken.Grant.CUSTOM
            )
        else:
            return _oauth_error("unsupported_grant_type")
    except books.GrantRefused as refused:
        return _oauth_error(refused.error, refused.description)
    body = {
        "access_token": issued.access_token,
        "expires_in": issued.expires_in,
        "token_type": "Bearer",
        "scope": issued.scope,
    }
    if issued.refresh_token:
        body["refresh_token"] = issued.refresh_token
    response = _json(body)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def authorize(request: HttpRequest) -> HttpResponse:
    """Xero's consent page, approved at once: back to redirect_uri with a one-time code."""
    params = request.GET
    redirect_uri = params.get("redirect_uri", "")
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return HttpResponse("redirect_uri must be an absolute http(s) URL", status=400)
    if params.get("client_id") != settings.XERO.get("CLIENT_ID") or not params.get("client_id"):
        return HttpResponse("unknown client_id", status=400)
    query: dict[str, str] = {}
    if params.get("response_type") != "code":
        query["error"] = "unsupported_response_type"
    elif not params.get("scope", "").strip():
        query["error"] = "invalid_scope"
    else:
        query["code"] = books.code_issue(
            client_id=params["client_id"],
            redirect_uri=redirect_uri,
            scope=" ".join(params["scope"].split()),
        )
    if params.get("state"):
        query["state"] = params["state"]
    joined = f"{parts.query}&{urlencode(query)}" if parts.query else urlencode(query)
    return HttpResponseRedirect(urlunsplit((*parts[:3], joined, parts.fragment)))


def _bearer(request: HttpRequest) -> IssuedToken | None:
    given = request.headers.get("Authorization", "")
    value = given[7:].strip() if given.lower().startswith("bearer ") else ""
    return books.access_check(value)


@csrf_exempt
@require_GET
@xero_faults
def connections(request: HttpRequest) -> HttpResponse:
    books.call_count("connections")
    if _bearer(request) is None:
        return _problem(401, "Unauthorized", "TokenExpired: token expired or unknown")
    return _json([books.connection_json()])


# --- the API wrapper -------------------------------------------------------------------------------
def _limit_headers(response: HttpResponse, answer: books.LimitAnswer) -> HttpResponse:
    response["X-MinLimit-Remaining"] = str(answer.minute_remaining)
    response["X-DayLimit-Remaining"] = str(answer.day_remaining)
    response["X-AppMinLimit-Remaining"] = str(answer.app_remaining)
    return response


def _throttled(problem: str, retry_after: int) -> JsonResponse:
    response = _json(
        {"Title": "Too Many Requests", "Status": 429, "Detail": f"Rate limit exceeded: {problem}"},
        429,
    )
    response["X-Rate-Limit-Problem"] = problem
    response["Retry-After"] = str(retry_after)
    return response


def xero_api(kind: str):
    """Token, tenant, the concurrent and windowed limits, then faults, then the view."""

    def decorator(view):
        faulty = xero_faults(view)

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            label = f"{request.method} {kind}"
            issued = _bearer(request)
            if issued is None:
                response = _problem(401, "Unauthorized", "TokenExpired: token expired or unknown")
                response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
                return response
            tenant = request.headers.get("xero-tenant-id", "").strip().lower()
            if issued.grant == IssuedToken.Grant.OAUTH and not tenant:
                return _problem(
                    403, "Forbidden", "AuthorizationUnsuccessful: xero-tenant-id missing"
                )
            if tenant and tenant != books.DEMO_TENANT_ID:
                return _problem(403, "Forbidden", "AuthorizationUnsuccessful: unknown tenant")
            tenant = books.DEMO_TENANT_ID
            slot = books.in_flight_enter(tenant_id=tenant)
            if slot is None:
                books.call_count(label, throttled=True)
                return _limit_headers(
                    _throttled("concurrent", 1), books.limits_take(tenant_id=tenant, take=False)
                )
            try:
                answer = books.limits_take(tenant_id=tenant)
                if not answer.allowed:
                    books.call_count(label, throttled=True)
                    return _limit_headers(_throttled(answer.problem, answer.retry_after), answer)
                books.call_count(label)
                request.xero_tenant_id = tenant
                return _limit_headers(faulty(request, *args, **kwargs), answer)
            finally:
                books.in_flight_leave(slot)

        return wrapper

    return decorator


def _idempotent(view):
    """Replay the first answer to a write carrying the same Idempotency-Key (per tenant)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return view(request, *args, **kwargs)
        if len(key) > 128:
            return _validation_exception([], "Idempotency-Key must be at most 128 characters")
        tenant = request.xero_tenant_id
        row = books.idempotent_begin(
            tenant_id=tenant, key=key, request_line=f"{request.method} {request.path}"[:300]
        )
        if row is not None:
            if not row.status:
                return _problem(409, "Conflict", "A request with this Idempotency-Key is running")
            response = HttpResponse(row.body, status=row.status, content_type="application/json")
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            response = view(request, *args, **kwargs)
        except Exception:
            books.idempotent_abandon(tenant_id=tenant, key=key)
            raise
        books.idempotent_finish(
            tenant_id=tenant, key=key, status=response.status_code, body=response.content.decode()
        )
        return response

    return wrapper


def _elements(request: HttpRequest, resource: str) -> tuple[list | None, HttpResponse | None]:
    if len(request.body) > MAX_BODY_BYTES:
        return None, _problem(413, "Payload Too Large", "Request body above 3.5 MB")
    try:
        body = json.loads(request.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, _validation_exception([], "The request body is not valid JSON")
    if isinstance(body, dict) and isinstance(body.get(resource), list):
        return body[resource], None
    if isinstance(body, dict) and resource not in body:
        return [body], None  # Xero also takes one bare element
    return None, _validation_exception([], f"Expected {{'{resource}': [...]}}")


def _summarize(request: HttpRequest) -> bool:
    return request.GET.get("summarizeErrors", "true").strip().lower() != "false"


def _write(request: HttpRequest, resource: str, schema: str, create) -> HttpResponse:
    elements, refused = _elements(request, resource)
    if refused is not None:
        return refused
    if len(elements) > 50 and resource in ("Invoices", "CreditNotes"):
        # Xero's guidance is ≤ 50 per call; the stand-in holds the portal to it.
        return _validation_exception([], "At most 50 invoices per request")
    problems = [books.schema_problems(schema, element) for element in elements]
    if any(problems):
        # Read-only or unknown fields, wrong types: the whole request is refused, nothing created.
        return _validation_exception(
            [
                {
                    **(e if isinstance(e, dict) else {}),
                    "ValidationErrors": [{"Message": f"Schema: {m}"} for m in p],
                }
                for e, p in zip(elements, problems, strict=True)
            ]
        )
    answers, failed = [], False
    for element in elements:
        answer, created = create(element)
        answers.append(answer)
        failed = failed or not created
    if failed and _summarize(request):
        # One bad element fails the call, while the good ones were created anyway (as Xero does).
        return _validation_exception(answers)
    return _json(_envelope(resource, answers))


def _paged(request: HttpRequest, resource: str, rows: list, to_json) -> HttpResponse:
    summary = request.GET.get("summaryOnly", "").lower() == "true"
    page_raw = request.GET.get("page")
    extra = {}
    if page_raw:
        try:
            page = max(1, int(page_raw))
            size = int(request.GET.get("pageSize") or PAGE_SIZE_DEFAULT)
        except ValueError:
            return _validation_exception([], "page and pageSize must be whole numbers")
        size = min(max(1, size), PAGE_SIZE_MAX)
        extra["pagination"] = {
            "page": page,
            "pageSize": size,
            "pageCount": max(1, -(-len(rows) // size)),
            "itemCount": len(rows),
        }
        rows = rows[(page - 1) * size : page * size]
    return _json(_envelope(resource, [to_json(r, summary=summary) for r in rows], **extra))


def _filtered(request: HttpRequest, rows: list, record) -> list | HttpResponse:
    where = request.GET.get("where", "").strip()
    if not where:
        return rows
    try:
        matches = books.where_compile(where)
        return [row for row in rows if matches(record(row))]
    except books.QueryError as error:
        return _json({"ErrorNumber": 16, "Type": "QueryParseException", "Message": str(error)}, 400)


# --- invoices --------------------------------------------------------------------------------------
@csrf_exempt
@require_http_methods(["GET", "PUT", "POST"])
@xero_api("Invoices")
def invoices(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _invoice_list(request)
    return _invoice_write(request)


@_idempotent
def _invoice_write(request: HttpRequest) -> HttpResponse:
    places = 4 if request.GET.get("unitdp") == "4" else 2
    tenant = request.xero_tenant_id
    return _write(
        request,
        "Invoices",
        "Invoice",
        lambda element: books.invoice_create(tenant_id=tenant, element=element, unit_places=places),
    )


def _invoice_list(request: HttpRequest) -> HttpResponse:
    rows = list(
        Invoice.objects.filter(tenant_id=request.xero_tenant_id)
        .select_related("contact")
        .prefetch_related("allocations")
        .order_by("id")
    )
    rows = _filtered(request, rows, books.invoice_record)
    if isinstance(rows, HttpResponse):
        return rows
    return _paged(request, "Invoices", rows, books.invoice_json)


@csrf_exempt
@require_GET
@xero_api("Invoices/{id}")
def invoice_detail(request: HttpRequest, ref: str) -> HttpResponse:
    rows = (
        Invoice.objects.filter(tenant_id=request.xero_tenant_id)
        .select_related("contact")
        .prefetch_related("allocations")
    )
    invoice = rows.filter(invoice_id=ref.lower()).first() or rows.filter(invoice_number=ref).first()
    if invoice is None:
        return _problem(404, "Not Found", f"Invoice {ref} not found")
    return _json(_envelope("Invoices", [books.invoice_json(invoice)]))


# --- credit notes ----------------------------------------------------------------------------------
def _credit_notes(request: HttpRequest):
    return (
        CreditNote.objects.filter(tenant_id=request.xero_tenant_id)
        .select_related("contact")
        .prefetch_related("allocations__invoice")
    )


@csrf_exempt
@require_http_methods(["GET", "PUT", "POST"])
@xero_api("CreditNotes")
def credit_notes(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        rows = _filtered(
            request, list(_credit_notes(request).order_by("id")), books.credit_note_record
        )
        if isinstance(rows, HttpResponse):
            return rows
        return _paged(request, "CreditNotes", rows, books.credit_note_json)
    return _credit_note_write(request)


@_idempotent
def _credit_note_write(request: HttpRequest) -> HttpResponse:
    places = 4 if request.GET.get("unitdp") == "4" else 2
    tenant = request.xero_tenant_id
    return _write(
        request,
        "CreditNotes",
        "CreditNote",
        lambda element: books.credit_note_create(
            tenant_id=tenant, element=element, unit_places=places
        ),
    )


def _credit_note_or_404(request: HttpRequest, ref: str) -> CreditNote | HttpResponse:
    rows = _credit_notes(request)
    note = (
        rows.filter(credit_note_id=ref.lower()).first()
        or rows.filter(credit_note_number=ref).first()
    )
    return note or _problem(404, "Not Found", f"Credit note {ref} not found")


@csrf_exempt
@require_GET
@xero_api("CreditNotes/{id}")
def credit_note_detail(request: HttpRequest, ref: str) -> HttpResponse:
    note = _credit_note_or_404(request, ref)
    if isinstance(note, HttpResponse):
        return note
    return _json(_envelope("CreditNotes", [books.credit_note_json(note)]))


@csrf_exempt
@require_http_methods(["PUT"])
@xero_api("CreditNotes/{id}/Allocations")
def credit_note_allocations(request: HttpRequest, ref: str) -> HttpResponse:
    note = _credit_note_or_404(request, ref)
    if isinstance(note, HttpResponse):
        return note
    return _allocation_write(request, note)


@_idempotent
def _allocation_write(request: HttpRequest, note: CreditNote) -> HttpResponse:
    tenant = request.xero_tenant_id
    return _write(
        request,
        "Allocations",
        "Allocation",
        lambda element: books.allocation_create(
            tenant_id=tenant, credit_note=note, element=element
        ),
    )


# --- contacts --------------------------------------------------------------------------------------
@csrf_exempt
@require_http_methods(["GET", "PUT", "POST"])
@xero_api("Contacts")
def contacts(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _contact_list(request)
    return _contact_write(request)


@_idempotent
def _contact_write(request: HttpRequest) -> HttpResponse:
    tenant = request.xero_tenant_id
    return _write(
        request,
        "Contacts",
        "Contact",
        lambda element: books.contact_create(tenant_id=tenant, element=element),
    )


def _contact_list(request: HttpRequest) -> HttpResponse:
    rows = list(Contact.objects.filter(tenant_id=request.xero_tenant_id).order_by("id"))
    rows = _filtered(request, rows, books.contact_record)
    if isinstance(rows, HttpResponse):
        return rows
    return _paged(request, "Contacts", rows, books.contact_json)


@csrf_exempt
@require_GET
@xero_api("Contacts/{id}")
def contact_detail(request: HttpRequest, ref: str) -> HttpResponse:
    rows = Contact.objects.filter(tenant_id=request.xero_tenant_id)
    contact = rows.filter(contact_id=ref.lower()).first() or rows.filter(contact_number=ref).first()
    if contact is None:
        return _problem(404, "Not Found", f"Contact {ref} not found")
    return _json(_envelope("Contacts", [books.contact_json(contact)]))


# --- counters for tests and benches ----------------------------------------------------------------
@csrf_exempt
@require_http_methods(["GET", "DELETE"])
def stats(request: HttpRequest) -> HttpResponse:
    """GET: calls per kind, throttled calls, invoices and contacts held; DELETE: reset the counters
    and rate windows (the books stay). Bearer SANDBOX_API_TOKEN, like the fault API."""
    from apps.sandbox.views import _api_allowed

    if not _api_allowed(request):
        raise PermissionDenied
    if request.method == "DELETE":
        books.calls_reset()
    return _json(books.stats())
