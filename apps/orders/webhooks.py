"""Webhooks in (Shopify, ShipBob): verified, stored raw, acknowledged at once; applied by the receipts pump."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.orders.services import order_upsert, refund_record
from apps.orders.shopify_payload import PayloadError, order_from_rest, refund_from_rest
from apps.orders.warehouse import shipment_record
from apps.sync.models import WebhookReceipt
from apps.sync.receipts import (
    ReceiptRejected,
    receipt_handler,
    receipt_payload,
    webhook_receive,
)
from integrations.shipbob.webhooks import shipment_event_from_payload
from integrations.shipbob.webhooks import webhook_verify as shipbob_webhook_verify
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
    payload = receipt_payload(receipt)
    try:
        if topic == "refunds/create":
            refund_record(data=refund_from_rest(payload.get("refund", payload)))
            return True
        return order_upsert(data=order_from_rest(payload), via=topic, receipt_id=receipt.pk).applied
    except PayloadError as error:
        raise ReceiptRejected(str(error)) from None


# --- ShipBob (Standard Webhooks) -----------------------------------------------------------------
SHIPBOB = "shipbob"


def _shipbob_verify(request: HttpRequest, body: bytes) -> bool:
    return shipbob_webhook_verify(
        secret=settings.SHIPBOB["WEBHOOK_SECRET"], headers=request.headers, body=body
    )


@csrf_exempt
@require_POST
def shipbob_webhook(request: HttpRequest) -> HttpResponse:
    return webhook_receive(
        request,
        source=SHIPBOB,
        verify=_shipbob_verify,
        delivery_id=lambda r: r.headers.get("webhook-id", ""),
        topic=lambda r: r.headers.get("x-webhook-topic", ""),
    )


@receipt_handler(SHIPBOB)
def shipbob_receipt_apply(receipt: WebhookReceipt) -> bool:
    """Apply a stored ShipBob event: a parcel shipped, delivered, hit an exception or was cancelled."""
    try:
        event = shipment_event_from_payload(receipt.topic, receipt_payload(receipt))
    except ValueError as error:
        raise ReceiptRejected(f"unusable ShipBob event: {error}") from None
    # order.shipped carries the whole order: record every parcel in it (idempotent per parcel).
    if event.order is not None and receipt.topic == "order.shipped":
        shipments = [shipment for shipment in event.order.shipments if shipment.shipped]
    else:
        shipments = [event.shipment] if event.shipment is not None else []
    if not shipments:
        logger.info("ShipBob %s for order %s carries no parcel", receipt.topic, event.order_id)
        return False
    try:
        for shipment in shipments:
            shipment_record(
                reference_id=event.reference_id,
                shipbob_order_id=event.order_id,
                shipment=shipment,
                topic=receipt.topic,
            )
    except LookupError as error:
        raise ReceiptRejected(str(error)) from None
    return True
