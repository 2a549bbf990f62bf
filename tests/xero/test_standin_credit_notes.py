"""Credit notes and allocations through the client against the stand-in, checked against the
official spec: totals by Xero's rules, look-up by Reference, allocation limits."""

from decimal import Decimal

import pytest

from apps.sandbox.xero.models import Allocation, CreditNote, Invoice
from integrations.http import PeerError
from integrations.xero.client import allocation_body, credit_note_body
from tests.xero.test_standin_books import invoice


def credit(reference, contact_id, *, status="AUTHORISED", unit="4.00"):
    return credit_note_body(
        reference=reference,
        contact_id=contact_id,
        date="2026-03-05",
        currency="USD",
        line_amount_types="Exclusive",
        status=status,
        lines=[
            {
                "Description": "Tee returned",
                "Quantity": 1,
                "UnitAmount": unit,
                "AccountCode": "200",
                "TaxType": "TAX001",
            }
        ],
    )


@pytest.fixture
def posted_invoice(xero, contact_ids):
    # 10.00 at 8.875 % = 0.8875 → 0.89: total 10.89.
    (result,) = xero.invoices_put(
        [invoice("INV-1", contact_ids["cust-1"], status="AUTHORISED")], idempotency_key="inv-1"
    )
    assert result.total == Decimal("10.89")
    return result.invoice_id


def test_a_credit_note_is_created_found_by_reference_and_allocated(
    xero, contact_ids, posted_invoice
):
    # 4.00 at 8.875 % = 0.355 → 0.36 (half away from zero): total 4.36.
    (result,) = xero.credit_notes_put(
        [credit("CN-1", contact_ids["cust-1"])], idempotency_key="cn-1"
    )
    assert not result.has_errors, result.errors
    assert result.total == Decimal("4.36")
    assert CreditNote.objects.get().type == "ACCRECCREDIT"
    (found,) = xero.credit_notes_by_reference(["CN-1", "CN-nope"])
    assert (found.invoice_id, found.total) == (result.invoice_id, Decimal("4.36"))

    body = allocation_body(invoice_id=posted_invoice, amount=Decimal("4.36"), date="2026-03-05")
    assert xero.credit_note_allocate(result.invoice_id, body, idempotency_key="al-1") == ()
    assert xero.credit_note_allocations(result.invoice_id) == [posted_invoice]
    assert Allocation.objects.get().amount == Decimal("4.36")
    invoice_row = Invoice.objects.get(reference="INV-1")
    assert invoice_row.total - Decimal("4.36") == Decimal("6.53")  # what the customer still owes

    # Nothing is left on the note: a second allocation is refused with Xero's words.
    again = xero.credit_note_allocate(result.invoice_id, body, idempotency_key="al-2")
    assert "exceeds the credit left on the note" in again[0]
    assert Allocation.objects.count() == 1


def test_a_draft_credit_note_cannot_be_allocated(xero, contact_ids, posted_invoice):
    (result,) = xero.credit_notes_put(
        [credit("CN-D", contact_ids["cust-1"], status="DRAFT")], idempotency_key="cn-d"
    )
    body = allocation_body(invoice_id=posted_invoice, amount=Decimal("1.00"), date="2026-03-05")
    errors = xero.credit_note_allocate(result.invoice_id, body, idempotency_key="al-d")
    assert "Only AUTHORISED credit notes" in errors[0]
    assert not Allocation.objects.exists()


def test_a_credit_note_with_a_field_the_spec_does_not_name_is_refused_whole(xero, contact_ids):
    from tests.contracts import contract_path

    contract_path("xero", "xero_accounting.yaml")  # the stand-in validates only with the spec
    with pytest.raises(PeerError) as refused:
        xero.credit_notes_put(
            [{**credit("CN-X", contact_ids["cust-1"]), "Nickname": "x"}], idempotency_key="cn-x"
        )
    assert refused.value.status_code == 400
    assert "Nickname: not a property" in refused.value.message
    assert not CreditNote.objects.exists()
