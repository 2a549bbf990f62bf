"""The warehouse leg's guarantees under faults: exactly once, crash-safe, signed, no double fulfilment."""

import json
import threading
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.orders import fulfillment
from apps.orders.models import Order, Shipment
from apps.sandbox.models import SandboxFault
from apps.sandbox.shipbob.models import OrderCreateAttempt, WarehouseOrder
from apps.sandbox.shopify.models import StoreFulfillment
from apps.sync import outbox
from apps.sync.models import OutboxMessage, WebhookReceipt
from apps.sync.pumps import pump_run
from integrations.shipbob.webhooks import webhook_sign
from tests.peers import drain, place_orders, ship_now

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def fast_retries(settings):
    settings.SYNC = {
        **settings.SYNC,
        "BACKOFF_BASE_SECONDS": 0.05,
        "BACKOFF_MAX_SECONDS": 0.5,
        "MAX_ATTEMPTS": 30,
        "CLAIM_SECONDS": 3,
    }
    settings.HTTP_TIMEOUT_SECONDS = 1.0


def crash_once_after_send(monkeypatch):
    """The worker dies after the peer answered and before our settle committed (once)."""
    real = outbox.outbox_settle
    crashed = []

    def settle(**kwargs):
        if not crashed:
            crashed.append(kwargs["message"].pk)
            raise SystemExit("worker killed")
        return real(**kwargs)

    monkeypatch.setattr(outbox, "outbox_settle", settle)
    return crashed


def expire_claims() -> None:
    OutboxMessage.objects.filter(status=OutboxMessage.Status.IN_FLIGHT).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )


