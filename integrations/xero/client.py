"""Xero Accounting API 2.0 client: invoices, credit notes and contacts in batches, allocations,
Xero's rate headers.

Plain Python: returns dataclasses, raises `PeerError` (`XeroRateLimited` on 429, `XeroUnauthorized`
on 401), knows nothing of Django models. Token storage and refresh belong to the caller: a client
is built with a current access token.

Choices:
- Writes are `PUT …?summarizeErrors=false`: the answer is 200 with one element per element sent,
  in order, each with `HasErrors` / `StatusAttributeString` and `ValidationErrors[{Message}]`.
  Results are aligned with the input by position (Xero keeps the order); the element's own
  Reference is preferred when Xero echoes it. A failed element has no id.
- Reads by Reference / ContactNumber use `where=Field=="a" OR Field=="b"` (string literals with `"`
  and `\\` escaped), in chunks that keep the query short, paged with `page`/`pageSize`.
- Amounts are Decimal on the way out of the client; the body builders emit JSON numbers (floats
  whose repr is the exact decimal: amounts are quantised to 2 or 4 places first).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date as date_type
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from integrations.http import (
    DEFAULT_TIMEOUT_SECONDS,
    DEFAULT_USER_AGENT,
    PeerClient,
    PeerError,
    RateGate,
    RateInfo,
    build_client,
    object_at,
    parse_int,
    parse_retry_after,
    peer_words,
    request_classified,
    response_json,
    response_text,
)

PEER = "xero"
MAX_PER_BATCH = 50
IDEMPOTENCY_KEY_MAX_CHARS = 128
# Xero refuses bodies above 3.5 MB.
MAX_BODY_BYTES = 3_500_000
PAGE_SIZE = 100
# One where= clause per value; a chunk stops at this many values or characters of where text.
# A whole batch of 50 fits in one lookup (≤ 3 calls per 50 invoices); ~3,000 characters of where
# text stay well inside the URL lengths Xero and proxies accept (8 KB).
WHERE_MAX_VALUES = 50
WHERE_MAX_CHARS = 3000
REFERENCE_MAX_CHARS = 255
CONTACT_NUMBER_MAX_CHARS = 50
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
INVOICE_STATUSES_ON_CREATE = frozenset({"DRAFT", "SUBMITTED", "AUTHORISED"})
LINE_AMOUNT_TYPES = frozenset({"Exclusive", "Inclusive", "NoTax"})
LINE_FIELDS = frozenset(
    {
        "Description",
        "Quantity",
        "UnitAmount",
        "ItemCode",
        "AccountCode",
        "TaxType",
        "DiscountAmount",
        "TaxAmount",
    }
)
# Decimal places Xero keeps with unitdp=4: quantities and unit amounts 4, money 2.
_PLACES = {"Quantity": 4, "UnitAmount": 4, "DiscountAmount": 2, "TaxAmount": 2}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class InvoiceResult:
    reference: str
    invoice_id: str | None
    status: str
    total: Decimal | None
    has_errors: bool
    errors: tuple[str, ...]


@dataclass(frozen=True)
class XeroInvoice:
    invoice_id: str
    reference: str
    status: str
    total: Decimal
    currency: str
    contact_id: str


@dataclass(frozen=True)
class ContactResult:
    contact_number: str
    contact_id: str | None
    errors: tuple[str, ...]


@dataclass(frozen=True)
class XeroLimits:
    """Xero's remaining-calls headers from one answer (None where absent)."""

    minute_remaining: int | None
    day_remaining: int | None
    app_minute_remaining: int | None
    problem: str  # "" or minute | day | concurrent | appminute (on a 429)
    retry_after: float | None


class XeroRateLimited(PeerError):
    """A 429: `problem` names the limit hit (minute, day, concurrent; appminute is app-wide)."""

    def __init__(
        self,
        problem: str,
        *,
        retry_after: float | None,
        remaining: int | None,
        body: str = "",
    ) -> None:
        what = problem or "unknown"
        super().__init__(
            PEER,
            f"rate limited by Xero (HTTP 429, {what} limit)"
            + (f"; retry after {retry_after:.0f}s" if retry_after is not None else ""),
            retryable=True,
            retry_after=retry_after,
            remaining=remaining,
            status_code=429,
            body=body,
        )
        self.problem = problem


