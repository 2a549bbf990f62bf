"""Smoke run of the Xero posting bench: 60 approved drafts, gunicorn serving the stand-in, two pumps.

No timing is asserted (the figures live in docs/benchmarks.md); what must hold on any machine is that
every draft reaches the stand-in exactly once, in two batches of at most three calls each (find the
uncached contacts, create the new ones, put the invoices), with no call answered 429.
"""

import json

import pytest
from django.db.models import Count

from apps.invoicing.models import InvoiceDraft, XeroContact
from apps.sandbox.xero.models import Contact
from apps.sandbox.xero.models import Invoice as XeroBookInvoice
from apps.sync.models import OutboxMessage
from bench.xero_post.run import bench_run

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_sixty_drafts_post_exactly_once_in_at_most_six_calls(bench_database_url):
    result = bench_run(
        database_url=bench_database_url,
        n=60,
        known_share=0.5,
        window=2.0,
        limit=20,
        capacity=1,
        pumps=2,
        workers=2,
        timeout=90,
        prepare=False,  # pytest-django created and migrated the test database
    )

    assert result.drained, result.lines()
    assert result.exactly_once, result.lines()
    assert result.throttled_total == 0, result.throttled
    # Two batches (50 + 10), each: find the uncached contacts, create the new ones, put the invoices.
    assert result.api_calls <= 6, result.calls
    assert result.calls.get("PUT Invoices") == 2
    assert result.calls.get("token") == 1
    # Read back through the ORM too: one invoice per reference, every draft posted with its id.
    references = list(InvoiceDraft.objects.values_list("reference", flat=True))
    assert len(references) == 60
    per_reference = XeroBookInvoice.objects.values("reference").annotate(n=Count("id"))
    assert {row["reference"] for row in per_reference} == set(references)
    assert {row["n"] for row in per_reference} == {1}
    remote = dict(XeroBookInvoice.objects.values_list("reference", "invoice_id"))
    for draft in InvoiceDraft.objects.all():
        assert draft.status == InvoiceDraft.Status.POSTED
        assert draft.approved_by is not None
        assert draft.xero_invoice_id == remote[draft.reference]
        assert draft.xero_total == draft.total
    # Half the customers were known (cached); the other 30 were created once and are now cached.
    assert Contact.objects.count() == 60
    assert XeroContact.objects.count() == 60
    assert result.contacts_created == 30
    assert (
        not OutboxMessage.objects.filter(peer="xero")
        .exclude(status=OutboxMessage.Status.DONE)
        .exists()
    )
    # Two pump processes were started at once: one drained, the other found the lease held.
    assert len(result.lease_holders) == 1
    outputs = [json.loads(line) for line in result.runner_outputs]
    assert any(not stats["acquired"] for stats in outputs), outputs
