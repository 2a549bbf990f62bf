"""The reconciliation alerts resolve themselves once the poll or the check works again."""

import pytest

from apps.orders.reconcile import orders_poll, webhook_subscriptions_check
from apps.sync.alerts import alert_raise
from apps.sync.models import Alert

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_poll_alerts_resolve_at_the_next_good_poll(shopify_live):
    for kind in ("shopify.poll_failed", "shopify.poll_unusable_order"):
        alert_raise(kind=kind, dedupe_key=kind, message="earlier trouble")

    assert orders_poll().complete

    assert set(Alert.objects.values_list("kind", "status")) == {
        ("shopify.poll_failed", "resolved"),
        ("shopify.poll_unusable_order", "resolved"),
    }


def test_subscription_alerts_resolve_when_the_check_recreates_them(shopify_live):
    alert_raise(
        kind="shopify.webhook_subscription_failed",
        dedupe_key="shopify.webhook_subscription_failed:ORDERS_PAID",
        message="Shopify refused",
    )
    alert_raise(
        kind="shopify.subscriptions_check_failed",
        dedupe_key="shopify.subscriptions_check_failed",
        message="revoked token",
    )

    webhook_subscriptions_check()

    failed = Alert.objects.get(kind="shopify.webhook_subscription_failed")
    assert failed.status == Alert.Status.RESOLVED
    assert failed.resolved_reason == "the subscription was re-created"
    check = Alert.objects.get(kind="shopify.subscriptions_check_failed")
    assert check.status == Alert.Status.RESOLVED