class XeroUnauthorized(PeerError):
    """A 401: the access token is expired or revoked. Retryable once the caller refreshes it."""

    def __init__(self, message: str, *, body: str = "") -> None:
        super().__init__(PEER, message, retryable=True, status_code=401, body=body)


# --- rate headers ----------------------------------------------------------------------------------
def xero_limits(response: httpx.Response) -> XeroLimits:
    headers = response.headers
    return XeroLimits(
        minute_remaining=parse_int(headers.get("x-minlimit-remaining")),
        day_remaining=parse_int(headers.get("x-daylimit-remaining")),
        app_minute_remaining=parse_int(headers.get("x-appminlimit-remaining")),
        problem=(headers.get("x-rate-limit-problem") or "").strip().lower(),
        retry_after=parse_retry_after(headers.get("retry-after")),
    )


def xero_rate_info(response: httpx.Response) -> RateInfo:
    """remaining = the smaller of the minute and day allowances left; Retry-After as given."""
    limits = xero_limits(response)
    known = [v for v in (limits.minute_remaining, limits.day_remaining) if v is not None]
    return RateInfo(remaining=min(known) if known else None, retry_after=limits.retry_after)


# --- error words -----------------------------------------------------------------------------------
def _element_errors(element: Mapping[str, Any]) -> tuple[str, ...]:
    messages: list[str] = []
    for error in element.get("ValidationErrors") or []:
        if isinstance(error, dict):
            # Xero puts the words under Message in most answers, Description in a few.
            text = error.get("Message") or error.get("Description")
            if text:
                messages.append(str(text))
        elif error:
            messages.append(str(error))
    return tuple(dict.fromkeys(messages))


def xero_error_words(response: httpx.Response) -> str:
    """Xero's words from an error body: Message / Detail / Title, plus element ValidationErrors."""
    return peer_words(response, _body_words)


