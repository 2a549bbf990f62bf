"""`manage.py pipeline_status --json`: the documented keys, every status present, right counts."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.orders.models import Hold, Order
from apps.sync.models import OutboxMessage, RateBudget, WebhookReceipt
from tests.ops.factories import OutboxMessageFactory, WebhookReceiptFactory
from tests.orders.factories import OrderFactory, order_with_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipbob_budget(settings):
    """No burst and 2 calls/s: the drain estimate is exactly queue / 2 seconds."""
    settings.RATE_BUDGETS = {**settings.RATE_BUDGETS, "shipbob": {"capacity": 0, "refill": 2.0}}


def pipeline_status(*args: str) -> str:
    out = StringIO()
    call_command("pipeline_status", *args, stdout=out)
    return out.getvalue()


def pipeline_json() -> dict:
    return json.loads(pipeline_status("--json"))


def test_an_empty_pipeline_prints_every_documented_key_with_zeros(settings, shipbob_budget):
    status = pipeline_json()

    assert set(status) == {
        "orders",
        "receipts",
        "outbox",
        "holds_open",
        "warehouse",
        "shopify_poll",
    }
    assert status["orders"] == dict.fromkeys(Order.Status.values, 0)
    assert status["receipts"] == dict.fromkeys(WebhookReceipt.Status.values, 0)
    assert set(status["outbox"]) == set(settings.RATE_BUDGETS)
    for statuses in status["outbox"].values():
        assert statuses == dict.fromkeys(OutboxMessage.Status.values, 0)
    assert status["holds_open"] == 0
    assert status["warehouse"] == {"queue": 0, "dead": 0, "drain_seconds": 0.0}
    assert status["shopify_poll"] == {
        "watermark": None,
        "lag_seconds": None,
        "pass_in_progress": False,
    }


def test_the_counts_are_right(shipbob_budget):
    for status, count in (("received", 1), ("held", 3), ("ready", 2), ("shipped", 4)):
        OrderFactory.create_batch(count, status=status)
    held = order_with_line(sku=None)  # a fourth held order, with two holds
    for reason in (Hold.Reason.NO_SKU, Hold.Reason.NO_SHIPPING_ADDRESS):
        Hold.objects.create(order=held, reason=reason, detail="fix it")
    Hold.objects.create(
        order=OrderFactory(status=Order.Status.READY),
        reason=Hold.Reason.UNKNOWN_SKU,
        detail="was fixed",
        released_at=timezone.now(),
    )
    WebhookReceiptFactory.create_batch(5)
    WebhookReceiptFactory.create_batch(2, failed=True)
    WebhookReceiptFactory(status=WebhookReceipt.Status.PENDING)
    OutboxMessageFactory.create_batch(6)  # shipbob order_create, pending
    OutboxMessageFactory(status=OutboxMessage.Status.IN_FLIGHT)
    OutboxMessageFactory(dead=True)
    OutboxMessageFactory(status=OutboxMessage.Status.DONE)
    OutboxMessageFactory(peer="shopify", action="fulfillment_create", dead=True)

    status = pipeline_json()

    assert status["orders"] == {
        **dict.fromkeys(Order.Status.values, 0),
        "received": 1,
        "held": 4,
        "ready": 3,
        "shipped": 4,
    }
    assert status["receipts"] == {
        **dict.fromkeys(WebhookReceipt.Status.values, 0),
        "applied": 5,
        "failed": 2,
        "pending": 1,
    }
    assert status["outbox"]["shipbob"] == {"pending": 6, "in_flight": 1, "dead": 1, "done": 1}
    assert status["outbox"]["shopify"] == {"pending": 0, "in_flight": 0, "dead": 1, "done": 0}
    assert status["outbox"]["xero"] == {"pending": 0, "in_flight": 0, "dead": 0, "done": 0}
    assert status["holds_open"] == 2
    # Waiting = pending + in flight; at 2 calls/s with no burst left, 7 messages take 3.5 s.
    assert status["warehouse"] == {"queue": 7, "dead": 1, "drain_seconds": 3.5}


def test_a_peer_outside_the_budgets_still_shows_in_the_outbox(settings, shipbob_budget):
    OutboxMessageFactory(peer="helpdesk", action="reply_send")

    status = pipeline_json()

    assert status["outbox"]["helpdesk"] == {"pending": 1, "in_flight": 0, "dead": 0, "done": 0}
    assert set(settings.RATE_BUDGETS) < set(status["outbox"])


def test_the_warehouse_estimate_uses_the_tokens_in_the_budget(settings):
    settings.RATE_BUDGETS = {**settings.RATE_BUDGETS, "shipbob": {"capacity": 10, "refill": 2.5}}
    RateBudget.objects.create(
        peer="shipbob",
        capacity=10,
        refill_per_second=2.5,
        tokens=4,
        refilled_at=timezone.now() + timedelta(hours=1),  # no refill before the command reads it
    )
    OutboxMessageFactory.create_batch(9)

    warehouse = pipeline_json()["warehouse"]

    # (9 queued − 4 tokens in hand) / 2.5 per second
    assert warehouse == {"queue": 9, "dead": 0, "drain_seconds": 2.0}


def test_the_json_is_one_line_with_stable_key_order(shipbob_budget):
    out = pipeline_status("--json")

    assert out.count("\n") == 1
    assert out.startswith('{"holds_open": 0, "orders": {')


def test_without_json_it_prints_a_summary_for_people(shipbob_budget):
    OrderFactory.create_batch(2, status=Order.Status.HELD)
    OutboxMessageFactory.create_batch(3)

    out = pipeline_status()

    assert "held 2" in out
    assert "outbox shipbob: pending 3" in out
    assert "warehouse queue: 3 (dead 0), drains in about 1.5 s" in out
