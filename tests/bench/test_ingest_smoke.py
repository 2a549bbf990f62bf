"""Smoke run of the ingest bench: a real gunicorn on the test database, 200 signed deliveries.

No timing is asserted (the figures live in docs/benchmarks.md); what must hold on any machine is that
every delivery is answered 200 and stored exactly once.
"""

import shutil

import pytest

from apps.sync.models import WebhookReceipt, WebhookRejection
from bench.ingest.run import bench_run

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("generator", ["wrk", "python"])
def test_every_delivery_is_answered_200_and_stored_once(generator, bench_database_url):
    if generator == "wrk" and shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install wrk); the python generator still runs")

    result = bench_run(
        database_url=bench_database_url,
        n=200,
        concurrency=4,
        workers=2,
        warmup=0,
        generator=generator,
        prepare=False,  # pytest-django created and migrated the test database
        truncate=False,
    )

    assert result.answers == 200
    assert result.ok == 200
    assert result.non200 == 0
    assert sum(result.socket_errors.values()) == 0
    assert result.receipts_stored == 200
    assert result.lossless
    # Read back through the ORM too: 200 distinct pending receipts, raw bodies that verified.
    stored = WebhookReceipt.objects.filter(
        source="shopify", delivery_id__startswith=f"{result.run_id}-"
    )
    assert stored.count() == 200
    assert stored.values("delivery_id").distinct().count() == 200
    assert set(stored.values_list("status", flat=True)) == {WebhookReceipt.Status.PENDING}
    assert stored.exclude(topic__startswith="orders/").count() == 0
    assert bytes(stored.first().body).startswith(b'{"id":')
    assert not WebhookRejection.objects.exists()
