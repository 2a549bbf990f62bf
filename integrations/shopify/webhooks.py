"""Shopify webhook signatures: base64(HMAC-SHA256(raw body, app secret)), checked in constant time."""

import base64
import hashlib
import hmac
from collections.abc import Iterable

ORDER_TOPICS = frozenset(
    {"orders/create", "orders/updated", "orders/cancelled", "orders/paid", "refunds/create"}
)
COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})


def webhook_signature(body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_verify(body: bytes, signature: str | None, secrets: Iterable[str]) -> bool:
    """True when any of the secrets (several during a rotation) signed exactly these bytes."""
    if not signature:
        return False
    given = signature.strip().encode()
    valid = False
    for secret in secrets:
        if secret:
            # No early exit: every secret is compared, so timing says nothing about which one matched.
            valid |= hmac.compare_digest(webhook_signature(body, secret).encode(), given)
    return valid
