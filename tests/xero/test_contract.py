"""Every body our builders produce validates against the official spec's component schemas."""

import pytest

from integrations.xero.client import contact_body, invoice_body
from integrations.xero.schema import schema_errors, spec_load
from tests.contracts import contract_path

CONTACT = "5cc8cf28-567e-4d43-b287-687cfcaec47c"


@pytest.fixture(scope="module")
def spec():
    return spec_load(str(contract_path("xero", "xero_accounting.yaml")))


def bodies():
    lines = [
        {"Description": "Tee", "Quantity": 2, "UnitAmount": "19.99", "AccountCode": "200"},
        {
            "Description": "Mug",
            "Quantity": "1.5",
            "UnitAmount": "7.1234",
            "ItemCode": "MUG-WHT",
            "AccountCode": "200",
            "TaxType": "TAX001",
            "DiscountAmount": "1.00",
            "TaxAmount": "0.55",
        },
    ]
    for amounts in ("Exclusive", "Inclusive", "NoTax"):
        for status in ("DRAFT", "AUTHORISED"):
            yield invoice_body(
                reference=f"SHP-{amounts}-{status}",
                contact_id=CONTACT,
                date="2026-03-01",
                due_date="2026-03-31",
                currency="USD",
                line_amount_types=amounts,
                status=status,
                lines=lines,
            )


def test_invoice_bodies_validate(spec):
    for body in bodies():
        assert schema_errors(spec, "Invoice", body) == [], body["Reference"]
    assert schema_errors(spec, "Invoices", {"Invoices": list(bodies())}) == []


def test_contact_bodies_validate(spec):
    full = contact_body(
        contact_number="1234567890",
        name="Ada Lovelace",
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
    )
    bare = contact_body(contact_number="42", name="Customer 42")
    for body in (full, bare):
        assert schema_errors(spec, "Contact", body) == []
    assert schema_errors(spec, "Contacts", {"Contacts": [full, bare]}) == []


def test_the_validator_can_fail(spec):
    body = next(bodies())
    bad = {
        **body,
        "SubTotal": 10.0,
        "Status": "PAID!",
        "Colour": "red",
        "Contact": {"ContactID": "not-a-uuid"},
        "LineItems": [{**body["LineItems"][0], "Quantity": "2"}],
    }
    errors = schema_errors(spec, "Invoice", bad)
    assert "Invoice.SubTotal: read-only, must not be sent" in errors
    assert any(e.startswith("Invoice.Status:") for e in errors)
    assert "Invoice.Colour: not a property of this schema" in errors
    assert any("ContactID" in e and "UUID" in e for e in errors)
    assert any("LineItems[0].Quantity: expected number" in e for e in errors)
    assert schema_errors(spec, "Contact", {"Name": "x" * 256}) == [
        "Contact.Name: longer than 255 characters"
    ]
