"""Rows of the sync plumbing for the ops pages' tests (and the role matrix)."""

import json

import factory
from django.utils import timezone

from apps.sync.models import Alert, OutboxMessage, WebhookReceipt


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    kind = "outbox.dead"
    severity = Alert.Severity.WARNING
    dedupe_key = factory.Sequence(lambda n: f"alert-{n}")
    message = factory.Sequence(lambda n: f"Something needs a person ({n})")
    link = ""


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxMessage

    peer = "shipbob"
    action = "create_order"
    idempotency_key = factory.Sequence(lambda n: f"shipbob:order:{1000 + n}")
    payload = factory.LazyAttribute(lambda o: {"reference_id": o.idempotency_key, "items": []})
    status = OutboxMessage.Status.PENDING
    next_attempt_at = factory.LazyFunction(timezone.now)

    class Params:
        dead = factory.Trait(
            status=OutboxMessage.Status.DEAD,
            attempts=8,
            last_error="422 Unprocessable: inventory item 'SKU-X' does not exist",
        )


class WebhookReceiptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookReceipt

    source = "shopify"
    delivery_id = factory.Sequence(lambda n: f"delivery-{n}")
    topic = "orders/create"
    headers = factory.LazyFunction(lambda: {"X-Shopify-Topic": "orders/create"})
    body = factory.Sequence(lambda n: json.dumps({"id": 820982911946154500 + n}).encode())
    status = WebhookReceipt.Status.APPLIED

    class Params:
        failed = factory.Trait(
            status=WebhookReceipt.Status.FAILED,
            attempts=1,
            error="KeyError: 'line_items'",
        )
