"""Reconciliation end to end over real HTTP: the stand-in, the real webhook endpoint, the receipts pump."""

import json
import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from apps.orders.models import Order, PollWatermark
from apps.orders.reconcile import (
    WATERMARK,
    orders_poll,
    orders_poll_task,
    webhook_subscriptions_check,
)
from apps.orders.selectors import pipeline_counts
from apps.sandbox.shopify.models import StoreOrder, StoreWebhookSubscription
from apps.sandbox.shopify.simulator import (
    SimulationResult,
    SimulatorConfig,
    deliveries_send,
    order_cancel_deliver,
    storefront_simulate,
)
from apps.sync.models import Alert, WebhookReceipt
from apps.sync.pumps import pump_run
from integrations.shopify.client import ORDER_WEBHOOK_TOPICS

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_poll_recovers_a_dropped_delivery(shopify_live):
    result = storefront_simulate(
        config=SimulatorConfig(orders=1, seed=5, drop_rate=1.0, sku_missing_rate=0)
    )
    assert result.sent == 0
    assert WebhookReceipt.objects.count() == 0
    assert not Order.objects.exists()

    poll = orders_poll()

    (order_id,) = result.order_ids
    order = Order.objects.get(shopify_id=order_id)
    stored = StoreOrder.objects.get(shopify_id=order_id).payload
    assert poll.complete
    assert poll.created == 1
    assert order.lines.count() == len(stored["line_items"])
    assert str(order.total_price) == stored["total_price"]
    assert order.shopify_updated_at == datetime.fromisoformat(stored["updated_at"])
    assert order.events.filter(kind="shopify.created", data__via="poll").exists()
    mark = PollWatermark.objects.get(name=WATERMARK)
    assert mark.value >= order.shopify_updated_at
    assert mark.cursor == ""
    assert poll.lag_seconds is not None
    assert poll.lag_seconds < 60


def test_a_backlog_larger_than_one_run_completes_over_several_runs(shopify_live):
    result = storefront_simulate(config=SimulatorConfig(orders=12, seed=9, deliver=False))
    before = datetime.now(UTC) - timedelta(hours=1)
    PollWatermark.objects.create(name=WATERMARK, value=before)
    marks = []
    runs = []
    while not (runs and runs[-1].complete):
        # A run's budget is spent after one page of 5: the pass goes on page by page, run by run.
        runs.append(orders_poll(page_size=5, budget_seconds=0))
        mark = PollWatermark.objects.get(name=WATERMARK)
        marks.append(mark.value)
        assert len(runs) <= 3
    assert [run.pages for run in runs] == [1, 1, 1]
    assert [run.complete for run in runs] == [False, False, True]
    assert [run.stopped for run in runs] == ["time budget spent", "time budget spent", ""]
    assert marks == sorted(marks)
    assert marks[0] > before
    assert all(run.since == runs[0].since for run in runs)  # one pass, continued by its cursor
    assert sum(run.created for run in runs) == 12
    assert set(Order.objects.values_list("shopify_id", flat=True)) == set(result.order_ids)
    assert PollWatermark.objects.get(name=WATERMARK).cursor == ""

    again = orders_poll()  # a new pass from the watermark: nothing older than Shopify's copy
    assert again.complete
    assert again.fetched == 0


def test_a_dropped_cancellation_is_applied_by_the_poll(shopify_live):
    result = storefront_simulate(config=SimulatorConfig(orders=3, seed=3, cancel_rate=0.0))
    pump_run("receipts", once=True)
    assert orders_poll().complete
    cancelled_id = result.order_ids[1]
    # The merchant cancels; the orders/cancelled webhook never arrives.
    dropped = order_cancel_deliver(shopify_id=cancelled_id, target_url="http://127.0.0.1:9/")
    assert dropped.sent == 0
    assert Order.objects.get(shopify_id=cancelled_id).cancelled_at is None

    poll = orders_poll()

    assert poll.complete
    assert poll.fetched == 1  # only the order whose copy was older was read in full
    order = Order.objects.get(shopify_id=cancelled_id)
    assert order.cancelled_at is not None
    assert order.status == Order.Status.CANCELLED
    assert order.events.filter(kind="shopify.updated", data__via="poll").exists()


