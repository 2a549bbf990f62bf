"""Classification and request shapes of the Xero client and OAuth helpers, on MockTransport."""

import base64
import json
from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest

from integrations.http import PeerError
from integrations.xero.client import (
    MAX_PER_BATCH,
    XeroClient,
    XeroRateLimited,
    XeroUnauthorized,
    contact_body,
    invoice_body,
    where_any,
    where_chunks,
    xero_rate_info,
)
from integrations.xero.oauth import authorize_url, token_refresh

CONTACT = "5cc8cf28-567e-4d43-b287-687cfcaec47c"
LIMITS = {
    "X-MinLimit-Remaining": "41",
    "X-DayLimit-Remaining": "17",
    "X-AppMinLimit-Remaining": "9990",
}


def client(handler, *, tenant_id="tenant-1") -> XeroClient:
    return XeroClient(
        api_url="https://api.xero.test/api.xro/2.0",
        access_token="tok",
        tenant_id=tenant_id,
        transport=httpx.MockTransport(handler),
    )


def invoice(reference="SHP-1", **overrides):
    args = dict(
        reference=reference,
        contact_id=CONTACT,
        date="2026-03-01",
        due_date="2026-03-31",
        currency="USD",
        line_amount_types="Exclusive",
        status="DRAFT",
        lines=[{"Description": "Tee", "Quantity": 1, "UnitAmount": "10.00", "AccountCode": "200"}],
    )
    return invoice_body(**{**args, **overrides})


def test_rate_info_takes_the_smaller_of_minute_and_day():
    response = httpx.Response(200, headers={**LIMITS, "Retry-After": "7"})
    info = xero_rate_info(response)
    assert info.remaining == 17
    assert info.retry_after == 7.0
    assert xero_rate_info(httpx.Response(200)).remaining is None


@pytest.mark.parametrize("problem", ["minute", "day", "concurrent"])
def test_429_names_the_problem(problem):
    def handler(request):
        return httpx.Response(
            429,
            headers={**LIMITS, "X-Rate-Limit-Problem": problem, "Retry-After": "30"},
            json={"Title": "Too Many Requests"},
        )

    with pytest.raises(XeroRateLimited) as limited:
        client(handler).contacts_by_number(["1"])
    assert limited.value.problem == problem
    assert problem in str(limited.value)
    assert limited.value.retryable
    assert limited.value.retry_after == 30.0
    assert limited.value.remaining == 17


def test_401_is_retryable_after_refresh_and_400_is_not():
    responses = iter(
        [
            httpx.Response(401, json={"Title": "Unauthorized", "Detail": "TokenExpired"}),
            httpx.Response(
                400,
                json={
                    "ErrorNumber": 10,
                    "Type": "ValidationException",
                    "Message": "A validation exception occurred",
                    "Elements": [{"ValidationErrors": [{"Message": "Reference is bad"}]}],
                },
            ),
            httpx.Response(503, text="busy"),
        ]
    )
    xero = client(lambda request: next(responses))
    with pytest.raises(XeroUnauthorized) as unauthorized:
        xero.invoices_by_reference(["a"])
    assert unauthorized.value.retryable
    with pytest.raises(PeerError) as invalid:
        xero.invoices_put([invoice()], idempotency_key="k")
    assert not invalid.value.retryable
    assert "Reference is bad" in invalid.value.message
    with pytest.raises(PeerError) as busy:
        xero.invoices_by_reference(["a"])
    assert busy.value.retryable
    assert busy.value.status_code == 503


def test_invoices_put_request_and_alignment():
    seen = {}

    def handler(request):
        seen["request"] = request
        sent = json.loads(request.content)["Invoices"]
        elements = [
            {
                "InvoiceID": "11111111-1111-1111-1111-111111111111",
                "Reference": sent[0]["Reference"],
                "Status": "DRAFT",
                "Total": 10.89,
                "StatusAttributeString": "OK",
            },
            {
                **sent[1],
                "HasErrors": True,
                "StatusAttributeString": "ERROR",
                "ValidationErrors": [{"Message": "Account code '999' is not valid"}],
            },
            # No Reference echoed, an error given only as Description: still aligned by position.
            {"StatusAttributeString": "ERROR", "ValidationErrors": [{"Description": "Nope"}]},
        ]
        return httpx.Response(200, headers=LIMITS, json={"Invoices": elements})

    xero = client(handler)
    results = xero.invoices_put(
        [invoice("A"), invoice("B"), invoice("C")], idempotency_key="batch-1"
    )
    request = seen["request"]
    assert request.method == "PUT"
    assert request.url.path.endswith("/Invoices")
    assert parse_qs(request.url.query.decode()) == {"summarizeErrors": ["false"], "unitdp": ["4"]}
    assert request.headers["Idempotency-Key"] == "batch-1"
    assert request.headers["xero-tenant-id"] == "tenant-1"
    assert request.headers["Accept"] == "application/json"
    assert [r.reference for r in results] == ["A", "B", "C"]
    assert results[0].invoice_id
    assert results[0].total == Decimal("10.89")
    assert not results[0].has_errors
    assert results[1].has_errors
    assert results[1].invoice_id is None
    assert results[1].errors == ("Account code '999' is not valid",)
    assert results[2].has_errors
    assert results[2].errors == ("Nope",)
    assert xero.last_limits.day_remaining == 17


def test_a_short_answer_is_not_guessed_at():
    xero = client(lambda request: httpx.Response(200, json={"Invoices": []}))
    with pytest.raises(PeerError) as short:
        xero.invoices_put([invoice()], idempotency_key="k")
    assert not short.value.retryable
    assert "look up by reference" in short.value.message


