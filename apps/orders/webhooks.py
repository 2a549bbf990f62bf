"""Shopify webhooks in: verified, stored raw, acknowledged at once; applied later by the receipts pump."""

import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.orders.services import order_upsert, refund_record
from apps.orders.shopify_payload import PayloadError, order_from_rest, refund_from_rest
from apps.sync.models import WebhookReceipt
from apps.sync.receipts import ReceiptRejected, receipt_handler, webhook_receive
from integrations.shopify.webhooks import COMPLIANCE_TOPICS, ORDER_TOPICS, webhook_verify

logger = logging.getLogger(__name__)
SOURCE = "shopify"


def _verify(request: HttpRequest, body: bytes) -> bool:
    return webhook_verify(
        body, request.headers.get("X-Shopify-Hmac-Sha256"), settings.SHOPIFY["WEBHOOK_SECRETS"]
    )


@csrf_exempt
@require_POST
def shopify_webhook(request: HttpRequest) -> HttpResponse:
    return webhook_receive(
        request,
        source=SOURCE,
        verify=_verify,
        delivery_id=lambda r: r.headers.get("X-Shopify-Webhook-Id", ""),
        topic=lambda r: r.headers.get("X-Shopify-Topic", ""),
    )


@receipt_handler(SOURCE)
def shopify_receipt_apply(receipt: WebhookReceipt) -> bool:
    """Apply one stored Shopify delivery; an unusable payload fails the receipt with the reason."""
    topic = receipt.topic
    if topic in COMPLIANCE_TOPICS:
        # We hold order data only as long as the brand does; the request is recorded for the admin.
        logger.info("Shopify compliance webhook %s received (receipt %s)", topic, receipt.pk)
        return True
    if topic not in ORDER_TOPICS:
        raise ReceiptRejected(f"topic {topic!r} is not one we subscribe to")
    try:
        payload = json.loads(bytes(receipt.body))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReceiptRejected(f"the body is not JSON: {error}") from None
    try:
        if topic == "refunds/create":
            refund_record(data=refund_from_rest(payload.get("refund", payload)))
            return True
        return order_upsert(data=order_from_rest(payload), via=topic, receipt_id=receipt.pk).applied
    except PayloadError as error:
        raise ReceiptRejected(str(error)) from None
