"""Invoices and contacts through the client against the stand-in: element errors, replays, lookups."""

import json
from decimal import Decimal

import httpx
import pytest

from apps.sandbox.xero import books
from apps.sandbox.xero.models import Contact, IdempotentAnswer, Invoice
from integrations.http import PeerError
from integrations.xero.client import contact_body, invoice_body


def invoice(reference, contact_id, *, status="DRAFT", amounts="Exclusive", lines=None):
    return invoice_body(
        reference=reference,
        contact_id=contact_id,
        date="2026-03-01",
        due_date="2026-03-31",
        currency="USD",
        line_amount_types=amounts,
        status=status,
        lines=lines
        or [
            {
                "Description": "Tee",
                "Quantity": 1,
                "UnitAmount": "10.00",
                "AccountCode": "200",
                "TaxType": "TAX001",
            }
        ],
    )


def test_contacts_bulk_create_find_and_duplicate_name(xero, contact_ids):
    assert set(contact_ids) == {"cust-1", "cust-2"}
    results = xero.contacts_put(
        [
            contact_body(contact_number="cust-3", name="Grace Hopper"),
            contact_body(contact_number="cust-4", name="Ada Lovelace"),  # name already active
        ],
        idempotency_key="contacts-2",
    )
    assert results[0].contact_id
    assert not results[0].errors
    assert results[1].contact_id is None
    assert "already assigned to another contact" in results[1].errors[0]
    assert results[1].contact_number == "cust-4"
    found = xero.contacts_by_number(["cust-1", "cust-3", "cust-4", "nobody"])
    assert found == {"cust-1": contact_ids["cust-1"], "cust-3": results[0].contact_id}
    assert Contact.objects.count() == 3


def test_a_mixed_batch_creates_only_the_good_ones_with_errors_aligned(xero, contact_ids):
    good = contact_ids["cust-1"]
    batch = [
        invoice("SHP-1", good),
        invoice("SHP-2", "00000000-0000-0000-0000-00000000abcd"),  # unknown contact
        invoice("SHP-3", good, status="AUTHORISED"),
        invoice(
            "SHP-4",
            good,
            status="AUTHORISED",
            lines=[{"Description": "No account", "Quantity": 1, "UnitAmount": 5}],
        ),
        invoice(
            "SHP-5",
            good,
            lines=[{"Description": "x", "Quantity": 1, "UnitAmount": 5, "TaxType": "NOPE"}],
        ),
    ]
    results = xero.invoices_put(batch, idempotency_key="batch-mixed")
    assert [r.reference for r in results] == ["SHP-1", "SHP-2", "SHP-3", "SHP-4", "SHP-5"]
    assert [r.has_errors for r in results] == [False, True, False, True, True]
    assert "could not be found" in results[1].errors[0]
    assert "AccountCode" in results[3].errors[0]
    assert "TaxType code 'NOPE'" in results[4].errors[0]
    assert results[0].total == Decimal("10.89")
    assert results[0].status == "DRAFT"
    assert results[2].status == "AUTHORISED"
    assert sorted(Invoice.objects.values_list("reference", flat=True)) == ["SHP-1", "SHP-3"]
    assert results[0].invoice_id == Invoice.objects.get(reference="SHP-1").invoice_id


def test_replaying_an_idempotency_key_answers_the_same_without_creating(xero, contact_ids):
    batch = [invoice(f"SHP-R{i}", contact_ids["cust-1"]) for i in range(3)]
    first = xero.invoices_put(batch, idempotency_key="batch-replay")
    again = xero.invoices_put(batch, idempotency_key="batch-replay")
    assert again == first
    assert Invoice.objects.count() == 3
    assert IdempotentAnswer.objects.get(key="batch-replay").replays == 1
    assert books.calls_by_kind()["PUT Invoices"] == 2
    # A new key is a new request: Xero would create again — which is why callers look up first.
    xero.invoices_put(batch[:1], idempotency_key="batch-replay-2")
    assert Invoice.objects.filter(reference="SHP-R0").count() == 2


def test_lookup_by_reference_with_quotes_and_many_references(xero, contact_ids):
    odd = 'SHP-"7"\\x OR Reference=="SHP-R0"'
    batch = [invoice(odd, contact_ids["cust-2"])] + [
        invoice(f"SHP-{i:04d}", contact_ids["cust-1"]) for i in range(45)
    ]
    for start in range(0, len(batch), 25):
        xero.invoices_put(batch[start : start + 25], idempotency_key=f"lookup-{start}")
    references = [odd] + [f"SHP-{i:04d}" for i in range(0, 45, 1)] + ["SHP-missing"]
    found = xero.invoices_by_reference(references)
    assert len(found) == 46
    by_ref = {f.reference: f for f in found}
    assert by_ref[odd].contact_id == contact_ids["cust-2"]
    assert by_ref["SHP-0001"].total == Decimal("10.89")
    assert by_ref["SHP-0001"].currency == "USD"
    assert by_ref["SHP-0001"].status == "DRAFT"
    # The escaped quote did not turn into an OR: only exact references came back.
    assert xero.invoices_by_reference(['SHP-"7"']) == []