def test_batch_and_key_limits_are_checked_before_sending():
    xero = client(lambda request: pytest.fail("nothing may be sent"))
    with pytest.raises(ValueError, match="at most 50"):
        xero.invoices_put([invoice(str(i)) for i in range(MAX_PER_BATCH + 1)], idempotency_key="k")
    with pytest.raises(ValueError, match="128"):
        xero.invoices_put([invoice()], idempotency_key="k" * 129)
    with pytest.raises(ValueError, match="no Invoices"):
        xero.invoices_put([], idempotency_key="k")


def test_no_tenant_header_for_a_custom_connection():
    seen = {}

    def handler(request):
        seen["headers"] = request.headers
        return httpx.Response(200, json={"Contacts": []})

    client(handler, tenant_id=None).contacts_by_number(["1"])
    assert "xero-tenant-id" not in seen["headers"]
    assert seen["headers"]["Authorization"] == "Bearer tok"


def test_where_quotes_escapes_and_chunks():
    assert where_any("Reference", ['a"b', "c\\d"]) == 'Reference=="a\\"b" OR Reference=="c\\\\d"'
    chunks = where_chunks("Reference", [f"SHP-{i:06d}" for i in range(100)] + ["SHP-000001"])
    assert sum(len(c) for c in chunks) == 100  # duplicates dropped
    assert all(len(where_any("Reference", c)) <= 3100 for c in chunks)
    assert [len(c) for c in chunks] == [50, 50]  # a batch of 50 is one lookup
    long = where_chunks("Reference", [f"{'R' * 200}-{i}" for i in range(50)])
    assert len(long) > 1  # long values still split to keep the URL bounded


def test_by_reference_pages_and_filters_exact_matches():
    pages = []

    def handler(request):
        query = parse_qs(request.url.query.decode())
        pages.append(int(query["page"][0]))
        assert query["where"] == ['Reference=="R1" OR Reference=="R2"']
        if query["page"] == ["1"]:
            items = [
                {"InvoiceID": f"id-{i}", "Reference": "R1", "Total": 1, "Status": "VOIDED"}
                for i in range(100)
            ]
        else:
            items = [
                {
                    "InvoiceID": "id-x",
                    "Reference": "R2",
                    "Total": 12.5,
                    "Status": "DRAFT",
                    "CurrencyCode": "USD",
                    "Contact": {"ContactID": CONTACT},
                },
                {"InvoiceID": "id-y", "Reference": "r2", "Total": 1},
            ]
        return httpx.Response(200, json={"Invoices": items})

    found = client(handler).invoices_by_reference(["R1", "R2"])
    assert pages == [1, 2]
    assert len(found) == 101
    last = found[-1]
    assert (last.reference, last.total, last.currency, last.contact_id) == (
        "R2",
        Decimal("12.5"),
        "USD",
        CONTACT,
    )


def test_token_refresh_sends_basic_auth_and_invalid_grant_is_permanent():
    seen = {}

    def handler(request):
        seen["request"] = request
        return httpx.Response(400, json={"error": "invalid_grant"})

    with pytest.raises(PeerError) as refused:
        token_refresh(
            identity_url="https://identity.xero.test",
            client_id="cid",
            client_secret="sec",
            refresh_token="old",
            transport=httpx.MockTransport(handler),
        )
    request = seen["request"]
    assert str(request.url) == "https://identity.xero.test/connect/token"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"cid:sec").decode()
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["old"],
    }
    assert not refused.value.retryable
    assert "re-authorised" in refused.value.message


def test_token_endpoint_5xx_is_retryable():
    with pytest.raises(PeerError) as down:
        token_refresh(
            identity_url="https://identity.xero.test",
            client_id="cid",
            client_secret="sec",
            refresh_token="old",
            transport=httpx.MockTransport(lambda request: httpx.Response(502)),
        )
    assert down.value.retryable


def test_authorize_url_has_the_oauth_parameters():
    url = authorize_url(
        authorize_url="https://login.xero.com/identity/connect/authorize",
        client_id="cid",
        redirect_uri="https://portal/cb",
        state="xyz",
        scopes="offline_access  accounting.invoices",
    )
    query = parse_qs(httpx.URL(url).query.decode())
    assert query == {
        "response_type": ["code"],
        "client_id": ["cid"],
        "redirect_uri": ["https://portal/cb"],
        "scope": ["offline_access accounting.invoices"],
        "state": ["xyz"],
    }


def test_builders_refuse_what_xero_would_round_or_reject():
    with pytest.raises(ValueError, match="decimal places"):
        invoice(lines=[{"Description": "x", "Quantity": 1, "UnitAmount": "1.23456"}])
    with pytest.raises(ValueError, match="unsupported fields"):
        invoice(lines=[{"Description": "x", "Quantity": 1, "UnitAmount": 1, "LineAmount": 1}])
    with pytest.raises(ValueError, match="UUID"):
        invoice(contact_id="cust-1")
    with pytest.raises(ValueError, match="status"):
        invoice(status="PAID")
    with pytest.raises(ValueError, match="at most 50"):
        contact_body(contact_number="x" * 51, name="n")
    body = invoice(
        lines=[
            {
                "Description": "Tee",
                "Quantity": Decimal("2"),
                "UnitAmount": Decimal("19.99"),
                "DiscountAmount": Decimal("4.00"),
                "TaxAmount": Decimal("3.19"),
                "TaxType": "TAX001",
                "ItemCode": "TEE-BLK-S",
                "AccountCode": "200",
            }
        ]
    )
    assert json.dumps(body["LineItems"][0]) == (
        '{"Description": "Tee", "Quantity": 2.0, "UnitAmount": 19.99, "ItemCode": "TEE-BLK-S", '
        '"AccountCode": "200", "TaxType": "TAX001", "DiscountAmount": 4.0, "TaxAmount": 3.19}'
    )
