"""Issue 11, money to the cent: non-shipping lines billed, refunds after invoicing credited and
posted to the Xero stand-in, tax types from Shopify's tax lines with Xero's own arithmetic.

Every expected figure is worked by hand in the test (the comments show the sums), never taken from
the code under test.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from apps.invoicing.credits import credit_note_for_refund, invoicing_scan
from apps.invoicing.models import CreditNoteDraft, InvoiceDraft
from apps.invoicing.selectors import orders_awaiting_refund_review, orders_money_check
from apps.invoicing.services import credit_notes_approve, invoice_drafts_approve
from apps.orders.holds import order_line_handle
from apps.orders.models import Order, Refund
from apps.orders.services import order_upsert
from apps.orders.shopify_payload import order_from_rest
from apps.orders.warehouse import SHIPMENT_VOIDED_HOOKS
from apps.sandbox.xero.models import Allocation as XeroBookAllocation
from apps.sandbox.xero.models import CreditNote as XeroBookCreditNote
from apps.sandbox.xero.models import Invoice as XeroBookInvoice
from apps.sync.pumps import pump_run
from tests.invoicing.test_drafts import ship
from tests.orders.factories import line_payload, next_id, order_payload, sku_mapping

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
D = Decimal


@pytest.fixture
def xero(peers, settings):
    """The sandbox peers; Xero through a custom connection, documents AUTHORISED (allocatable)."""
    settings.XERO = {**settings.XERO, "CONNECTION": "custom", "INVOICE_STATUS": "AUTHORISED"}
    return peers


def _vat(amount: str) -> list[dict]:
    return [{"title": "VAT", "rate": 0.2, "price": amount}]


def _upsert(payload: dict) -> Order:
    return order_upsert(data=order_from_rest(payload), via="test").order


def test_a_line_that_never_ships_is_billed_on_the_first_draft_in_full(ops_user):
    sku_mapping("T-TEE")
    tee = line_payload(sku="T-TEE", quantity=2, price="20.00", tax_lines=_vat("8.00"))
    wrap = line_payload(
        sku=None, variant_id=None, title="Gift wrap", price="5.00", tax_lines=_vat("1.00")
    )
    # 40.00 + 5.00 + shipping 4.00 = 49.00; VAT 8.00 + 1.00 + 0.80 = 9.80; total 58.80.
    payload = order_payload(
        lines=[tee, wrap],
        subtotal_price="45.00",
        total_tax="9.80",
        total_price="58.80",
        current_total_price="58.80",
        shipping_lines=[
            {
                "id": next_id(),
                "code": "Standard",
                "title": "Standard",
                "price": "4.00",
                "discounted_price": "4.00",
                "tax_lines": _vat("0.80"),
            }
        ],
    )
    order = _upsert(payload)
    assert order.status == Order.Status.HELD  # the gift wrap has no SKU
    wrap_line = order.lines.get(title="Gift wrap")
    order_line_handle(
        actor=ops_user, line=wrap_line, handling="not_shipped", reason="gift wrap, done in store"
    )
    order.refresh_from_db()
    assert order.status == Order.Status.READY

    ship(order)
    draft = InvoiceDraft.objects.get(order=order)
    lines = {line.description: line for line in draft.lines.all()}
    assert lines["Gift wrap"].quantity == D(1)
    assert lines["Gift wrap"].line_amount == D("5.00")
    assert lines["Gift wrap"].tax_amount == D("1.00")
    assert draft.subtotal == D("49.00")
    assert draft.total_tax == D("9.80")
    assert draft.total == D("58.80")
    assert draft.variance == D("0.00")
    order.refresh_from_db()
    assert order.status in (Order.Status.SHIPPED, Order.Status.FULFILLED)
    assert orders_money_check() == (1, [])


def test_an_order_where_nothing_ships_gets_a_draft_of_its_own(ops_user):
    service = line_payload(
        sku=None,
        variant_id=None,
        title="Engraving",
        price="12.50",
        requires_shipping=False,
        tax_lines=_vat("2.50"),
    )
    # 12.50 + VAT 2.50 = 15.00
    order = _upsert(
        order_payload(
            lines=[service], subtotal_price="12.50", total_tax="2.50", total_price="15.00"
        )
    )
    order_line_handle(
        actor=ops_user, line=order.lines.get(), handling="not_shipped", reason="a service"
    )
    assert invoicing_scan()["drafts"] == 1
    draft = InvoiceDraft.objects.get(order=order)
    assert draft.shipment is None
    assert draft.total == D("15.00")
    assert invoicing_scan()["drafts"] == 0  # once


def _two_line_order() -> Order:
    """2 × TEE 20.00 (VAT 8.00) + 1 × MUG 15.00 (VAT 3.00) = 55.00 + 11.00 = 66.00."""
    sku_mapping("T-TEE")
    sku_mapping("T-MUG")
    payload = order_payload(
        lines=[
            line_payload(sku="T-TEE", quantity=2, price="20.00", tax_lines=_vat("8.00")),
            line_payload(sku="T-MUG", quantity=1, price="15.00", tax_lines=_vat("3.00")),
        ],
        subtotal_price="55.00",
        total_tax="11.00",
        total_price="66.00",
        current_total_price="66.00",
    )
    order = _upsert(payload)
    assert order.status == Order.Status.READY
    ship(order)
    return order, payload


def _refund_mug(order: Order, payload: dict) -> Refund:
    """Shopify refunds the mug after invoicing: 15.00 + VAT 3.00 = 18.00; current total 48.00."""
    mug = next(line for line in payload["line_items"] if line["sku"] == "T-MUG")
    refund = {
        "id": next_id(),
        "order_id": payload["id"],
        "created_at": (T0 + timedelta(hours=1)).isoformat(),
        "processed_at": (T0 + timedelta(hours=1)).isoformat(),
        "note": "Damaged in transit",
        "refund_line_items": [
            {"line_item_id": mug["id"], "quantity": 1, "subtotal": "15.00", "total_tax": "3.00"}
        ],
        "transactions": [{"kind": "refund", "status": "success", "amount": "18.00"}],
    }
    _upsert(
        {
            **payload,
            "updated_at": (T0 + timedelta(hours=1)).isoformat(),
            "financial_status": "partially_refunded",
            "current_total_price": "48.00",
            "refunds": [refund],
        }
    )
    return Refund.objects.get(shopify_id=refund["id"])


def test_a_refund_after_invoicing_is_credited_posted_allocated_and_reconciles(xero, finance_user):
    order, payload = _two_line_order()
    invoice = InvoiceDraft.objects.get(order=order)
    assert invoice.total == D("66.00")
    invoice_drafts_approve(actor=finance_user, drafts=[invoice])
    pump_run("xero", once=True)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceDraft.Status.POSTED

    refund = _refund_mug(order, payload)
    assert orders_money_check() == (0, [])  # waits for the scan, not counted as a difference
    assert orders_awaiting_refund_review().count() == 1
    invoicing_scan()
    assert orders_awaiting_refund_review().count() == 0
    credit = CreditNoteDraft.objects.get(refund=refund)
    assert credit.total == D("18.00")  # Shopify's refund, to the cent
    assert credit.subtotal == D("15.00")
    assert credit.total_tax == D("3.00")
    assert credit.invoice == invoice
    assert credit.variance == D("0.00")
    assert credit_note_for_refund(refund=refund) == credit  # reviewed once
    assert CreditNoteDraft.objects.count() == 1

    credit_notes_approve(actor=finance_user, drafts=[credit])
    pump_run("xero", once=True)
    pump_run("xero", once=True)  # the allocation follows the posting
    credit.refresh_from_db()
    assert credit.status == CreditNoteDraft.Status.POSTED, credit.post_error
    assert credit.xero_total == D("18.00")
    assert credit.allocated_at is not None, credit.allocation_error
    book = XeroBookCreditNote.objects.get(reference=credit.reference)
    assert (book.type, book.total) == ("ACCRECCREDIT", D("18.00"))
    allocation = XeroBookAllocation.objects.get(credit_note=book)
    assert allocation.amount == D("18.00")
    assert allocation.invoice.reference == invoice.reference
    # Xero's own arithmetic: 66.00 invoiced − 18.00 credited = 48.00 = Shopify's current total.
    assert XeroBookInvoice.objects.get(reference=invoice.reference).total == D("66.00")
    order.refresh_from_db()
    assert order.current_total_price == D("48.00")
    assert orders_money_check() == (1, [])


def test_a_refund_before_invoicing_needs_no_credit_note():
    sku_mapping("T-TEE")
    sku_mapping("T-MUG")
    payload = order_payload(
        lines=[
            line_payload(sku="T-TEE", quantity=2, price="20.00", tax_lines=_vat("8.00")),
            line_payload(sku="T-MUG", quantity=1, price="15.00", tax_lines=_vat("3.00")),
        ],
        subtotal_price="55.00",
        total_tax="11.00",
        total_price="66.00",
    )
    order = _upsert(payload)
    _refund_mug(order, payload)
    invoicing_scan()
    ship(order)
    # Only the tees are billed: 40.00 + 8.00 = 48.00, Shopify's current total.
    assert InvoiceDraft.objects.get(order=order).total == D("48.00")
    assert not CreditNoteDraft.objects.exists()
    assert orders_money_check() == (1, [])


def test_a_us_order_posts_under_the_mapped_us_tax_type_and_xeros_total_equals_shopifys(
    xero, finance_user
):
    sku_mapping("T-TEE")
    sku_mapping("T-SOCK")

    def ny(state: str, county: str) -> list[dict]:
        return [
            {"title": "NY State Tax", "rate": 0.04, "price": state},
            {"title": "New York County Tax", "rate": 0.045, "price": county},
        ]

    # 30.00: state 1.20 + county 1.35 = 2.55 (Xero at 8.5 %: 2.55, agrees).
    # 1.70: state 0.068 → 0.07, county 0.0765 → 0.08 = 0.15 (Xero at 8.5 %: 0.1445 → 0.14!).
    # Shipping 10.00: 0.40 + 0.45 = 0.85 (Xero: 0.85).
    # Total 30.00 + 1.70 + 10.00 + 2.55 + 0.15 + 0.85 = 45.25.
    payload = order_payload(
        currency="USD",
        lines=[
            line_payload(sku="T-TEE", price="30.00", tax_lines=ny("1.20", "1.35")),
            line_payload(sku="T-SOCK", price="1.70", tax_lines=ny("0.07", "0.08")),
        ],
        subtotal_price="31.70",
        total_tax="3.55",
        total_price="45.25",
        shipping_address={
            "first_name": "Grace",
            "last_name": "Hopper",
            "address1": "1 Broadway",
            "city": "New York",
            "zip": "10004",
            "country": "United States",
            "country_code": "US",
            "province_code": "NY",
        },
        shipping_lines=[
            {
                "id": next_id(),
                "code": "Ground",
                "title": "Ground",
                "price": "10.00",
                "discounted_price": "10.00",
                "tax_lines": ny("0.40", "0.45"),
            }
        ],
    )
    order = _upsert(payload)
    assert order.status == Order.Status.READY
    ship(order)
    draft = InvoiceDraft.objects.get(order=order)
    assert draft.total == D("45.25")
    shipping = draft.lines.get(kind="shipping")
    assert (shipping.tax_type, shipping.tax_rate) == ("TAX002", D("8.5"))  # not UK VAT
    assert set(draft.lines.values_list("tax_type", flat=True)) == {"TAX002"}

    invoice_drafts_approve(actor=finance_user, drafts=[draft])
    pump_run("xero", once=True)
    book = XeroBookInvoice.objects.get(reference=draft.reference)
    assert book.total == D("45.25")  # Xero's own sum of its per-line figures
    taxes = sorted((item["LineAmount"], item["TaxAmount"]) for item in book.line_items)
    assert taxes == [(1.7, 0.15), (10.0, 0.85), (30.0, 2.55)]
    draft.refresh_from_db()
    assert draft.reconciliation == InvoiceDraft.Reconciliation.MATCHED


def test_an_order_with_an_unmapped_tax_line_is_held_with_the_reason():
    sku_mapping("T-TEE")
    order = _upsert(
        order_payload(
            lines=[
                line_payload(
                    sku="T-TEE", tax_lines=[{"title": "QC PST", "rate": 0.09975, "price": "2.00"}]
                )
            ]
        )
    )
    hold = order.holds.get()
    assert order.status == Order.Status.HELD
    assert hold.reason == "unmapped_tax"
    assert "'QC PST' at 0.09975" in hold.detail
    assert "Tax type mappings" in hold.detail


def test_a_parcel_that_never_shipped_voids_its_draft_or_credits_the_posted_one(finance_user):
    order, _ = _two_line_order()
    draft = InvoiceDraft.objects.get(order=order)
    shipment = draft.shipment
    with transaction.atomic():
        for hook in SHIPMENT_VOIDED_HOOKS:
            hook(shipment)
    draft.refresh_from_db()
    assert draft.status == InvoiceDraft.Status.VOIDED
    assert "never shipped" in draft.void_reason
    assert not CreditNoteDraft.objects.exists()

    InvoiceDraft.objects.filter(pk=draft.pk).update(
        status=InvoiceDraft.Status.POSTED, approved_by=finance_user, approved_at=T0
    )
    with transaction.atomic():
        for hook in SHIPMENT_VOIDED_HOOKS:
            hook(shipment)
            hook(shipment)  # twice: one credit note
    credit = CreditNoteDraft.objects.get()
    assert credit.total == D("66.00")  # the whole posted invoice: 55.00 + 11.00
    assert credit.invoice_id == draft.pk
    assert credit.lines.count() == 2


def test_invoices_verify_counts_and_exits_non_zero_on_a_difference(capsys):
    order, _ = _two_line_order()
    call_command("invoices_verify")
    assert "1 fully shipped order(s) checked, 0 differ" in capsys.readouterr().out
    Order.objects.filter(pk=order.pk).update(current_total_price=D("65.99"))
    with pytest.raises(CommandError):
        call_command("invoices_verify")
    out = capsys.readouterr().out
    # 66.00 invoiced − 0 credited − 65.99 = 0.01
    assert f"{order.name} (GBP): drafts 66.00" in out
    assert "difference 0.01" in out