@pytest.mark.postgres
def test_exactly_one_warehouse_order_per_shopify_order_under_faults_with_two_pumps(
    peers, fast_retries
):
    orders = place_orders(20)
    SandboxFault.objects.update_or_create(
        peer="shipbob",
        defaults={
            "enabled": True,
            "error_rate": 0.2,
            "burst_429": 5,
            "retry_after_seconds": 1,
            "timeout_rate": 0.1,
            "timeout_seconds": 1.5,
        },
    )

    def pump_until_drained():
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            pump_run("shipbob", seconds=2)
            if not OutboxMessage.objects.filter(
                peer="shipbob", status__in=["pending", "in_flight"]
            ).exists():
                return
            time.sleep(0.1)

    threads = [threading.Thread(target=pump_until_drained) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    fault = SandboxFault.objects.get(peer="shipbob")
    assert fault.errors_injected > 0
    assert fault.throttles_injected > 0
    assert fault.timeouts_injected > 0
    assert WarehouseOrder.objects.count() == len(orders)
    attempts = {a.reference_id: a for a in OrderCreateAttempt.objects.all()}
    for order in orders:
        order.refresh_from_db()
        assert order.status == Order.Status.SUBMITTED
        assert attempts[str(order.shopify_id)].created == 1
    assert sum(a.attempts for a in attempts.values()) > len(orders)  # retries happened


def test_a_crash_after_the_warehouse_accepted_creates_no_second_order(peers, monkeypatch):
    (order,) = place_orders(1)
    crashed = crash_once_after_send(monkeypatch)
    with pytest.raises(SystemExit):
        drain("shipbob")
    assert crashed
    assert WarehouseOrder.objects.count() == 1  # the warehouse has it; we did not record it
    expire_claims()
    drain("shipbob")
    order.refresh_from_db()
    assert order.status == Order.Status.SUBMITTED
    assert order.warehouse_order_id == WarehouseOrder.objects.get().pk
    attempt = OrderCreateAttempt.objects.get(reference_id=str(order.shopify_id))
    assert (attempt.attempts, attempt.created, attempt.duplicates) == (2, 1, 1)


def test_a_fulfillment_retried_after_a_crash_does_not_fulfil_twice(peers, monkeypatch):
    (order,) = place_orders(1)
    drain("shipbob")
    ship_now(seed=6)
    drain("receipts")
    crash_once_after_send(monkeypatch)
    with pytest.raises(SystemExit):
        drain("shopify")
    assert StoreFulfillment.objects.filter(order__shopify_id=order.shopify_id).count() == 1
    expire_claims()
    drain("shopify")
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert order.shipments.get().fulfillment_status == Shipment.FulfillmentStatus.DONE
    assert StoreFulfillment.objects.filter(order__shopify_id=order.shopify_id).count() == 1
    message = OutboxMessage.objects.get(action="fulfillment_create")
    assert message.result["already"] is True


def test_shopify_user_errors_make_the_fulfillment_dead_with_shopifys_words(
    peers, client, ops_user, monkeypatch
):
    (order,) = place_orders(1)
    drain("shipbob")
    ship_now(seed=7)
    drain("receipts")
    real_plan = fulfillment.fulfillment_plan

    def over_asking_plan(**kwargs):
        # Ask Shopify for more than remains: the stand-in answers with userErrors, as Shopify would.
        plan = real_plan(**kwargs)
        lines = [
            (fo_id, [(line_id, qty + 5) for line_id, qty in items]) for fo_id, items in plan.lines
        ]
        return fulfillment.FulfillmentPlan(lines=lines, already=False)

    monkeypatch.setattr(fulfillment, "fulfillment_plan", over_asking_plan)
    drain("shopify")
    message = OutboxMessage.objects.get(action="fulfillment_create")
    assert message.status == OutboxMessage.Status.DEAD
    shipment = Shipment.objects.get(order=order)
    assert shipment.fulfillment_status == Shipment.FulfillmentStatus.FAILED
    assert "exceeds remaining quantity" in shipment.fulfillment_error
    assert StoreFulfillment.objects.filter(order__shopify_id=order.shopify_id).count() == 0
    client.force_login(ops_user)
    page = client.get(reverse("orders:detail", args=[order.pk]))
    assert "exceeds remaining quantity" in page.text


def test_nothing_left_to_fulfil_is_dead_not_done(peers):
    (order,) = place_orders(1)
    drain("shipbob")
    ship_now(seed=8)
    drain("receipts")
    from apps.sandbox.shopify.models import StoreFulfillmentOrder

    StoreFulfillmentOrder.objects.filter(order__shopify_id=order.shopify_id).update(status="CLOSED")
    drain("shopify")
    shipment = Shipment.objects.get(order=order)
    assert shipment.fulfillment_status == Shipment.FulfillmentStatus.FAILED
    assert "nothing of this shipment is left" in shipment.fulfillment_error


def _signed(
    body: bytes, secret: str, *, timestamp: int | None = None, msg_id: str = "msg_1"
) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(timestamp),
        "HTTP_WEBHOOK_SIGNATURE": webhook_sign(
            secret=secret, msg_id=msg_id, timestamp=timestamp, body=body
        ),
        "HTTP_X_WEBHOOK_TOPIC": "order.shipped",
    }


def test_shipbob_webhooks_with_bad_or_stale_signatures_are_refused(client, settings):
    secret = settings.SHIPBOB["WEBHOOK_SECRET"]
    body = json.dumps({"id": 1, "reference_id": "1", "shipments": []}).encode()
    url = reverse("webhook-shipbob")
    wrong = "whsec_" + "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA=="
    assert (
        client.post(url, body, content_type="application/json", **_signed(body, wrong)).status_code
        == 401
    )
    stale = int(time.time()) - 301
    assert (
        client.post(
            url, body, content_type="application/json", **_signed(body, secret, timestamp=stale)
        ).status_code
        == 401
    )
    tampered = _signed(body, secret)
    assert (
        client.post(url, body + b" ", content_type="application/json", **tampered).status_code
        == 401
    )
    assert not WebhookReceipt.objects.exists()
    good = _signed(body, secret, msg_id="msg_good")
    assert client.post(url, body, content_type="application/json", **good).status_code == 200
    assert client.post(url, body, content_type="application/json", **good).status_code == 200
    assert WebhookReceipt.objects.filter(source="shipbob").count() == 1
