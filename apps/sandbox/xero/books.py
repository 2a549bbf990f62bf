"""The Xero stand-in's behaviour: tokens, limits, the where= filter, contacts, invoices, credit
notes and their allocations to invoices.

One demo organisation. Totals follow Xero's rules: LineAmount = Quantity × UnitAmount − discount,
rounded to 2 places; tax per line rounded to 2 places (half away from zero) and then summed;
Exclusive adds the tax, Inclusive takes it out of the line amount, NoTax has none; an explicit
TaxAmount on a line overrides the computed one. Unit amounts keep 4 places with unitdp=4, else 2.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.sandbox.xero.models import (
    Allocation,
    CallCount,
    Contact,
    CreditNote,
    IdempotentAnswer,
    InFlight,
    Invoice,
    IssuedToken,
    RateWindow,
)

DEMO_TENANT_ID = "b1c4f7a2-5d3e-4e8a-9f60-0a1b2c3d4e5f"
DEMO_TENANT_NAME = "O2C Demo Company (US)"
DEMO_CONNECTION_ID = "7cb59f93-2964-421d-bb5e-a0f7a4572a44"
DEMO_CONNECTED_AT = "2026-01-05T09:00:00.0000000"
CODE_SECONDS = 300
# A call still "in progress" after this long is a crashed worker's leftover, not a real call.
IN_FLIGHT_STALE_SECONDS = 120.0
CURRENCIES = frozenset({"USD", "CAD", "EUR", "GBP", "AUD", "NZD"})
# Codes of Xero's default chart that sales use (200 Sales, 260 Other Revenue, 860 Rounding…).
ACCOUNT_CODES = frozenset({"200", "201", "260", "270", "400", "4000", "4010", "4100", "860"})
# TaxType → percentage. An explicit TaxAmount overrides the computed tax (how a US sales tax made of
# several jurisdictions is posted against one TaxType).
TAX_RATES = {
    "NONE": Decimal("0"),
    "EXEMPTOUTPUT": Decimal("0"),
    "ZERORATEDOUTPUT": Decimal("0"),
    "TAX": Decimal("8.875"),
    "TAX001": Decimal("8.875"),
    "TAX002": Decimal("8.5"),  # New York state 4% + county 4.5%, as the demo shop charges
    "TAX003": Decimal("19"),  # German VAT (MwSt)
    "OUTPUT": Decimal("15"),
    "OUTPUT2": Decimal("20"),
}
CENT = Decimal("0.01")
CONTACT_SELECTOR_MESSAGE = (
    "The Contact must contain at least 1 of the following elements to identify the contact: "
    "Name, ContactID, ContactNumber"
)

DEFAULTS = {
    "MINUTE_LIMIT": 60,
    "MINUTE_WINDOW_SECONDS": 60.0,
    "DAY_LIMIT": 5000,
    "DAY_WINDOW_SECONDS": 86400.0,
    "CONCURRENT_LIMIT": 5,
    "APP_MINUTE_LIMIT": 10000,
    "ACCESS_TOKEN_SECONDS": 1800,
    "REFRESH_GRACE_SECONDS": 1800,
    "REFRESH_TOKEN_DAYS": 60,
    "VALIDATE_SCHEMA": True,
}


def sandbox_config() -> dict:
    return {**DEFAULTS, **getattr(settings, "SANDBOX_XERO", {})}


def locked(queryset):
    return queryset.select_for_update() if connection.features.has_select_for_update else queryset


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- the official schema ---------------------------------------------------------------------------
def contracts_dir() -> Path:
    return Path(settings.BASE_DIR).parent / "shared" / "contracts"


@cache
def _spec_or_none(path: str) -> dict | None:
    from integrations.xero.schema import spec_load

    try:
        return spec_load(path)
    except (ImportError, OSError):
        return None


def spec() -> dict | None:
    """The parsed official spec, or None (no contracts folder, PyYAML missing, or switched off)."""
    if not sandbox_config()["VALIDATE_SCHEMA"]:
        return None
    from integrations.xero.schema import spec_path

    path = spec_path(contracts_dir())
    return _spec_or_none(str(path)) if path.exists() else None


def schema_problems(schema_name: str, element: Any) -> list[str]:
    loaded = spec()
    if loaded is None:
        return []
    from integrations.xero.schema import schema_errors

    return schema_errors(loaded, schema_name, element, request=True)


# --- tokens ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Issued:
    access_token: str
    refresh_token: str
    expires_in: int
    scope: str


def _new(kind: str, *, grant: str, client_id: str, scope: str, lifetime: timedelta, **extra) -> str:
    value = secrets.token_urlsafe(32)
    IssuedToken.objects.create(
        digest=digest(value),
        kind=kind,
        grant=grant,
        client_id=client_id,
        scope=scope,
        expires_at=timezone.now() + lifetime,
        **extra,
    )
    return value


def code_issue(*, client_id: str, redirect_uri: str, scope: str) -> str:
    return _new(
        IssuedToken.Kind.CODE,
        grant=IssuedToken.Grant.OAUTH,
        client_id=client_id,
        scope=scope,
        lifetime=timedelta(seconds=CODE_SECONDS),
        redirect_uri=redirect_uri,
        auth_event_id=str(uuid.uuid4()),
    )


def tokens_issue(*, client_id: str, scope: str, grant: str, auth_event_id: str = "") -> Issued:
    config = sandbox_config()
    seconds = int(config["ACCESS_TOKEN_SECONDS"])
    access = _new(
        IssuedToken.Kind.ACCESS,
        grant=grant,
        client_id=client_id,
        scope=scope,
        lifetime=timedelta(seconds=seconds),
        auth_event_id=auth_event_id,
    )
    refresh = ""
    if grant == IssuedToken.Grant.OAUTH and "offline_access" in scope.split():
        refresh = _new(
            IssuedToken.Kind.REFRESH,
            grant=grant,
            client_id=client_id,
            scope=scope,
            lifetime=timedelta(days=int(config["REFRESH_TOKEN_DAYS"])),
            auth_event_id=auth_event_id,
        )
    return Issued(access, refresh, seconds, scope)


class GrantRefused(Exception):
    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.description = description


def code_redeem(*, code: str, client_id: str, redirect_uri: str) -> Issued:
    with transaction.atomic():
        row = locked(IssuedToken.objects.filter(digest=digest(code), kind="code")).first()
        if row is None or row.client_id != client_id:
            raise GrantRefused("invalid_grant", "unknown authorization code")
        if row.used_at is not None or row.expires_at <= timezone.now():
            raise GrantRefused("invalid_grant", "authorization code expired or already used")
        if row.redirect_uri != redirect_uri:
            raise GrantRefused("invalid_grant", "redirect_uri does not match the authorize request")
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
        return tokens_issue(
            client_id=client_id,
            scope=row.scope,
            grant=IssuedToken.Grant.OAUTH,
            auth_event_id=row.auth_event_id,
        )


def refresh_redeem(*, refresh_token: str, client_id: str) -> Issued:
    """Rotate: a new pair every time; the old refresh token works for the grace period only."""
    grace = timedelta(seconds=int(sandbox_config()["REFRESH_GRACE_SECONDS"]))
    now = timezone.now()
    with transaction.atomic():
        row = locked(IssuedToken.objects.filter(digest=digest(refresh_token), kind="refresh"))
        row = row.first()
        if row is None or row.client_id != client_id or row.revoked:
            raise GrantRefused("invalid_grant", "unknown or revoked refresh token")
        if row.expires_at <= now:
            raise GrantRefused("invalid_grant", "refresh token expired")
        if row.rotated_at is not None and now >= row.rotated_at + grace:
            raise GrantRefused("invalid_grant", "refresh token was rotated and its grace is over")
        if row.rotated_at is None:
            row.rotated_at = now
        row.used_at = now
        row.save(update_fields=["rotated_at", "used_at"])
        return tokens_issue(
            client_id=client_id,
            scope=row.scope,
            grant=IssuedToken.Grant.OAUTH,
            auth_event_id=row.auth_event_id,
        )


def access_check(token: str) -> IssuedToken | None:
    if not token:
        return None
    row = IssuedToken.objects.filter(digest=digest(token), kind="access", revoked=False).first()
    if row is None or row.expires_at <= timezone.now():
        return None
    return row


def connection_json() -> dict:
    return {
        "id": DEMO_CONNECTION_ID,
        "authEventId": DEMO_CONNECTION_ID,
        "tenantId": DEMO_TENANT_ID,
        "tenantType": "ORGANISATION",
        "tenantName": DEMO_TENANT_NAME,
        "createdDateUtc": DEMO_CONNECTED_AT,
        "updatedDateUtc": DEMO_CONNECTED_AT,
    }


# --- limits ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LimitAnswer:
    allowed: bool
    problem: str
    retry_after: int
    minute_remaining: int
    day_remaining: int
    app_remaining: int


def _window(row: RateWindow, seconds: float, now: float) -> None:
    if now - row.started_at >= seconds:
        row.started_at, row.calls = now, 0


def limits_take(*, tenant_id: str, take: bool = True) -> LimitAnswer:
    """Count one call in the tenant's day and minute windows and the app's minute, or refuse it.

    Fixed windows, as Xero counts them; the rows are locked so every process shares them.
    take=False only reads what remains (for the headers of a refused concurrent call).
    """
    config = sandbox_config()
    limits = {
        f"day:{tenant_id}": (int(config["DAY_LIMIT"]), float(config["DAY_WINDOW_SECONDS"]), "day"),
        f"min:{tenant_id}": (
            int(config["MINUTE_LIMIT"]),
            float(config["MINUTE_WINDOW_SECONDS"]),
            "minute",
        ),
        "app:min": (
            int(config["APP_MINUTE_LIMIT"]),
            float(config["MINUTE_WINDOW_SECONDS"]),
            "appminute",
        ),
    }
    with transaction.atomic():
        RateWindow.objects.bulk_create([RateWindow(key=k) for k in limits], ignore_conflicts=True)
        rows = {r.key: r for r in locked(RateWindow.objects.filter(key__in=limits).order_by("key"))}
        now = time.time()  # read after the lock: earlier holders' calls are in the past
        problem, retry_after = "", 0
        for key, (limit, seconds, name) in limits.items():
            row = rows[key]
            _window(row, seconds, now)
            if row.calls >= limit and not problem:
                problem = name
                retry_after = max(1, math.ceil(row.started_at + seconds - now))
        if take:
            for key, (_limit, _seconds, _name) in limits.items():
                row = rows[key]
                if problem:
                    row.throttled += 1 if key.startswith(problem[:3]) else 0
                else:
                    row.calls += 1
                row.save()
    left = {name: max(0, limit - rows[key].calls) for key, (limit, _s, name) in limits.items()}
    return LimitAnswer(
        allowed=not problem,
        problem=problem,
        retry_after=retry_after,
        minute_remaining=left["minute"],
        day_remaining=left["day"],
        app_remaining=left["appminute"],
    )


def in_flight_enter(*, tenant_id: str) -> int | None:
    """Register a call in progress; None when the concurrent limit is reached (row removed)."""
    now = time.time()
    row = InFlight.objects.create(tenant_id=tenant_id, started_at=now)
    InFlight.objects.filter(started_at__lt=now - IN_FLIGHT_STALE_SECONDS).delete()
    running = InFlight.objects.filter(tenant_id=tenant_id, id__lte=row.pk).count()
    if running > int(sandbox_config()["CONCURRENT_LIMIT"]):
        row.delete()
        return None
    return row.pk


def in_flight_leave(pk: int) -> None:
    InFlight.objects.filter(pk=pk).delete()


def call_count(kind: str, *, throttled: bool = False) -> None:
    CallCount.objects.bulk_create([CallCount(kind=kind)], ignore_conflicts=True)
    field = "throttled" if throttled else "calls"
    CallCount.objects.filter(kind=kind).update(**{field: F(field) + 1})


def calls_by_kind() -> dict[str, int]:
    """Accepted calls per kind ("PUT Invoices", "GET Contacts", "token", "connections"…)."""
    return {row.kind: row.calls for row in CallCount.objects.all()}


def stats() -> dict:
    """What a bench reports: accepted and throttled calls per kind, and what the books hold."""
    rows = list(CallCount.objects.order_by("kind"))
    return {
        "calls": {row.kind: row.calls for row in rows},
        "throttled": {row.kind: row.throttled for row in rows if row.throttled},
        "invoices": Invoice.objects.count(),
        "credit_notes": CreditNote.objects.count(),
        "allocations": Allocation.objects.count(),
        "contacts": Contact.objects.count(),
        "idempotent_replays": sum(IdempotentAnswer.objects.values_list("replays", flat=True)),
    }


def calls_reset() -> None:
    CallCount.objects.all().delete()
    RateWindow.objects.all().delete()
    InFlight.objects.all().delete()


# --- idempotency -----------------------------------------------------------------------------------
def idempotent_begin(*, tenant_id: str, key: str, request_line: str) -> IdempotentAnswer | None:
    """None when this key is new (the caller runs the request); else the stored row."""
    try:
        with transaction.atomic():
            IdempotentAnswer.objects.create(tenant_id=tenant_id, key=key, request_line=request_line)
        return None
    except IntegrityError:
        row = IdempotentAnswer.objects.get(tenant_id=tenant_id, key=key)
        if row.status:
            IdempotentAnswer.objects.filter(pk=row.pk).update(replays=F("replays") + 1)
        return row


def idempotent_finish(*, tenant_id: str, key: str, status: int, body: str) -> None:
    IdempotentAnswer.objects.filter(tenant_id=tenant_id, key=key).update(status=status, body=body)


def idempotent_abandon(*, tenant_id: str, key: str) -> None:
    IdempotentAnswer.objects.filter(tenant_id=tenant_id, key=key, status=0).delete()


# --- where= ----------------------------------------------------------------------------------------
_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>==|!=|&&|\|\||\(|\))|(?P<word>[A-Za-z_][\w.]*))'
)
_METHODS = {"contains", "startswith", "endswith"}


class QueryError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise QueryError(f"cannot parse where at position {pos}: {text[pos : pos + 20]!r}")
        pos = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
    return tokens


class _Parser:
    """expr := and (OR and)* ; and := atom (AND atom)* ; atom := ( expr ) | field op value
    | field.Contains|StartsWith|EndsWith("text"). Values: "text", null, true, false, GUID("…")."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str | None = None, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (kind and token[0] != kind) or (value and token[1] != value):
            raise QueryError(f"where: expected {value or kind} at token {self.pos}")
        self.pos += 1
        return token

    def parse(self):
        node = self.expr()
        if self.peek() is not None:
            raise QueryError(f"where: unexpected {self.peek()[1]!r}")
        return node

    def _is(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and (
            token[1] in words or (token[0] == "word" and token[1].upper() in words)
        )

    def expr(self):
        nodes = [self.conj()]
        while self._is("OR", "||"):
            self.pos += 1
            nodes.append(self.conj())
        return ("or", nodes)

    def conj(self):
        nodes = [self.atom()]
        while self._is("AND", "&&"):
            self.pos += 1
            nodes.append(self.atom())
        return ("and", nodes)

    def value(self):
        kind, text = self.take()
        if kind == "str":
            return text
        if kind == "word" and text.lower() in {"null", "true", "false"}:
            return {"null": None, "true": True, "false": False}[text.lower()]
        if kind == "word" and text.upper() == "GUID":
            self.take("op", "(")
            guid = self.take("str")[1]
            self.take("op", ")")
            return guid.lower()
        raise QueryError(f"where: unsupported value {text!r}")

    def atom(self):
        if self._is("("):
            self.pos += 1
            node = self.expr()
            self.take("op", ")")
            return node
        field = self.take("word")[1]
        head, _, method = field.rpartition(".")
        if head and method.lower() in _METHODS:
            self.take("op", "(")
            text = self.take("str")[1]
            self.take("op", ")")
            return ("method", head, method.lower(), text)
        token = self.peek()
        if token is None or token[1] not in {"==", "!="}:
            raise QueryError(f"where: expected == or != after {field}")
        self.pos += 1
        return ("cmp", field, token[1], self.value())


def where_compile(text: str):
    """A predicate over flattened records ({"Reference": …, "Contact.ContactID": …})."""
    tree = _Parser(text).parse()

    def lookup(record: dict, field: str):
        wanted = field.lower()
        for key, value in record.items():
            if key.lower() == wanted:
                return value
        raise QueryError(f"where: unknown field {field}")

    def evaluate(node, record) -> bool:
        kind = node[0]
        if kind == "or":
            return any(evaluate(n, record) for n in node[1])
        if kind == "and":
            return all(evaluate(n, record) for n in node[1])
        if kind == "method":
            value = lookup(record, node[1])
            if value is None:
                raise QueryError(f"where: {node[1]} is null (test {node[1]}!=null first)")
            text = str(value)
            return {
                "contains": node[3] in text,
                "startswith": text.startswith(node[3]),
                "endswith": text.endswith(node[3]),
            }[node[2]]
        value = lookup(record, node[1])
        if isinstance(value, str) and value == "":
            value = None if node[3] is None else value
        if (
            isinstance(node[3], str)
            and isinstance(value, str)
            and re.fullmatch(r"[0-9a-f-]{36}", node[3])
        ):
            value = value.lower()
        equal = value == node[3]
        return equal if node[2] == "==" else not equal

    return lambda record: evaluate(tree, record)


# --- serialisation ---------------------------------------------------------------------------------
def ms_date(moment: date | datetime) -> str:
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def money(value: Decimal) -> float:
    return float(value.quantize(CENT))


def contact_json(contact: Contact, *, summary: bool = False) -> dict:
    body = {
        "ContactID": contact.contact_id,
        "ContactNumber": contact.contact_number or None,
        "ContactStatus": contact.status,
        "Name": contact.name,
        "FirstName": contact.first_name or None,
        "LastName": contact.last_name or None,
        "EmailAddress": contact.email or None,
        "IsCustomer": True,
        "UpdatedDateUTC": ms_date(contact.updated_at),
    }
    if not summary:
        body.update({"Addresses": [], "Phones": [], "ContactGroups": [], "HasAttachments": False})
    return {k: v for k, v in body.items() if v is not None}


def contact_record(contact: Contact) -> dict:
    return {
        "ContactID": contact.contact_id,
        "ContactNumber": contact.contact_number,
        "Name": contact.name,
        "EmailAddress": contact.email,
        "FirstName": contact.first_name,
        "LastName": contact.last_name,
        "ContactStatus": contact.status,
    }


def invoice_json(invoice: Invoice, *, summary: bool = False) -> dict:
    credited = sum((a.amount for a in invoice.allocations.all()), Decimal("0"))
    body = {
        "Type": invoice.type,
        "InvoiceID": invoice.invoice_id,
        "InvoiceNumber": invoice.invoice_number,
        "Reference": invoice.reference,
        "Contact": {
            "ContactID": invoice.contact.contact_id,
            "ContactNumber": invoice.contact.contact_number or None,
            "Name": invoice.contact.name,
        },
        "Date": ms_date(invoice.date),
        "DateString": f"{invoice.date.isoformat()}T00:00:00",
        "DueDate": ms_date(invoice.due_date) if invoice.due_date else None,
        "DueDateString": f"{invoice.due_date.isoformat()}T00:00:00" if invoice.due_date else None,
        "Status": invoice.status,
        "LineAmountTypes": invoice.line_amount_types,
        "SubTotal": money(invoice.sub_total),
        "TotalTax": money(invoice.total_tax),
        "Total": money(invoice.total),
        "AmountDue": money(invoice.total - credited),
        "AmountPaid": 0.0,
        "AmountCredited": money(credited),
        "CurrencyCode": invoice.currency,
        "CurrencyRate": 1.0,
        "UpdatedDateUTC": ms_date(invoice.updated_at),
        "HasAttachments": False,
        "HasErrors": False,
    }
    body["Contact"] = {k: v for k, v in body["Contact"].items() if v is not None}
    if not summary:
        body["LineItems"] = invoice.line_items
    return {k: v for k, v in body.items() if v is not None}


def invoice_record(invoice: Invoice) -> dict:
    return {
        "InvoiceID": invoice.invoice_id,
        "InvoiceNumber": invoice.invoice_number,
        "Reference": invoice.reference,
        "Status": invoice.status,
        "Type": invoice.type,
        "CurrencyCode": invoice.currency,
        "Contact.ContactID": invoice.contact.contact_id,
        "Contact.ContactNumber": invoice.contact.contact_number,
        "Contact.Name": invoice.contact.name,
        "Total": str(invoice.total),
    }


# --- contacts --------------------------------------------------------------------------------------
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def contact_create(*, tenant_id: str, element: dict) -> tuple[dict, bool]:
    """(answer element, created). Errors go in the element's ValidationErrors."""
    errors: list[str] = []
    if element.get("ContactID"):
        errors.append("The stand-in only creates contacts: send no ContactID (updates: POST)")
    name = str(element.get("Name") or "").strip()
    number = str(element.get("ContactNumber") or "").strip()
    email = str(element.get("EmailAddress") or "").strip()
    if not name:
        errors.append("The contact name must be specified.")
    elif Contact.objects.filter(tenant_id=tenant_id, name__iexact=name, status="ACTIVE").exists():
        errors.append(
            f"The contact name {name} is already assigned to another contact. "
            "The contact name must be unique across all active contacts."
        )
    if len(number) > 50:
        errors.append("The ContactNumber must not be more than 50 characters long.")
    if email and not _EMAIL.match(email):
        errors.append("Email address must be valid.")
    if errors:
        return _refused(element, errors), False
    contact = Contact.objects.create(
        tenant_id=tenant_id,
        contact_id=str(uuid.uuid4()),
        contact_number=number,
        name=name,
        email=email,
        first_name=str(element.get("FirstName") or "")[:255],
        last_name=str(element.get("LastName") or "")[:255],
    )
    return {
        **contact_json(contact),
        "StatusAttributeString": "OK",
        "HasValidationErrors": False,
    }, True


def _refused(element: dict, errors: list[str]) -> dict:
    return {
        **element,
        "HasErrors": True,
        "HasValidationErrors": True,
        "StatusAttributeString": "ERROR",
        "ValidationErrors": [{"Message": message} for message in dict.fromkeys(errors)],
    }


# --- invoices --------------------------------------------------------------------------------------
def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _half_up(value: Decimal, places: int = 2) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _parse_date(value: Any) -> date | None:
    text = str(value or "")
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(T[\d:.]+)?", text)
    if match:
        try:
            return date.fromisoformat(match.group(1))
        except ValueError:
            return None
    match = re.fullmatch(r"/Date\((\d+)([+-]\d{4})?\)/", text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC).date()
    return None


def _contact_for(tenant_id: str, selector: Any, errors: list[str]) -> Contact | None:
    if not isinstance(selector, dict):
        errors.append("A Contact must be specified for this type of transaction")
        return None
    contacts = Contact.objects.filter(tenant_id=tenant_id)
    if selector.get("ContactID"):
        found = contacts.filter(contact_id=str(selector["ContactID"]).lower()).first()
        if found is None:
            errors.append(f"The contact with ContactID {selector['ContactID']} could not be found")
        return found
    if selector.get("ContactNumber"):
        found = contacts.filter(contact_number=str(selector["ContactNumber"])).first()
        if found is None:
            errors.append(
                f"The contact with ContactNumber {selector['ContactNumber']} was not found"
            )
        return found
    if selector.get("Name"):
        name = str(selector["Name"]).strip()
        found = contacts.filter(name__iexact=name, status="ACTIVE").first()
        # Xero creates a contact it cannot find by name.
        return found or Contact.objects.create(
            tenant_id=tenant_id, contact_id=str(uuid.uuid4()), name=name
        )
    errors.append(CONTACT_SELECTOR_MESSAGE)
    return None


@dataclass
class _Lines:
    items: list[dict]
    sub_total: Decimal
    total_tax: Decimal


def _lines(raw: Any, *, amounts: str, unit_places: int, status: str, errors: list[str]) -> _Lines:
    items: list[dict] = []
    sub_total = total_tax = Decimal("0")
    if not isinstance(raw, list) or not raw:
        errors.append("Invoices must have at least one line item")
        return _Lines(items, sub_total, total_tax)
    for index, line in enumerate(raw, start=1):
        if not isinstance(line, dict):
            errors.append(f"Line item {index} is not an object")
            continue
        description = str(line.get("Description") or "").strip()
        if not description:
            errors.append("The description field is mandatory for each line item.")
        quantity = _decimal(line.get("Quantity"))
        unit = _decimal(line.get("UnitAmount"))
        quantity = _half_up(quantity if quantity is not None else Decimal("1"), 4)
        unit = _half_up(unit if unit is not None else Decimal("0"), unit_places)
        discount = _decimal(line.get("DiscountAmount"))
        rate = _decimal(line.get("DiscountRate"))
        gross = quantity * unit
        if discount is not None and rate is not None:
            errors.append(f"Line item {index}: give DiscountRate or DiscountAmount, not both")
        if rate is not None:
            line_amount = _half_up(gross * (Decimal(100) - rate) / Decimal(100))
        else:
            line_amount = _half_up(gross - (discount or Decimal("0")))
        if discount is not None and (discount < 0 or discount > _half_up(abs(gross))):
            errors.append(f"Line item {index}: DiscountAmount must be between 0 and the line total")
        given_amount = _decimal(line.get("LineAmount"))
        if given_amount is not None and _half_up(given_amount) != line_amount:
            errors.append(
                f"Line item {index}: the LineAmount {given_amount} does not match Quantity × "
                f"UnitAmount less discount ({line_amount})"
            )
        account = str(line.get("AccountCode") or "").strip()
        if account and account not in ACCOUNT_CODES:
            errors.append(f"Account code '{account}' is not a valid code for this document.")
        if not account and status in {"SUBMITTED", "AUTHORISED"}:
            errors.append(
                f"Line item {index}: an AccountCode is required before the invoice is approved"
            )
        tax_type = str(line.get("TaxType") or "").strip() or "NONE"
        tax_rates = {**TAX_RATES, **getattr(settings, "SANDBOX_XERO", {}).get("TAX_RATES", {})}
        if amounts == "NoTax":
            tax_rate, tax = Decimal("0"), Decimal("0")
        elif tax_type not in tax_rates:
            errors.append(
                f"The TaxType code '{tax_type}' does not exist or cannot be used for this type "
                "of transaction."
            )
            tax_rate, tax = Decimal("0"), Decimal("0")
        else:
            tax_rate = Decimal(str(tax_rates[tax_type]))
            explicit = _decimal(line.get("TaxAmount"))
            if explicit is not None:
                tax = _half_up(explicit)
            elif amounts == "Inclusive":
                tax = _half_up(line_amount * tax_rate / (Decimal(100) + tax_rate))
            else:
                tax = _half_up(line_amount * tax_rate / Decimal(100))
        sub_total += line_amount - tax if amounts == "Inclusive" else line_amount
        total_tax += tax
        item = {
            "LineItemID": str(uuid.uuid4()),
            "Description": description,
            "Quantity": float(quantity),
            "UnitAmount": float(unit),
            "TaxType": tax_type,
            "TaxAmount": money(tax),
            "LineAmount": money(line_amount),
            "Tracking": [],
        }
        for key in ("ItemCode", "AccountCode"):
            if line.get(key):
                item[key] = str(line[key])
        if discount is not None:
            item["DiscountAmount"] = money(discount)
        if rate is not None:
            item["DiscountRate"] = float(rate)
        items.append(item)
    return _Lines(items, sub_total, total_tax)


def invoice_create(*, tenant_id: str, element: Any, unit_places: int) -> tuple[dict, bool]:
    """(answer element, created): Xero's per-element validation, then totals and the row."""
    if not isinstance(element, dict):
        return _refused({}, ["An invoice must be an object"]), False
    errors: list[str] = []
    kind = str(element.get("Type") or "")
    if kind not in {"ACCREC", "ACCPAY"}:
        errors.append("Invoice Type must be specified (ACCREC or ACCPAY)")
    if element.get("InvoiceID"):
        errors.append("The stand-in only creates invoices: send no InvoiceID")
    status = str(element.get("Status") or "DRAFT")
    if status not in {"DRAFT", "SUBMITTED", "AUTHORISED"}:
        errors.append(f"Invoice status {status} cannot be set when creating an invoice")
    amounts = str(element.get("LineAmountTypes") or "Exclusive")
    if amounts not in {"Exclusive", "Inclusive", "NoTax"}:
        errors.append(f"LineAmountTypes {amounts} is not Exclusive, Inclusive or NoTax")
    currency = str(element.get("CurrencyCode") or "USD")
    if currency not in CURRENCIES:
        errors.append(f"Organisation is not subscribed to currency {currency}")
    issued = _parse_date(element.get("Date")) if element.get("Date") else timezone.now().date()
    if issued is None:
        errors.append("Date is not a valid date")
    due = _parse_date(element.get("DueDate")) if element.get("DueDate") else None
    if element.get("DueDate") and due is None:
        errors.append("DueDate is not a valid date")
    if due is None and status == "AUTHORISED" and element.get("DueDate") is None:
        errors.append("Due Date is mandatory for AUTHORISED invoices")
    number = str(element.get("InvoiceNumber") or "").strip()
    if number and Invoice.objects.filter(tenant_id=tenant_id, invoice_number=number).exists():
        errors.append("Invoice # must be unique.")
    lines = _lines(
        element.get("LineItems"),
        amounts=amounts,
        unit_places=unit_places,
        status=status,
        errors=errors,
    )
    with transaction.atomic():
        contact = _contact_for(tenant_id, element.get("Contact"), errors)
        if errors:
            transaction.set_rollback(True)
            return _refused(element, errors), False
        invoice = Invoice.objects.create(
            tenant_id=tenant_id,
            invoice_id=str(uuid.uuid4()),
            invoice_number=number or "",
            reference=str(element.get("Reference") or "")[:255],
            contact=contact,
            type=kind,
            status=status,
            date=issued,
            due_date=due,
            currency=currency,
            line_amount_types=amounts,
            sub_total=lines.sub_total,
            total_tax=lines.total_tax,
            total=lines.sub_total + lines.total_tax,
            line_items=lines.items,
        )
        if not number:
            invoice.invoice_number = f"INV-{invoice.pk:05d}"
            invoice.save(update_fields=["invoice_number"])
    answer = invoice_json(invoice)
    answer.update({"StatusAttributeString": "OK", "ValidationErrors": []})
    return answer, True


# --- credit notes and allocations ------------------------------------------------------------------
def credit_note_json(note: CreditNote, *, summary: bool = False) -> dict:
    allocations = list(note.allocations.all())
    allocated = sum((a.amount for a in allocations), Decimal("0"))
    body = {
        "Type": note.type,
        "CreditNoteID": note.credit_note_id,
        "CreditNoteNumber": note.credit_note_number,
        "Reference": note.reference,
        "Contact": {
            "ContactID": note.contact.contact_id,
            "ContactNumber": note.contact.contact_number or None,
            "Name": note.contact.name,
        },
        "Date": ms_date(note.date),
        "DateString": f"{note.date.isoformat()}T00:00:00",
        "Status": note.status,
        "LineAmountTypes": note.line_amount_types,
        "SubTotal": money(note.sub_total),
        "TotalTax": money(note.total_tax),
        "Total": money(note.total),
        "RemainingCredit": money(note.total - allocated),
        "CurrencyCode": note.currency,
        "CurrencyRate": 1.0,
        "UpdatedDateUTC": ms_date(note.updated_at),
        "HasAttachments": False,
        "HasErrors": False,
        "Allocations": [
            {
                "AllocationID": a.allocation_id,
                "Amount": money(a.amount),
                "Date": ms_date(a.date),
                "Invoice": {
                    "InvoiceID": a.invoice.invoice_id,
                    "InvoiceNumber": a.invoice.invoice_number,
                },
            }
            for a in allocations
        ],
    }
    body["Contact"] = {k: v for k, v in body["Contact"].items() if v is not None}
    if not summary:
        body["LineItems"] = note.line_items
    return body


def credit_note_record(note: CreditNote) -> dict:
    return {
        "CreditNoteID": note.credit_note_id,
        "CreditNoteNumber": note.credit_note_number,
        "Reference": note.reference,
        "Status": note.status,
        "Type": note.type,
        "CurrencyCode": note.currency,
        "Contact.ContactID": note.contact.contact_id,
        "Contact.ContactNumber": note.contact.contact_number,
        "Total": str(note.total),
    }


def credit_note_create(*, tenant_id: str, element: Any, unit_places: int) -> tuple[dict, bool]:
    """(answer element, created): Xero's per-element validation, then totals and the row."""
    if not isinstance(element, dict):
        return _refused({}, ["A credit note must be an object"]), False
    errors: list[str] = []
    kind = str(element.get("Type") or "")
    if kind not in {"ACCRECCREDIT", "ACCPAYCREDIT"}:
        errors.append("Credit note Type must be specified (ACCRECCREDIT or ACCPAYCREDIT)")
    if element.get("CreditNoteID"):
        errors.append("The stand-in only creates credit notes: send no CreditNoteID")
    status = str(element.get("Status") or "DRAFT")
    if status not in {"DRAFT", "SUBMITTED", "AUTHORISED"}:
        errors.append(f"Credit note status {status} cannot be set when creating a credit note")
    amounts = str(element.get("LineAmountTypes") or "Exclusive")
    if amounts not in {"Exclusive", "Inclusive", "NoTax"}:
        errors.append(f"LineAmountTypes {amounts} is not Exclusive, Inclusive or NoTax")
    currency = str(element.get("CurrencyCode") or "USD")
    if currency not in CURRENCIES:
        errors.append(f"Organisation is not subscribed to currency {currency}")
    issued = _parse_date(element.get("Date")) if element.get("Date") else timezone.now().date()
    if issued is None:
        errors.append("Date is not a valid date")
    number = str(element.get("CreditNoteNumber") or "").strip()
    if (
        number
        and CreditNote.objects.filter(tenant_id=tenant_id, credit_note_number=number).exists()
    ):
        errors.append("Credit Note # must be unique.")
    lines = _lines(
        element.get("LineItems"),
        amounts=amounts,
        unit_places=unit_places,
        status=status,
        errors=errors,
    )
    with transaction.atomic():
        contact = _contact_for(tenant_id, element.get("Contact"), errors)
        if errors:
            transaction.set_rollback(True)
            return _refused(element, errors), False
        note = CreditNote.objects.create(
            tenant_id=tenant_id,
            credit_note_id=str(uuid.uuid4()),
            credit_note_number=number or "",
            reference=str(element.get("Reference") or "")[:255],
            contact=contact,
            type=kind,
            status=status,
            date=issued,
            currency=currency,
            line_amount_types=amounts,
            sub_total=lines.sub_total,
            total_tax=lines.total_tax,
            total=lines.sub_total + lines.total_tax,
            line_items=lines.items,
        )
        if not number:
            note.credit_note_number = f"CN-{note.pk:05d}"
            note.save(update_fields=["credit_note_number"])
    answer = credit_note_json(note)
    answer.update({"StatusAttributeString": "OK", "ValidationErrors": []})
    return answer, True


def allocation_create(
    *, tenant_id: str, credit_note: CreditNote, element: Any
) -> tuple[dict, bool]:
    """Apply part of a credit note to an invoice, with Xero's checks (same contact and currency,
    both AUTHORISED, no more than the credit left or the invoice's amount due)."""
    if not isinstance(element, dict):
        return _refused({}, ["An allocation must be an object"]), False
    errors: list[str] = []
    amount = _decimal(element.get("Amount"))
    if amount is None or amount <= 0:
        errors.append("Allocation Amount must be greater than zero")
    allocated_on = _parse_date(element.get("Date"))
    if allocated_on is None:
        errors.append("Allocation Date is not a valid date")
    selector = element.get("Invoice") if isinstance(element.get("Invoice"), dict) else {}
    with transaction.atomic():
        invoice = (
            locked(Invoice.objects.filter(tenant_id=tenant_id))
            .filter(invoice_id=str(selector.get("InvoiceID") or "").lower())
            .first()
        )
        note = locked(CreditNote.objects.filter(pk=credit_note.pk)).get()
        if invoice is None:
            errors.append("Invoice could not be found")
        else:
            if invoice.contact_id != note.contact_id:
                errors.append("The credit note and the invoice must belong to the same contact")
            if invoice.currency != note.currency:
                errors.append("The credit note and the invoice must be in the same currency")
            if note.status != "AUTHORISED" or invoice.status != "AUTHORISED":
                errors.append(
                    "Only AUTHORISED credit notes can be allocated to AUTHORISED invoices"
                )
            if amount is not None:
                remaining = note.total - sum((a.amount for a in note.allocations.all()), Decimal(0))
                due = invoice.total - sum((a.amount for a in invoice.allocations.all()), Decimal(0))
                if amount > remaining:
                    errors.append(f"The amount exceeds the credit left on the note ({remaining})")
                if amount > due:
                    errors.append(f"The amount exceeds the amount due on the invoice ({due})")
        if errors:
            return _refused(element, errors), False
        row = Allocation.objects.create(
            allocation_id=str(uuid.uuid4()),
            credit_note=note,
            invoice=invoice,
            amount=_half_up(amount),
            date=allocated_on,
        )
    return {
        "AllocationID": row.allocation_id,
        "Amount": money(row.amount),
        "Date": ms_date(row.date),
        "Invoice": {"InvoiceID": invoice.invoice_id},
        "CreditNote": {"CreditNoteID": note.credit_note_id},
        "StatusAttributeString": "OK",
        "ValidationErrors": [],
    }, True
