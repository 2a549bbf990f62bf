"""Standard Webhooks signatures and the four ShipBob shipment topics."""

import time
from datetime import UTC, datetime

import pytest

from integrations.shipbob.client import ShippedProduct
from integrations.shipbob.webhooks import shipment_event_from_payload, webhook_sign, webhook_verify
from tests.shipbob.test_client import order, shipment

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 - the spec's example secret
OTHER = "whsec_b3RoZXItc2VjcmV0LWZvci1yb3RhdGlvbg=="  # noqa: S105 - a test value
BODY = b'{"test": 2432232314}'


def headers(*, secret=SECRET, msg_id="msg_1", timestamp=None, body=BODY, signature=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature
        or webhook_sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body),
    }


def test_the_signature_matches_the_standard_webhooks_example():
    signature = webhook_sign(
        secret=SECRET, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330, body=BODY
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_good_delivery_verifies_whatever_the_header_case():
    given = {name.title(): value for name, value in headers().items()}
    assert webhook_verify(secret=SECRET, headers=given, body=BODY)


def test_a_tampered_body_is_refused():
    assert not webhook_verify(secret=SECRET, headers=headers(), body=BODY + b" ")


def test_another_secret_is_refused():
    assert not webhook_verify(secret=SECRET, headers=headers(secret=OTHER), body=BODY)


@pytest.mark.parametrize("skew", [-301, 301, -3600])
def test_stale_and_future_timestamps_are_refused(skew):
    now = 1_800_000_000
    given = headers(timestamp=now + skew)
    assert not webhook_verify(secret=SECRET, headers=given, body=BODY, now=now)
    assert webhook_verify(secret=SECRET, headers=given, body=BODY, now=now + skew)


def test_one_good_signature_among_several_is_enough_during_a_rotation():
    stamp = int(time.time())
    good = webhook_sign(secret=SECRET, msg_id="msg_1", timestamp=stamp, body=BODY)
    old = webhook_sign(secret=OTHER, msg_id="msg_1", timestamp=stamp, body=BODY)
    rotated = headers(timestamp=stamp, signature=f"{old} {good}")
    assert webhook_verify(secret=SECRET, headers=rotated, body=BODY)
    assert webhook_verify(secret=OTHER, headers=rotated, body=BODY)
    only_old = headers(timestamp=stamp, signature=old)
    assert not webhook_verify(secret=SECRET, headers=only_old, body=BODY)


@pytest.mark.parametrize(
    "broken",
    [
        {"webhook-id": ""},
        {"webhook-timestamp": "soon"},
        {"webhook-signature": ""},
        {"webhook-signature": "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
        {"webhook-signature": "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
    ],
)
def test_missing_or_malformed_headers_are_refused(broken):
    assert not webhook_verify(secret=SECRET, headers={**headers(), **broken}, body=BODY)


def test_an_unusable_secret_is_a_configuration_error():
    with pytest.raises(ValueError, match="whsec_"):
        webhook_verify(secret="whsec_not base64!", headers=headers(), body=BODY)


# --- payloads --------------------------------------------------------------------------------------
def test_order_shipped_carries_the_order_and_points_at_the_latest_parcel():
    first = shipment(id=501, actual_fulfillment_date="2026-07-01T10:00:00Z")
    second = shipment(
        id=502,
        actual_fulfillment_date="2026-07-02T10:00:00Z",
        tracking={"carrier": "UPS", "tracking_number": "1ZABC1230312345678", "tracking_url": "u"},
    )
    event = shipment_event_from_payload(
        "order.shipped", order(status="Fulfilled", shipments=[first, second])
    )
    assert (event.order_id, event.reference_id) == (9001, "5551234")
    assert len(event.order.shipments) == 2
    assert event.shipment.id == 502
    assert event.shipment.carrier == "UPS"


def test_a_bundle_ships_as_its_components():
    parcel = shipment(
        products=[
            {
                "reference_id": "GIFT-SET-01",
                "inventory_items": [
                    {"id": 700002, "quantity": 1},
                    {"id": 700005, "quantity": 1},
                ],
            }
        ]
    )
    event = shipment_event_from_payload("order.shipment.delivered", parcel)
    assert event.shipment.products == (
        ShippedProduct(700002, "GIFT-SET-01", 1),
        ShippedProduct(700005, "GIFT-SET-01", 1),
    )


def test_delivered_exception_and_cancelled_carry_one_shipment():
    delivered = shipment_event_from_payload(
        "order.shipment.delivered", shipment(delivery_date="2026-07-04T15:00:00+00:00")
    )
    assert delivered.shipment.delivered_at == datetime(2026, 7, 4, 15, tzinfo=UTC)
    assert (delivered.order_id, delivered.reference_id, delivered.order) == (9001, "5551234", None)

    exception = shipment_event_from_payload(
        "order.shipment.exception",
        shipment(
            status="Exception",
            tracking=None,
            actual_fulfillment_date=None,
            status_details=[{"name": "OutOfStock", "description": "No Stock On Hand For Sku"}],
        ),
    )
    assert exception.shipment.exception == "OutOfStock: No Stock On Hand For Sku"
    assert exception.shipment.shipped_at is None
    assert exception.shipment.tracking_number == ""

    cancelled = shipment_event_from_payload(
        "order.shipment.cancelled", shipment(status="Cancelled", tracking=None)
    )
    assert cancelled.shipment.status == "Cancelled"
    assert cancelled.shipment.exception == "Cancelled"


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("order.created", order()),
        ("order.shipped", ["not", "an", "object"]),
        ("order.shipped", {"reference_id": "1"}),
        ("order.shipped", {"id": 1}),
        ("order.shipment.delivered", {"order_id": 1}),
        ("order.shipment.delivered", shipment(order_id=None)),
        ("order.shipment.delivered", shipment(order_id="nine")),
        ("order.shipment.exception", shipment(id="x")),
    ],
)
def test_junk_is_refused(topic, payload):
    with pytest.raises(ValueError):  # noqa: PT011 - every kind of junk, one error type
        shipment_event_from_payload(topic, payload)
