"""The dashboard bench's seed, small: every table gets rows in the stated proportions, and the
pages it times answer (no timings asserted)."""

import pytest
from django.test import Client

from apps.invoicing.models import InvoiceDraft
from apps.orders.models import Hold, Order, OrderLine, Shipment
from apps.support.models import Ticket
from apps.sync.models import OutboxMessage, WebhookReceipt
from bench.dashboard.run import pages, session_for_ops
from bench.dashboard.seed import seed

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_seed_fills_every_table_and_every_timed_page_answers(is_postgres):
    if not is_postgres:
        pytest.skip("the seed uses PostgreSQL's generate_series")

    seed(orders=3000, days=30)

    assert Order.objects.count() == 3000
    assert OrderLine.objects.count() == 3000 + 1000  # a second line on every third order
    assert Shipment.objects.count() > 2500
    assert InvoiceDraft.objects.count() > 2500
    assert Hold.objects.filter(released_at__isnull=True).exists()
    assert OutboxMessage.objects.filter(status="dead").exists()
    assert WebhookReceipt.objects.filter(status="failed").exists()
    assert Ticket.objects.count() == 150
    _session, user = session_for_ops()
    client = Client()
    client.force_login(user)
    for label, url in pages():
        assert client.get(url).status_code in (200, 302), label
