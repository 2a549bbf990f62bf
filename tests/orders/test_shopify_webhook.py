"""The Shopify webhook endpoint end to end: signature, storage, dedupe, and applying through the pump."""

import json
import random

import pytest
from django.urls import reverse

from apps.orders.models import Order
from apps.sync.models import WebhookReceipt
from apps.sync.pumps import pump_run
from integrations.shopify.webhooks import webhook_signature
from tests.contracts import SHOPIFY_ORDER_FILES, shopify_payload, shopify_raw
from tests.orders.factories import next_id, order_payload, sku_mapping

SECRET = "test-shopify-secret"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.SHOPIFY = {**settings.SHOPIFY, "WEBHOOK_SECRETS": ["old-secret", SECRET]}


def deliver(
    client, body: bytes, *, topic="orders/create", webhook_id=None, secret=SECRET, signature=None
):
    return client.post(
        reverse("webhook-shopify"),
        data=body,
        content_type="application/json",
        headers={
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": signature or webhook_signature(body, secret),
            "X-Shopify-Shop-Domain": "o2c-demo.myshopify.com",
            "X-Shopify-API-Version": "2026-10",
            "X-Shopify-Webhook-Id": webhook_id or f"wh-{next_id()}",
        },
    )


def apply_all():
    pump_run("receipts", once=True)


@pytest.mark.parametrize("name", SHOPIFY_ORDER_FILES)
def test_real_payloads_signed_with_escaped_slashes_are_stored_raw_and_applied(client, name):
    payload = shopify_payload(name)
    payload["id"] = 2**53 + 11  # 64-bit id that a float would corrupt
    body = shopify_raw(payload)
    assert b"\\/" in body
    response = deliver(client, body)
    assert response.status_code == 200
    receipt = WebhookReceipt.objects.get()
    assert bytes(receipt.body) == body
    assert receipt.status == WebhookReceipt.Status.PENDING
    assert not Order.objects.exists()  # nothing is applied inside the request
    apply_all()
    receipt.refresh_from_db()
    assert receipt.status == WebhookReceipt.Status.APPLIED, receipt.error
    order = Order.objects.get()
    assert order.shopify_id == 2**53 + 11
    assert str(order.total_price) == payload["total_price"]


def test_the_rotated_secret_also_verifies(client):
    body = shopify_raw(order_payload())
    assert deliver(client, body, secret="old-secret").status_code == 200
    assert WebhookReceipt.objects.count() == 1


def test_bad_signature_is_refused_and_nothing_is_stored(client):
    body = shopify_raw(order_payload())
    response = deliver(client, body, signature=webhook_signature(body, "wrong"))
    assert response.status_code == 401
    assert not WebhookReceipt.objects.exists()
    # A re-serialised body (slashes unescaped) no longer matches the digest of the raw bytes.
    raw = shopify_raw(order_payload(note="https://example.com/x"))
    redumped = json.dumps(json.loads(raw)).encode()
    assert deliver(client, redumped, signature=webhook_signature(raw, SECRET)).status_code == 401
    assert not WebhookReceipt.objects.exists()


def test_compliance_topics_are_verified_and_accepted(client):
    body = b'{"shop_id":954889,"shop_domain":"o2c-demo.myshopify.com"}'
    assert deliver(client, body, topic="shop/redact", signature="bad").status_code == 401
    assert deliver(client, body, topic="shop/redact").status_code == 200
    apply_all()
    assert WebhookReceipt.objects.get().status == WebhookReceipt.Status.APPLIED


def test_oversize_body_is_refused_with_413(client, settings):
    settings.SYNC = {**settings.SYNC, "WEBHOOK_MAX_BYTES": 1000}
    body = shopify_raw(order_payload(note="x" * 2000))
    assert deliver(client, body).status_code == 413
    assert not WebhookReceipt.objects.exists()


def test_a_duplicate_delivery_is_one_receipt(client):
    body = shopify_raw(order_payload())
    assert deliver(client, body, webhook_id="same").status_code == 200
    assert deliver(client, body, webhook_id="same").status_code == 200
    assert WebhookReceipt.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (json.dumps({"name": "#1", "line_items": []}).encode(), "order id"),
        (shopify_raw(order_payload(total_price="lots")), "total_price"),
    ],
)
def test_malformed_and_unusable_payloads_are_kept_as_failed_receipts(client, body, reason):
    assert deliver(client, body).status_code == 200
    apply_all()
    receipt = WebhookReceipt.objects.get()
    assert receipt.status == WebhookReceipt.Status.FAILED
    assert reason in receipt.error
    assert bytes(receipt.body) == body
    assert not Order.objects.exists()


def test_every_delivery_three_times_in_shuffled_order_gives_one_order_in_its_newest_state(client):
    sku_mapping("TEE-BLK-M")
    base = order_payload()
    deliveries = []
    topics = ["orders/create", "orders/paid", "orders/updated"]
    for minute, (topic, status) in enumerate(zip(topics, ["pending", "paid", "paid"], strict=True)):
        version = dict(base, financial_status=status, tags=f"v{minute}")
        version["updated_at"] = f"2026-11-20T12:0{minute}:00+00:00"
        webhook_id = f"wh-{topic}"
        deliveries += [(shopify_raw(version), topic, webhook_id)] * 3
    random.Random(3).shuffle(deliveries)
    for body, topic, webhook_id in deliveries:
        assert deliver(client, body, topic=topic, webhook_id=webhook_id).status_code == 200
    assert WebhookReceipt.objects.count() == 3
    apply_all()
    order = Order.objects.get()
    assert order.tags == "v2"
    assert order.financial_status == "paid"
    assert order.status == Order.Status.READY