def test_totals_follow_xero_rounding(xero, contact_ids):
    line = {"Description": "Tee", "Quantity": 1, "UnitAmount": "10.00", "TaxType": "TAX001"}
    exclusive, inclusive, unit4, explicit = xero.invoices_put(
        [
            invoice("EX", contact_ids["cust-1"], lines=[line] * 3),
            invoice("IN", contact_ids["cust-1"], amounts="Inclusive", lines=[line] * 3),
            invoice(
                "U4",
                contact_ids["cust-1"],
                amounts="NoTax",
                lines=[
                    {
                        "Description": "x",
                        "Quantity": 3,
                        "UnitAmount": "0.3333",
                        "DiscountAmount": "0.10",
                    }
                ],
            ),
            invoice(
                "TA",
                contact_ids["cust-1"],
                lines=[{**line, "TaxAmount": "0.75"}, line],
            ),
        ],
        idempotency_key="totals",
    )
    # 8.875% of 10.00 is 0.8875 → 0.89 per line, summed: 2.67 (not 2.66 on the total).
    row = Invoice.objects.get(reference="EX")
    assert (row.sub_total, row.total_tax, exclusive.total) == (
        Decimal("30.00"),
        Decimal("2.67"),
        Decimal("32.67"),
    )
    # Inclusive: 10 × 8.875 / 108.875 = 0.8152 → 0.82 per line, out of the 30.00.
    row = Invoice.objects.get(reference="IN")
    assert (row.sub_total, row.total_tax, inclusive.total) == (
        Decimal("27.54"),
        Decimal("2.46"),
        Decimal("30.00"),
    )
    # unitdp=4 keeps 0.3333: 3 × 0.3333 − 0.10 = 0.8999 → 0.90.
    assert unit4.total == Decimal("0.90")
    # An explicit TaxAmount overrides the computed one.
    assert explicit.total == Decimal("21.64")


def test_without_summarize_errors_one_bad_element_is_a_400_but_the_good_one_exists(
    xero, contact_ids, oauth_tokens, tenant_id, settings
):
    body = {
        "Invoices": [
            invoice("S-GOOD", contact_ids["cust-1"]),
            invoice("S-BAD", "00000000-0000-0000-0000-00000000abcd"),
        ]
    }
    answer = httpx.put(
        f"{settings.XERO['API_URL']}/Invoices",
        headers={
            "Authorization": f"Bearer {oauth_tokens.access_token}",
            "xero-tenant-id": tenant_id,
            "Accept": "application/json",
        },
        content=json.dumps(body),
    )
    assert answer.status_code == 400
    assert answer.json()["Type"] == "ValidationException"
    assert list(Invoice.objects.values_list("reference", flat=True)) == ["S-GOOD"]
    assert answer.headers["X-MinLimit-Remaining"].isdigit()


def test_read_only_and_unknown_fields_are_refused_whole(xero, contact_ids):
    from tests.contracts import contract_path

    contract_path("xero", "xero_accounting.yaml")  # the stand-in validates only with the spec
    good = invoice("RO-1", contact_ids["cust-1"])
    with pytest.raises(PeerError) as refused:
        xero.invoices_put(
            [good, {**invoice("RO-2", contact_ids["cust-1"]), "SubTotal": 10.0}],
            idempotency_key="read-only",
        )
    assert refused.value.status_code == 400
    assert not refused.value.retryable
    assert "SubTotal: read-only" in refused.value.message
    assert Invoice.objects.count() == 0
    with pytest.raises(PeerError) as unknown:
        xero.contacts_put(
            [{**contact_body(contact_number="9", name="Nine"), "Nickname": "N"}],
            idempotency_key="unknown-field",
        )
    assert "Nickname: not a property" in unknown.value.message


def test_get_by_id_and_where_on_contacts_by_email(xero, contact_ids):
    result = xero.invoices_put([invoice("BYID", contact_ids["cust-1"])], idempotency_key="byid")[0]
    answer = xero.http.get(f"/Invoices/{result.invoice_id}")
    assert answer.status_code == 200
    assert answer.json()["Invoices"][0]["Reference"] == "BYID"
    assert xero.http.get("/Invoices/00000000-0000-0000-0000-000000000000").status_code == 404
    answer = xero.http.get("/Contacts", params={"where": 'EmailAddress=="alan@example.com"'})
    assert [c["ContactNumber"] for c in answer.json()["Contacts"]] == ["cust-2"]
    answer = xero.http.get("/Contacts", params={"where": 'EmailAddress=="x" OR'})
    assert answer.status_code == 400
    assert answer.json()["Type"] == "QueryParseException"
