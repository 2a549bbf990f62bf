"""Inbound: webhook_receive (size cap, verify, dedupe) and the receipts pump (apply, ignore, fail)."""

import hashlib
import hmac

import pytest
from django.test import RequestFactory

from apps.sync.alerts import alert_raise
from apps.sync.models import Alert, WebhookReceipt, WebhookRejection
from apps.sync.pumps import pump_run
from apps.sync.receipts import ReceiptRejected, receipt_handler, webhook_receive

pytestmark = pytest.mark.django_db
SECRET = b"s3cret"


def sign(body: bytes) -> str:
    return hmac.new(SECRET, body, hashlib.sha256).hexdigest()


def verify(request, body: bytes) -> bool:
    return hmac.compare_digest(request.headers.get("X-Test-Signature", ""), sign(body))


def receive(body: bytes, *, delivery="d-1", signature=None, **extra):
    request = RequestFactory().post(
        "/hooks/test",
        data=body,
        content_type="application/json",
        headers={
            "X-Test-Signature": sign(body) if signature is None else signature,
            "X-Test-Delivery": delivery,
            "X-Test-Topic": "orders/create",
        },
        **extra,
    )
    return webhook_receive(
        request,
        source="testsrc",
        verify=verify,
        delivery_id=lambda r: r.headers.get("X-Test-Delivery", ""),
        topic=lambda r: r.headers.get("X-Test-Topic", ""),
    )


def test_a_verified_delivery_is_stored_raw_with_lowercased_headers():
    body = b'{"id": 1, "note": "caf\xc3\xa9"}'
    response = receive(body)
    assert response.status_code == 200
    receipt = WebhookReceipt.objects.get()
    assert receipt.body_bytes() == body
    assert (receipt.source, receipt.delivery_id, receipt.topic) == (
        "testsrc",
        "d-1",
        "orders/create",
    )
    assert receipt.headers["x-test-signature"] == sign(body)
    assert all(name == name.lower() for name in receipt.headers)
    assert receipt.status == WebhookReceipt.Status.PENDING


def test_duplicate_delivery_is_acknowledged_once():
    body = b'{"id": 1}'
    assert receive(body).status_code == 200
    assert receive(body).status_code == 200
    assert receive(b'{"id": 1, "again": true}').status_code == 200
    assert WebhookReceipt.objects.count() == 1
    assert WebhookReceipt.objects.get().body_bytes() == body


def test_missing_delivery_id_falls_back_to_the_body_hash():
    assert receive(b"{}", delivery="").status_code == 200
    assert receive(b"{}", delivery="").status_code == 200
    receipt = WebhookReceipt.objects.get()
    assert receipt.delivery_id == "sha256:" + hashlib.sha256(b"{}").hexdigest()


def test_bad_signature_is_401_counted_alerted_and_nothing_stored():
    response = receive(b'{"id": 1}', signature="forged")
    assert response.status_code == 401
    receive(b'{"id": 2}', signature="forged")
    assert not WebhookReceipt.objects.exists()
    rejection = WebhookRejection.objects.get(source="testsrc", reason="bad_signature")
    assert rejection.count == 2
    alert = Alert.objects.get(dedupe_key="webhook.bad_signature:testsrc")
    assert alert.count == 2
    assert alert.status == Alert.Status.OPEN


def test_a_verifier_that_raises_counts_as_a_bad_signature():
    def exploding(request, body):
        raise ValueError("malformed header")

    request = RequestFactory().post("/h", data=b"{}", content_type="application/json")
    response = webhook_receive(
        request, source="testsrc", verify=exploding, delivery_id=lambda r: "x", topic=lambda r: ""
    )
    assert response.status_code == 401
    assert not WebhookReceipt.objects.exists()


def test_oversize_body_is_413_and_not_stored(settings):
    settings.SYNC = {**settings.SYNC, "WEBHOOK_MAX_BYTES": 64}
    assert receive(b"x" * 64).status_code == 200
    assert receive(b"y" * 65, delivery="d-2").status_code == 413
    assert WebhookReceipt.objects.count() == 1
    assert WebhookRejection.objects.get(reason="too_large").count == 1


def test_declared_content_length_over_the_cap_is_refused_before_reading(settings):
    settings.SYNC = {**settings.SYNC, "WEBHOOK_MAX_BYTES": 64}
    response = receive(b"{}", CONTENT_LENGTH="10000000")
    assert response.status_code == 413
    assert not WebhookReceipt.objects.exists()


def test_only_post_is_accepted():
    request = RequestFactory().get("/h")
    response = webhook_receive(
        request, source="testsrc", verify=verify, delivery_id=lambda r: "", topic=lambda r: ""
    )
    assert response.status_code == 405
    assert not WebhookReceipt.objects.exists()


def test_receipts_pump_applies_ignores_and_fails(sync_registry):
    @receipt_handler("testsrc")
    def apply(receipt):
        body = receipt.body_bytes()
        if body == b"bad":
            raise ReceiptRejected("no order id in payload")
        if body == b"boom":
            # Written, then rolled back with the receipt's transaction.
            alert_raise(kind="test", dedupe_key="written-before-crash", message="x")
            raise ZeroDivisionError("division by zero")
        return body == b"apply"

    for n, body in enumerate([b"apply", b"old", b"bad", b"boom"]):
        WebhookReceipt.objects.create(source="testsrc", delivery_id=str(n), topic="t", body=body)
    WebhookReceipt.objects.create(source="unhandled", delivery_id="9", body=b"apply")

    stats = pump_run("receipts", once=True)
    status = {bytes(r.body): r for r in WebhookReceipt.objects.all()}
    assert (stats.applied, stats.ignored, stats.failed) == (1, 1, 2)
    assert status[b"apply"].status == "applied"
    assert status[b"apply"].applied_at is not None
    assert status[b"old"].status == "ignored"
    assert status[b"bad"].status == "failed"
    assert status[b"bad"].error == "no order id in payload"
    assert status[b"boom"].status == "failed"
    assert status[b"boom"].error == "ZeroDivisionError: division by zero"
    assert not Alert.objects.filter(dedupe_key="written-before-crash").exists()
    assert Alert.objects.filter(kind="receipt.failed").count() == 1  # same source and topic
    # A source nobody handles is left pending, not failed.
    assert WebhookReceipt.objects.get(source="unhandled").status == "pending"


def test_a_receipt_whose_applier_died_is_claimed_again(sync_registry, time_machine, settings):
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    time_machine.move_to(t0, tick=False)
    settings.SYNC = {**settings.SYNC, "CLAIM_SECONDS": 30}
    applied = []
    receipt_handler("testsrc")(lambda r: applied.append(r.pk) or True)
    receipt = WebhookReceipt.objects.create(
        source="testsrc",
        delivery_id="1",
        body=b"{}",
        status=WebhookReceipt.Status.APPLYING,
        attempts=1,
        claimed_until=t0 + timedelta(seconds=5),
    )
    assert pump_run("receipts", once=True).claimed == 0
    time_machine.shift(6)
    assert pump_run("receipts", once=True).applied == 1
    receipt.refresh_from_db()
    assert receipt.status == "applied"
    assert receipt.attempts == 2
    assert applied == [receipt.pk]
