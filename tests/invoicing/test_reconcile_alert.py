"""`xero.reconciliation` is raised when Xero lacks a posted invoice and resolves itself once a
reconciliation finds every one (over real HTTP to the Xero stand-in)."""

import pytest

from apps.invoicing.models import InvoiceDraft
from apps.invoicing.posting import invoices_reconcile_enqueue
from apps.invoicing.services import invoice_drafts_approve
from apps.sandbox.xero.models import Invoice as XeroBookInvoice
from apps.sync.models import Alert, OutboxMessage
from apps.sync.pumps import pump_run
from tests.invoicing.test_posting import drafts_for, xero_custom  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_reconciliation_alert_resolves_when_xero_agrees_again(xero_custom, finance_user):  # noqa: F811
    drafts = drafts_for(1)
    invoice_drafts_approve(actor=finance_user, drafts=drafts)
    pump_run("xero", once=True)
    assert InvoiceDraft.objects.get().status == InvoiceDraft.Status.POSTED
    book = XeroBookInvoice.objects.get()
    saved_reference = book.reference
    XeroBookInvoice.objects.filter(pk=book.pk).update(reference="gone")

    invoices_reconcile_enqueue()
    pump_run("xero", once=True)
    alert = Alert.objects.get(kind="xero.reconciliation")
    assert alert.status == Alert.Status.OPEN
    assert "1 missing" in alert.message

    XeroBookInvoice.objects.filter(pk=book.pk).update(reference=saved_reference)
    OutboxMessage.objects.filter(action="invoices_reconcile").delete()  # a new minute's pass
    invoices_reconcile_enqueue()
    pump_run("xero", once=True)
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED
    assert alert.resolved_reason == "Xero agrees with every invoice"