def test_a_throttled_run_hands_over_at_once_and_the_next_run_carries_on(shopify_live, settings):
    storefront_simulate(config=SimulatorConfig(orders=4, seed=9, deliver=False))
    PollWatermark.objects.create(name=WATERMARK, value=datetime.now(UTC) - timedelta(hours=1))
    # Room for one full order, then Shopify restores a point every 1,000 s.
    settings.SANDBOX_SHOPIFY = {"MAXIMUM_AVAILABLE": 330.0, "RESTORE_RATE": 0.001}
    started = time.monotonic()

    first = orders_poll_task()

    assert time.monotonic() - started < 10  # no sleeping on a wait longer than the run's budget
    assert first["complete"] is False
    assert "THROTTLED" in first["stopped"]
    assert first["created"] >= 1
    assert Order.objects.count() == first["created"] < 4
    mark = PollWatermark.objects.get(name=WATERMARK)
    assert mark.pass_since is not None

    settings.SANDBOX_SHOPIFY = {"MAXIMUM_AVAILABLE": 1000.0, "RESTORE_RATE": 100000.0}
    second = orders_poll()
    assert second.complete
    assert second.since == datetime.fromisoformat(first["since"])  # the same pass, continued
    assert second.fetched == 4 - first["created"]  # orders applied before are not read again
    assert Order.objects.count() == 4


def test_pipeline_status_reports_the_poll_lag(shopify_live):
    PollWatermark.objects.create(name=WATERMARK, value=datetime.now(UTC) - timedelta(minutes=30))
    lag = pipeline_counts()["shopify_poll"]
    assert 1790 <= lag["lag_seconds"] <= 1900
    assert lag["pass_in_progress"] is False


def test_every_delivery_three_times_shuffled_gives_one_order_in_its_newest_state(
    shopify_live, settings
):
    result = storefront_simulate(
        config=SimulatorConfig(orders=2, seed=21, refund_rate=1.0, cancel_rate=0.0, deliver=False)
    )
    deliveries = result.deliveries * 3
    random.Random(4).shuffle(deliveries)
    sent = SimulationResult()
    deliveries_send(deliveries, url=f"{shopify_live.url}/webhooks/shopify/", result=sent)
    assert sent.failures == []
    assert sent.statuses == {200: len(deliveries)}
    assert WebhookReceipt.objects.count() == len(
        result.deliveries
    )  # duplicates collapsed on webhook id

    pump_run("receipts", once=True)

    assert not WebhookReceipt.objects.filter(status=WebhookReceipt.Status.FAILED).exists()
    assert Order.objects.count() == 2
    for order_id in result.order_ids:
        stored = StoreOrder.objects.get(shopify_id=order_id).payload
        order = Order.objects.get(shopify_id=order_id)
        assert order.shopify_updated_at == datetime.fromisoformat(stored["updated_at"])
        assert order.financial_status == "partially_refunded"
        assert str(order.current_total_price) == stored["current_total_price"]
        assert order.refunds.count() == 1


def test_a_bad_signature_is_refused_by_the_real_endpoint(shopify_live, settings):
    result = storefront_simulate(config=SimulatorConfig(orders=1, seed=2, deliver=False))
    sent = SimulationResult()
    deliveries_send(
        result.deliveries[:1],
        url=f"{shopify_live.url}/webhooks/shopify/",
        result=sent,
        secret="not-one-of-ours",
    )
    assert sent.statuses == {401: 1}
    assert WebhookReceipt.objects.count() == 0


def test_the_subscription_check_recreates_missing_ones_and_raises_an_alert(shopify_live, settings):
    uri = f"{settings.O2C_PUBLIC_URL}/webhooks/shopify/"
    StoreWebhookSubscription.objects.create(topic="ORDERS_CREATE", uri=uri)

    recreated = webhook_subscriptions_check()

    assert recreated == [t for t in ORDER_WEBHOOK_TOPICS if t != "ORDERS_CREATE"]
    assert set(StoreWebhookSubscription.objects.values_list("topic", flat=True)) == set(
        ORDER_WEBHOOK_TOPICS
    )
    alert = Alert.objects.get(kind="shopify.webhook_subscription_missing")
    assert "ORDERS_PAID" in alert.message
    # A second check finds everything in place: nothing re-created, no new alert.
    assert webhook_subscriptions_check() == []
    assert Alert.objects.get(kind="shopify.webhook_subscription_missing").count == 1


def test_the_first_registration_raises_no_alert_but_a_later_loss_does(shopify_live, settings):
    assert len(webhook_subscriptions_check()) == len(ORDER_WEBHOOK_TOPICS)
    assert not Alert.objects.filter(kind="shopify.webhook_subscription_missing").exists()

    StoreWebhookSubscription.objects.all().delete()  # Shopify dropped them all (app reinstalled)

    assert len(webhook_subscriptions_check()) == len(ORDER_WEBHOOK_TOPICS)
    assert Alert.objects.filter(kind="shopify.webhook_subscription_missing").count() == 1


def test_the_storefront_command_delivers_signed_webhooks(shopify_live):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(
        "storefront_simulate", "--orders", "2", "--seed", "8", "--duplicate-rate", "0.5", stdout=out
    )

    assert "orders=2" in out.getvalue()
    assert "200:" in out.getvalue()
    pump_run("receipts", once=True)
    assert Order.objects.count() == 2
    assert json.loads(bytes(WebhookReceipt.objects.first().body))["id"] > 2**53
