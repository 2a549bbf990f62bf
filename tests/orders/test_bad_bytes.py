"""Bad bytes from peers: NULs are replaced at the boundary (raw body kept), deep nesting is no 500."""

import html
import json

import pytest
from django.urls import reverse

from apps.orders.models import Order
from apps.orders.services import order_upsert
from apps.orders.shopify_payload import order_from_rest
from apps.sync.models import Alert, WebhookReceipt
from apps.sync.pumps import pump_run
from apps.sync.receipts import ReceiptRejected, receipt_payload
from integrations.shopify.webhooks import webhook_signature
from tests.ops.factories import WebhookReceiptFactory
from tests.orders.factories import line_payload, next_id, order_payload, sku_mapping

SECRET = "test-shopify-secret"
pytestmark = pytest.mark.django_db(transaction=True)
NUL = "\x00"
REPLACED = "\ufffd"


def deep(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


def test_nul_bytes_in_a_shopify_order_are_replaced_and_the_raw_body_kept(client, settings):
    settings.SHOPIFY = {**settings.SHOPIFY, "WEBHOOK_SECRETS": [SECRET]}
    sku_mapping("TEE-BLK-M")
    payload = order_payload(
        lines=[line_payload(title=f"Tee{NUL}shirt")],
        tags=f"vip{NUL}",
        note=f"leave at door{NUL}",
    )
    payload["customer"] = {"id": next_id(), "first_name": f"Ada{NUL}", "last_name": "L"}
    payload["shipping_address"] = {**payload["shipping_address"], "address1": f"1 Road{NUL}"}
    body = json.dumps(payload).encode()
    assert b"\\u0000" in body

    response = client.post(
        reverse("webhook-shopify"),
        data=body,
        content_type="application/json",
        headers={
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": webhook_signature(body, SECRET),
            "X-Shopify-Webhook-Id": f"wh-{next_id()}",
        },
    )
    assert response.status_code == 200
    pump_run("receipts", once=True)

    receipt = WebhookReceipt.objects.get()
    assert receipt.status == WebhookReceipt.Status.APPLIED, receipt.error
    assert bytes(receipt.body) == body  # byte for byte, replayable
    order = Order.objects.get()
    assert order.customer_first_name == f"Ada{REPLACED}"
    assert order.shipping_address["address1"] == f"1 Road{REPLACED}"
    assert order.tags == f"vip{REPLACED}"
    assert order.lines.get().title == f"Tee{REPLACED}shirt"


def test_a_nul_in_a_shipbob_exception_is_replaced(settings):
    sku_mapping("TEE-BLK-M")
    order = order_upsert(data=order_from_rest(order_payload()), via="orders/create").order
    shipment = {
        "id": 555,
        "order_id": 77,
        "reference_id": str(order.shopify_id),
        "status": "Exception",
        "status_details": [{"name": "OutOfStock", "description": f"No stock{NUL}"}],
        "products": [],
    }
    WebhookReceiptFactory(
        source="shipbob",
        topic="order.shipment.exception",
        body=json.dumps(shipment).encode(),
        status="pending",
    )
    pump_run("receipts", once=True)

    receipt = WebhookReceipt.objects.get()
    assert receipt.status == WebhookReceipt.Status.APPLIED, receipt.error
    event = order.events.get(kind="warehouse.exception")
    assert f"No stock{REPLACED}" in event.message
    assert f"No stock{REPLACED}" in Alert.objects.get(kind="shipment.exception").message


def test_a_body_nested_too_deeply_is_refused_with_a_reason():
    receipt = WebhookReceiptFactory(body=deep(100_000))
    with pytest.raises(ReceiptRejected, match="nested too deeply"):
        receipt_payload(receipt)


def test_the_receipt_page_shows_a_deeply_nested_body_raw(client, ops_user):
    receipt = WebhookReceiptFactory(body=deep(100_000), status="failed")
    client.force_login(ops_user)

    response = client.get(reverse("ops:receipt-detail", args=[receipt.pk]))

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert '{"a":{"a":{"a":' in page
    assert "shown indented" not in page
