"""Reconciliation end to end over real HTTP: the stand-in, the real webhook endpoint, the receipts pump."""

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from apps.orders.models import Order, PollWatermark
from apps.orders.reconcile import (
    WATERMARK,
    orders_poll,
    orders_poll_task,
    webhook_subscriptions_check,
)
from apps.sandbox.shopify.models import StoreOrder, StoreWebhookSubscription
from apps.sandbox.shopify.simulator import (
    SimulationResult,
    SimulatorConfig,
    deliveries_send,
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
    assert PollWatermark.objects.get(name=WATERMARK).value == order.shopify_updated_at


def test_the_watermark_moves_only_after_a_complete_pass(shopify_live, settings):
    storefront_simulate(config=SimulatorConfig(orders=4, seed=9, deliver=False))
    before = datetime.now(UTC) - timedelta(hours=1)
    PollWatermark.objects.create(name=WATERMARK, value=before)
    # The second page fails (the stand-in throttles every call after the first): nothing advances.
    settings.SANDBOX_SHOPIFY = {"MAXIMUM_AVAILABLE": 1000.0, "RESTORE_RATE": 0.001}

    outcome = orders_poll_task()

    assert outcome["retryable"] is True
    assert PollWatermark.objects.get(name=WATERMARK).value == before
    assert (
        Order.objects.count() == 3
    )  # the first page was applied; upserts make the re-read harmless

    settings.SANDBOX_SHOPIFY = {"MAXIMUM_AVAILABLE": 1000.0, "RESTORE_RATE": 100000.0}
    second = orders_poll()
    assert second.complete
    assert Order.objects.count() == 4
    newest = max(row.updated_at for row in StoreOrder.objects.all())
    assert PollWatermark.objects.get(name=WATERMARK).value == newest


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
