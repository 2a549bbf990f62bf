"""ShipBob webhooks: Standard Webhooks signatures and the four shipment topics we subscribe to.

Signature: `webhook-signature` holds space-separated `v1,<base64>` values, each an HMAC-SHA256 over
"{webhook-id}.{webhook-timestamp}.{raw body}" keyed with the base64-decoded part of the `whsec_…`
secret. Several values appear while ShipBob rotates the secret: any one matching is enough.
Payloads (ShipBob's view models): `order.shipped` carries the whole order with its shipments;
`order.shipment.delivered / .exception / .cancelled` carry one shipment with order_id and
reference_id. The topic comes in `x-webhook-topic`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from integrations.shipbob.client import (
    ShipBobOrder,
    ShipBobShipment,
    order_from_payload,
    shipment_from_payload,
)

TOPIC_HEADER = "x-webhook-topic"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix, not a secret
DEFAULT_TOLERANCE_SECONDS = 300

ORDER_SHIPPED = "order.shipped"
SHIPMENT_DELIVERED = "order.shipment.delivered"
SHIPMENT_EXCEPTION = "order.shipment.exception"
SHIPMENT_CANCELLED = "order.shipment.cancelled"
SHIPMENT_TOPICS = frozenset({SHIPMENT_DELIVERED, SHIPMENT_EXCEPTION, SHIPMENT_CANCELLED})
TOPICS = frozenset({ORDER_SHIPPED, *SHIPMENT_TOPICS})


def _key(secret: str) -> bytes:
    """The HMAC key: base64-decode of what follows `whsec_` (ValueError for an unusable secret)."""
    encoded = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("ShipBob webhook secret is not whsec_ + base64") from None
    if not key:
        raise ValueError("ShipBob webhook secret is empty")
    return key


def webhook_sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `v1,<base64>` signature ShipBob would send for this message."""
    signed = f"{msg_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_verify(
    *,
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when one of the signatures matches and the timestamp is within the tolerance.

    Stale and future timestamps (replays, skewed clocks) are refused. An unusable secret raises
    ValueError: that is a configuration fault, not a bad delivery.
    """
    key = _key(secret)
    lowered = {str(name).lower(): value for name, value in headers.items()}
    msg_id = (lowered.get(ID_HEADER) or "").strip()
    stamp = (lowered.get(TIMESTAMP_HEADER) or "").strip()
    given = (lowered.get(SIGNATURE_HEADER) or "").strip()
    if not (msg_id and stamp and given):
        return False
    try:
        timestamp = int(stamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    )
    valid = False
    for candidate in given.split():
        version, _, signature = candidate.partition(",")
        if version != "v1" or not signature:
            continue
        # No early exit: each candidate is compared, so timing says nothing about which matched.
        valid |= hmac.compare_digest(expected, signature.encode())
    return valid


@dataclass(frozen=True)
class ShipmentEvent:
    """What one delivery says. `order` only for order.shipped; `shipment` is the one concerned
    (for order.shipped: the most recently shipped one — handlers should upsert all of
    `order.shipments`, which is what makes a split order's second delivery converge)."""

    topic: str
    order_id: int
    reference_id: str
    shipment: ShipBobShipment | None
    order: ShipBobOrder | None


def _latest_shipped(order: ShipBobOrder) -> ShipBobShipment | None:
    shipped = [s for s in order.shipments if s.shipped]
    if not shipped:
        return None
    return max(shipped, key=lambda s: (s.shipped_at.timestamp() if s.shipped_at else 0.0, s.id))


def shipment_event_from_payload(topic: str, payload: Any) -> ShipmentEvent:
    """Parse one delivery of our four topics; ValueError for an unknown topic or a junk payload."""
    if topic not in TOPICS:
        raise ValueError(f"unsupported ShipBob topic {topic!r}")
    if not isinstance(payload, dict):
        raise ValueError("ShipBob payload must be a JSON object")
    # Tolerate an envelope ({"data": {...}}) around the view model.
    if "id" not in payload and isinstance(payload.get("data"), dict):
        payload = payload["data"]
    if topic == ORDER_SHIPPED:
        order = order_from_payload(payload)
        return ShipmentEvent(
            topic=topic,
            order_id=order.id,
            reference_id=order.reference_id,
            shipment=_latest_shipped(order),
            order=order,
        )
    shipment = shipment_from_payload(payload)
    order_id: Any = payload.get("order_id")
    if isinstance(order_id, bool) or not isinstance(order_id, int | str):
        raise ValueError("a shipment event needs its order_id")
    try:
        order_id = int(order_id)
    except ValueError:
        raise ValueError(f"order_id {order_id!r} is not an integer") from None
    reference = payload.get("reference_id")
    return ShipmentEvent(
        topic=topic,
        order_id=order_id,
        reference_id="" if reference is None else str(reference),
        shipment=shipment,
        order=None,
    )