def _body_words(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    words = [str(body[k]) for k in ("Message", "Detail", "Title", "error") if body.get(k)]
    for element in body.get("Elements") or []:
        if isinstance(element, dict):
            words.extend(_element_errors(element))
    return words


# --- where= ----------------------------------------------------------------------------------------
def where_literal(value: str) -> str:
    """A where-clause string literal: double quotes, with backslash and quote escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def where_any(field: str, values: Sequence[str]) -> str:
    """`Field=="a" OR Field=="b"` for one chunk of values."""
    return " OR ".join(f"{field}=={where_literal(v)}" for v in values)


def where_chunks(field: str, values: Sequence[str]) -> list[list[str]]:
    """Split distinct values into chunks whose where text stays under WHERE_MAX_CHARS."""
    chunks: list[list[str]] = []
    current: list[str] = []
    length = 0
    for value in dict.fromkeys(values):
        clause = len(field) + 2 + len(where_literal(value)) + 4
        if current and (len(current) >= WHERE_MAX_VALUES or length + clause > WHERE_MAX_CHARS):
            chunks.append(current)
            current, length = [], 0
        current.append(value)
        length += clause
    if current:
        chunks.append(current)
    return chunks


# --- body builders ---------------------------------------------------------------------------------
def _number(value: Any, what: str, places: int) -> float:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{what} must be a number")
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{what} must be finite")
    quantised = amount.quantize(Decimal(1).scaleb(-places))
    if quantised != amount:
        # Xero would round it; a silent rounding here would make our totals drift from Xero's.
        raise ValueError(f"{what} {amount} has more than {places} decimal places")
    return float(quantised)


def _date(value: Any, what: str) -> str:
    if isinstance(value, date_type):
        return value.isoformat()[:10]
    try:
        return date_type.fromisoformat(str(value or "")).isoformat()
    except ValueError:
        raise ValueError(f"{what} must be a date (YYYY-MM-DD), got {value!r}") from None


def _text_field(value: Any, what: str, *, max_chars: int, required: bool = True) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ValueError(f"{what} is required")
    if len(text) > max_chars:
        raise ValueError(f"{what} is {len(text)} characters; Xero allows at most {max_chars}")
    return text


def invoice_line(line: Mapping[str, Any], *, index: int = 0) -> dict[str, Any]:
    """One LineItem: only the fields we own (no LineAmount, no read-only fields)."""
    unknown = set(line) - LINE_FIELDS
    if unknown:
        raise ValueError(f"line {index}: unsupported fields {sorted(unknown)}")
    out: dict[str, Any] = {
        "Description": _text_field(
            line.get("Description"), f"line {index} Description", max_chars=4000
        )
    }
    for name in ("Quantity", "UnitAmount"):
        out[name] = _number(line.get(name), f"line {index} {name}", _PLACES[name])
    for name in ("ItemCode", "AccountCode", "TaxType"):
        text = _text_field(line.get(name), f"line {index} {name}", max_chars=30, required=False)
        if text:
            out[name] = text
    for name in ("DiscountAmount", "TaxAmount"):
        if line.get(name) is not None:
            out[name] = _number(line[name], f"line {index} {name}", _PLACES[name])
    if out.get("DiscountAmount") and out["DiscountAmount"] < 0:
        raise ValueError(f"line {index} DiscountAmount must not be negative")
    return out


def _document_body(
    *,
    kind: str,
    reference: str,
    contact_id: str,
    date: date_type | str,
    currency: str,
    line_amount_types: str,
    status: str,
    lines: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    if not isinstance(contact_id, str) or not _UUID.match(contact_id):
        raise ValueError(f"contact_id must be a Xero ContactID (UUID), got {contact_id!r}")
    if line_amount_types not in LINE_AMOUNT_TYPES:
        raise ValueError(f"line_amount_types must be one of {sorted(LINE_AMOUNT_TYPES)}")
    if status not in INVOICE_STATUSES_ON_CREATE:
        raise ValueError(f"status must be one of {sorted(INVOICE_STATUSES_ON_CREATE)}")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise ValueError(f"currency must be an ISO 4217 code, got {currency!r}")
    if not lines:
        raise ValueError(f"a {kind} needs at least one line")
    return {
        "Type": kind,
        "Contact": {"ContactID": contact_id},
        "Date": _date(date, "date"),
        "Reference": _text_field(reference, "reference", max_chars=REFERENCE_MAX_CHARS),
        "CurrencyCode": currency,
        "LineAmountTypes": line_amount_types,
        "Status": status,
        "LineItems": [invoice_line(line, index=i) for i, line in enumerate(lines)],
    }


def invoice_body(
    *,
    reference: str,
    contact_id: str,
    date: date_type | str,
    due_date: date_type | str,
    currency: str,
    line_amount_types: str,
    status: str,
    lines: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """One sales invoice (ACCREC) for PUT /Invoices. ValueError says which field is wrong."""
    body = _document_body(
        kind="ACCREC",
        reference=reference,
        contact_id=contact_id,
        date=date,
        currency=currency,
        line_amount_types=line_amount_types,
        status=status,
        lines=lines,
    )
    due = _date(due_date, "due_date")
    if due < body["Date"]:
        raise ValueError("due_date is before date")
    return {**body, "DueDate": due}


def credit_note_body(
    *,
    reference: str,
    contact_id: str,
    date: date_type | str,
    currency: str,
    line_amount_types: str,
    status: str,
    lines: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """One sales credit note (ACCRECCREDIT) for PUT /CreditNotes. ValueError says what is wrong."""
    return _document_body(
        kind="ACCRECCREDIT",
        reference=reference,
        contact_id=contact_id,
        date=date,
        currency=currency,
        line_amount_types=line_amount_types,
        status=status,
        lines=lines,
    )


def allocation_body(*, invoice_id: str, amount: Decimal, date: date_type | str) -> dict[str, Any]:
    """One allocation of a credit note to an invoice, for PUT /CreditNotes/{id}/Allocations."""
    if not isinstance(invoice_id, str) or not _UUID.match(invoice_id):
        raise ValueError(f"invoice_id must be a Xero InvoiceID (UUID), got {invoice_id!r}")
    if amount <= 0:
        raise ValueError("an allocation amount must be positive")
    return {
        "Invoice": {"InvoiceID": invoice_id},
        "Amount": _number(amount, "amount", 2),
        "Date": _date(date, "date"),
    }


def contact_body(
    *,
    contact_number: str,
    name: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> dict[str, Any]:
    """One contact for PUT /Contacts (ContactNumber = our customer id; Name unique among active)."""
    body = {
        "ContactNumber": _text_field(
            contact_number, "contact_number", max_chars=CONTACT_NUMBER_MAX_CHARS
        ),
        "Name": _text_field(name, "name", max_chars=255),
    }
    email = _text_field(email, "email", max_chars=255, required=False)
    if email:
        if not _EMAIL.match(email):
            raise ValueError(f"email {email!r} is not an email address")
        body["EmailAddress"] = email
    for key, value, what in (
        ("FirstName", first_name, "first_name"),
        ("LastName", last_name, "last_name"),
    ):
        text = _text_field(value, what, max_chars=255, required=False)
        if text:
            body[key] = text
    return body


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


# --- the client ------------------------------------------------------------------------------------
class XeroClient(PeerClient):
    """One Xero organisation through one access token. Raises PeerError.

    tenant_id: sent as `xero-tenant-id` (OAuth connections); None for a custom connection.
    `last_limits` holds the rate headers of the latest answer (for the status panel).
    """

    def __init__(
        self,
        *,
        api_url: str,
        access_token: str,
        tenant_id: str | None,
        rate_gate: RateGate | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        if not api_url:
            raise ValueError("Xero API_URL is not configured")
        if not access_token:
            raise ValueError("an access token is required")
        self.api_url = api_url.rstrip("/")
        self.tenant_id = tenant_id
        self.last_limits: XeroLimits | None = None
        headers = {
            "Authorization": f"Bearer {access_token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        if tenant_id:
            headers["xero-tenant-id"] = tenant_id
        self.http = build_client(
            peer=PEER,
            base_url=self.api_url,
            headers=headers,
            timeout=timeout,
            user_agent=user_agent,
            rate_gate=rate_gate,
            rate_info=xero_rate_info,
            transport=transport,
        )
        # Every answer, errors included, refreshes last_limits (read by the status panel).
        self.http.event_hooks["response"].append(self._observe)

    # --- transport ----------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return request_classified(
            self.http,
            PEER,
            method,
            f"/{path.lstrip('/')}",
            rate_info=xero_rate_info,
            error_words=xero_error_words,
            worded_statuses=(400, 403, 404, 413),
            classify=self._classify,
            params=params,
            content=content,
            headers=headers,
        )

    @staticmethod
    def _classify(response: httpx.Response) -> PeerError | None:
        """Xero's own errors: a 429 names the limit hit, a 401 asks for a fresh token."""
        if response.status_code == 429:
            limits = xero_limits(response)
            return XeroRateLimited(
                limits.problem,
                retry_after=limits.retry_after,
                remaining=xero_rate_info(response).remaining,
                body=response_text(response),
            )
        if response.status_code == 401:
            return XeroUnauthorized(
                f"access token rejected (HTTP 401): {xero_error_words(response)}",
                body=response_text(response),
            )
        return None

    def _observe(self, response: httpx.Response) -> None:
        self.last_limits = xero_limits(response)

    @staticmethod
    def _check_key(idempotency_key: str) -> None:
        if not idempotency_key or len(idempotency_key) > IDEMPOTENCY_KEY_MAX_CHARS:
            raise ValueError(f"idempotency_key must be 1–{IDEMPOTENCY_KEY_MAX_CHARS} characters")

    def _put_batch(
        self, resource: str, items: Sequence[dict[str, Any]], *, idempotency_key: str, unitdp: bool
    ) -> list[dict[str, Any]]:
        if not items:
            raise ValueError(f"no {resource} to send")
        if len(items) > MAX_PER_BATCH:
            raise ValueError(f"at most {MAX_PER_BATCH} {resource} per call, got {len(items)}")
        self._check_key(idempotency_key)
        content = json.dumps({resource: list(items)}, separators=(",", ":")).encode()
        if len(content) > MAX_BODY_BYTES:
            raise ValueError(f"{resource} body is {len(content)} bytes; Xero allows 3.5 MB")
        params = {"summarizeErrors": "false"}
        if unitdp:
            params["unitdp"] = "4"
        response = self._call(
            "PUT", resource, params=params, content=content, idempotency_key=idempotency_key
        )
        elements = response_json(PEER, response, object_only=True).get(resource)
        if not isinstance(elements, list) or len(elements) != len(items):
            got = len(elements) if isinstance(elements, list) else "no"
            raise PeerError(
                PEER,
                f"PUT {resource}: {got} elements answered for {len(items)} sent; "
                "look up by reference before sending again",
                retryable=False,
                status_code=response.status_code,
                body=response_text(response),
            )
        return [e if isinstance(e, dict) else {} for e in elements]

    @staticmethod
    def _failed(element: Mapping[str, Any]) -> bool:
        return (
            element.get("HasErrors") is True
            or str(element.get("StatusAttributeString") or "").upper() == "ERROR"
            or bool(_element_errors(element))
        )

    def _get_all(self, resource: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            response = self._call(
                "GET", resource, params={**params, "page": page, "pageSize": PAGE_SIZE}
            )
            items = response_json(PEER, response, object_only=True).get(resource) or []
            if not isinstance(items, list):
                raise PeerError(PEER, f"GET {resource}: no {resource} list", retryable=False)
            found.extend(i for i in items if isinstance(i, dict))
            if len(items) < PAGE_SIZE:
                return found
            page += 1

    # --- invoices and credit notes -----------------------------------------------------------
    def _documents_put(
        self,
        resource: str,
        id_field: str,
        documents: Sequence[dict[str, Any]],
        *,
        idempotency_key: str,
    ) -> list[InvoiceResult]:
        elements = self._put_batch(
            resource, documents, idempotency_key=idempotency_key, unitdp=True
        )
        results = []
        for sent, element in zip(documents, elements, strict=True):
            failed = self._failed(element)
            document_id = str(element.get(id_field) or "")
            results.append(
                InvoiceResult(
                    reference=str(element.get("Reference") or sent.get("Reference") or ""),
                    invoice_id=None if failed or document_id in ("", ZERO_GUID) else document_id,
                    status=str(element.get("Status") or ""),
                    total=None if failed else _decimal(element.get("Total")),
                    has_errors=failed,
                    errors=_element_errors(element)
                    or (("Xero marked the element as failed without a message",) if failed else ()),
                )
            )
        return results

    def _documents_by_reference(
        self, resource: str, id_field: str, references: Sequence[str]
    ) -> list[XeroInvoice]:
        wanted = [str(r) for r in references if str(r)]
        documents: list[XeroInvoice] = []
        for chunk in where_chunks("Reference", wanted):
            chunk_set = set(chunk)
            for item in self._get_all(
                resource, {"where": where_any("Reference", chunk), "summaryOnly": "true"}
            ):
                reference = str(item.get("Reference") or "")
                if reference not in chunk_set or not item.get(id_field):
                    continue
                contact = object_at(item, "Contact")
                documents.append(
                    XeroInvoice(
                        invoice_id=str(item[id_field]),
                        reference=reference,
                        status=str(item.get("Status") or ""),
                        total=_decimal(item.get("Total")) or Decimal("0"),
                        currency=str(item.get("CurrencyCode") or ""),
                        contact_id=str(contact.get("ContactID") or ""),
                    )
                )
        return documents

    def invoices_put(
        self, invoices: Sequence[dict[str, Any]], *, idempotency_key: str
    ) -> list[InvoiceResult]:
        """Create up to 50 invoices; one result per invoice, in the order given.

        A result with has_errors=True was not created (errors hold Xero's messages); the others
        were. Re-sending the same batch with the same key replays Xero's first answer.
        """
        return self._documents_put(
            "Invoices", "InvoiceID", invoices, idempotency_key=idempotency_key
        )

    def invoices_by_reference(self, references: Sequence[str]) -> list[XeroInvoice]:
        """Every invoice whose Reference is one of these (voided and deleted ones included)."""
        return self._documents_by_reference("Invoices", "InvoiceID", references)

    def credit_notes_put(
        self, credit_notes: Sequence[dict[str, Any]], *, idempotency_key: str
    ) -> list[InvoiceResult]:
        """Create up to 50 credit notes, as `invoices_put` does (invoice_id holds the CreditNoteID)."""
        return self._documents_put(
            "CreditNotes", "CreditNoteID", credit_notes, idempotency_key=idempotency_key
        )

    def credit_notes_by_reference(self, references: Sequence[str]) -> list[XeroInvoice]:
        """Every credit note whose Reference is one of these (invoice_id holds the CreditNoteID)."""
        return self._documents_by_reference("CreditNotes", "CreditNoteID", references)

    def credit_note_allocations(self, credit_note_id: str) -> list[str]:
        """The InvoiceIDs a credit note is already allocated to (the look-up before a re-send)."""
        response = self._call("GET", f"CreditNotes/{credit_note_id}")
        notes = response_json(PEER, response, object_only=True).get("CreditNotes") or []
        note = notes[0] if notes and isinstance(notes[0], dict) else {}
        return [
            str((allocation.get("Invoice") or {}).get("InvoiceID") or "")
            for allocation in note.get("Allocations") or []
            if isinstance(allocation, dict) and not allocation.get("IsDeleted")
        ]

    def credit_note_allocate(
        self, credit_note_id: str, allocation: dict[str, Any], *, idempotency_key: str
    ) -> tuple[str, ...]:
        """Allocate a credit note to an invoice; Xero's validation messages (empty: allocated)."""
        self._check_key(idempotency_key)
        response = self._call(
            "PUT",
            f"CreditNotes/{credit_note_id}/Allocations",
            params={"summarizeErrors": "false"},
            content=json.dumps({"Allocations": [allocation]}, separators=(",", ":")).encode(),
            idempotency_key=idempotency_key,
        )
        elements = response_json(PEER, response, object_only=True).get("Allocations") or [{}]
        element = elements[0] if isinstance(elements[0], dict) else {}
        return _element_errors(element)

    # --- contacts -----------------------------------------------------------------------------
    def contacts_by_number(self, numbers: Sequence[str]) -> dict[str, str]:
        """ContactNumber → ContactID for the numbers Xero knows (active contacts first)."""
        wanted = [str(n) for n in numbers if str(n)]
        found: dict[str, str] = {}
        for chunk in where_chunks("ContactNumber", wanted):
            chunk_set = set(chunk)
            items = self._get_all(
                "Contacts", {"where": where_any("ContactNumber", chunk), "summaryOnly": "true"}
            )
            # Archived ones only when no active contact has the number.
            items.sort(key=lambda c: str(c.get("ContactStatus") or "ACTIVE") != "ACTIVE")
            for item in items:
                number = str(item.get("ContactNumber") or "")
                if number in chunk_set and item.get("ContactID") and number not in found:
                    found[number] = str(item["ContactID"])
        return found

    def contacts_put(
        self, contacts: Sequence[dict[str, Any]], *, idempotency_key: str
    ) -> list[ContactResult]:
        """Create up to 50 contacts; one result per contact, in the order given."""
        elements = self._put_batch(
            "Contacts", contacts, idempotency_key=idempotency_key, unitdp=False
        )
        results = []
        for sent, element in zip(contacts, elements, strict=True):
            failed = self._failed(element)
            contact_id = str(element.get("ContactID") or "")
            results.append(
                ContactResult(
                    contact_number=str(
                        element.get("ContactNumber") or sent.get("ContactNumber") or ""
                    ),
                    contact_id=None if failed or contact_id in ("", ZERO_GUID) else contact_id,
                    errors=_element_errors(element)
                    or (("Xero marked the element as failed without a message",) if failed else ()),
                )
            )
        return results
