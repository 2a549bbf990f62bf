"""The demo's last leg through the pages: shipped orders → drafts → Finance approves in bulk →
posted to the Xero stand-in → a reconciliation check → matched on the report. Real HTTP, real pumps.
"""

import csv
import io
from urllib.parse import urlsplit

import httpx
import pytest
from django.urls import reverse

from apps.invoicing.models import InvoiceDraft, XeroConnection
from apps.sandbox.xero.models import Invoice
from tests.peers import drain, place_orders, ship_now

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(params=["oauth", "custom"])
def xero_peer(request, peers, settings):
    """The Xero stand-in, connected by an admin (OAuth) or as a custom connection (the demo's)."""
    settings.XERO = {
        **settings.XERO,
        "CONNECTION": request.param,
        "CLIENT_ID": "sandbox-xero-client",
        "CLIENT_SECRET": "sandbox-xero-secret",  # noqa: S105 - the stand-in's test value
    }
    return request.param


def connect(client, admin_user) -> None:
    """An admin presses "Connect to Xero"; the stand-in approves at once and sends them back."""
    client.force_login(admin_user)
    to_xero = client.post(reverse("invoicing:xero-connect"))
    back = urlsplit(httpx.get(to_xero["Location"], follow_redirects=False).headers["location"])
    assert client.get(f"{back.path}?{back.query}").status_code == 302
    assert XeroConnection.objects.get().tenant_id
    client.logout()


def test_shipped_orders_are_approved_posted_and_reconciled_from_the_pages(
    xero_peer, client, finance_user, admin_user
):
    if xero_peer == "oauth":
        connect(client, admin_user)
    orders = place_orders(3)
    drain("shipbob")
    ship_now(seed=3)
    drain("receipts", "shopify", "receipts")
    drafts = list(InvoiceDraft.objects.filter(order__in=orders))
    assert len(drafts) == 3
    assert all(draft.variance == 0 for draft in drafts)
    client.force_login(finance_user)

    queue = client.get(reverse("invoicing:list")).text
    assert all(f'name="ids" value="{draft.pk}"' in queue for draft in drafts)
    approve = client.post(
        reverse("invoicing:approve-bulk"), {"ids": [draft.pk for draft in drafts]}, **HX
    )
    assert "Approved 3 drafts" in approve.text
    drain("xero")

    for draft in drafts:
        draft.refresh_from_db()
        assert draft.status == InvoiceDraft.Status.POSTED, draft.post_error
        assert draft.xero_invoice_id
        assert Invoice.objects.get(reference=draft.reference).invoice_id == draft.xero_invoice_id
    assert "No drafts match." in client.get(reverse("invoicing:list")).text

    check = client.post(reverse("invoicing:reconciliation-check"), follow=True)
    assert "Check queued" in check.text
    drain("xero")

    report = client.get(reverse("invoicing:reconciliation")).text
    assert "3 posted drafts" in report
    assert "3 matched, 0 missing, 0 mismatched" in report
    exported = client.get(reverse("invoicing:reconciliation-csv"), {"state": "matched"})
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert sorted(row[0] for row in rows[1:]) == sorted(draft.reference for draft in drafts)
    assert {row[5] for row in rows[1:]} == {"matched"}
