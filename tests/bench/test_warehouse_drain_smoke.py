"""Smoke run of the warehouse drain bench: 30 ready orders, a 2 s window, gunicorn and two pumps.

No timing is asserted (the figures live in docs/benchmarks.md); what must hold on any machine is that
every order reaches the stand-in exactly once and is recorded as submitted with the stand-in's id.
"""

import json

import pytest

from apps.orders.models import Order
from apps.sandbox.shipbob.models import OrderCreateAttempt, WarehouseOrder
from apps.sync.models import OutboxMessage
from bench.warehouse_drain.run import bench_run

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_thirty_orders_drain_exactly_once_through_two_pump_processes(bench_database_url):
    result = bench_run(
        database_url=bench_database_url,
        n=30,
        window=2.0,
        limit=20,
        capacity=2,
        runner="sync_run",
        pumps=2,
        workers=2,
        timeout=90,
        prepare=False,  # pytest-django created and migrated the test database
    )

    assert result.drained, result.lines()
    assert result.duplicates == 0
    assert result.references == 30
    assert result.creates == 30
    assert result.orders_submitted == 30
    assert result.warehouse_id_matches == 30
    assert result.dead == 0
    # Read back through the ORM too: one warehouse order and one create per bench order.
    assert WarehouseOrder.objects.count() == 30
    assert set(OrderCreateAttempt.objects.values_list("created", flat=True)) == {1}
    assert Order.objects.filter(status=Order.Status.SUBMITTED).count() == 30
    assert (
        not OutboxMessage.objects.filter(peer="shipbob")
        .exclude(status=OutboxMessage.Status.DONE)
        .exists()
    )
    # Two pump processes were started at once: one drained, the other found the lease held (the
    # drainer is stopped once the queue is empty, so only the other one prints its stats).
    assert len(result.lease_holders) == 1
    outputs = [json.loads(line) for line in result.runner_outputs]
    assert any(not stats["acquired"] for stats in outputs), outputs
