"""Inbound: store a peer's webhook delivery raw and fast, then apply it later through a handler.

The view does only this: cap the size (413), verify (401, counted), insert-or-ignore the
`WebhookReceipt` (a duplicate delivery is the same row and still answers 200). The receipts pump
claims pending receipts and calls the handler the owning app registered for the source:

    @receipt_handler("shopify")
    def shopify_receipt_apply(receipt: WebhookReceipt) -> bool:   # True = applied, False = ignored
        ...                                                       # raise ReceiptRejected("why") if unusable

Each receipt is applied in its own transaction; if the handler raises, its writes roll back and the
receipt becomes `failed` with the reason (replayable after a fix). The webhook view itself must be
`csrf_exempt` and is owned by the peer's app; it calls `webhook_receive(request, source=..., ...)`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connection, transaction
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from apps.sync import registry
from apps.sync.alerts import RECEIPT_FAILED, WEBHOOK_BAD_SIGNATURE, alert_clear, alert_raise
from apps.sync.metrics import WEBHOOK_ACK_SECONDS
from apps.sync.models import Alert, WebhookReceipt, WebhookRejection
from apps.sync.stats import PumpStats
from integrations.http import text_clean

logger = logging.getLogger(__name__)

RECEIPT_BATCH = 50
# Headers never stored with a receipt: webhooks carry none, and a browser-sent cookie is a secret.
_DROPPED_HEADERS = frozenset({"cookie"})


class ReceiptRejected(Exception):
    """The payload is unusable (malformed, missing what the handler needs): the receipt fails."""


def receipt_handler(source: str) -> Callable[..., Any]:
    """Register `handler(receipt) -> bool` as the applier of every receipt from `source`."""

    def decorator(handler: Callable[[WebhookReceipt], bool]) -> Callable[[WebhookReceipt], bool]:
        registry.receipt_handler_register(source, handler)
        return handler

    return decorator


def _rejection_count(*, source: str, reason: str) -> None:
    now = timezone.now()
    WebhookRejection.objects.bulk_create(
        [WebhookRejection(source=source, reason=reason, count=0, last_rejected_at=now)],
        ignore_conflicts=True,
    )
    WebhookRejection.objects.filter(source=source, reason=reason).update(
        count=F("count") + 1, last_rejected_at=now
    )


def webhook_receive(
    request: HttpRequest,
    *,
    source: str,
    verify: Callable[[HttpRequest, bytes], bool],
    delivery_id: Callable[[HttpRequest], str],
    topic: Callable[[HttpRequest], str],
) -> HttpResponse:
    """Store one delivery and answer at once: 200 (stored or duplicate), 401, 405 or 413."""
    started = time.perf_counter()
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    limit = settings.SYNC["WEBHOOK_MAX_BYTES"]
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        _rejection_count(source=source, reason=WebhookRejection.Reason.TOO_LARGE)
        return HttpResponse("payload too large", status=413, content_type="text/plain")
    try:
        body = request.body
    except RequestDataTooBig:
        body = None
    if body is None or len(body) > limit:
        _rejection_count(source=source, reason=WebhookRejection.Reason.TOO_LARGE)
        return HttpResponse("payload too large", status=413, content_type="text/plain")

    try:
        verified = bool(verify(request, body))
    except Exception:
        # A verifier that cannot parse the signature header has not verified anything.
        logger.warning("webhook verify raised for source=%s", source, exc_info=True)
        verified = False
    if not verified:
        with transaction.atomic():
            _rejection_count(source=source, reason=WebhookRejection.Reason.BAD_SIGNATURE)
            alert_raise(
                kind=WEBHOOK_BAD_SIGNATURE.name,
                dedupe_key=f"webhook.bad_signature:{source}",
                message=f"A {source} webhook failed signature verification and was refused (401).",
            )
        return HttpResponse("invalid signature", status=401, content_type="text/plain")

    # Without a delivery id the body's hash still collapses byte-identical redeliveries.
    key = (delivery_id(request) or "").strip() or f"sha256:{hashlib.sha256(body).hexdigest()}"
    headers = {
        name.lower(): value
        for name, value in request.headers.items()
        if name.lower() not in _DROPPED_HEADERS
    }
    # INSERT ... ON CONFLICT DO NOTHING: a duplicate is a no-op, and the transaction stays usable.
    WebhookReceipt.objects.bulk_create(
        [
            WebhookReceipt(
                source=source,
                delivery_id=key[:200],
                topic=(topic(request) or "")[:100],
                headers=headers,
                body=body,
            )
        ],
        ignore_conflicts=True,
    )
    WEBHOOK_ACK_SECONDS.labels(source).observe(time.perf_counter() - started)
    return HttpResponse("ok", content_type="text/plain")


def receipts_claim(*, limit: int = RECEIPT_BATCH) -> list[WebhookReceipt]:
    """Claim pending receipts (and ones whose applier died) oldest first; commits before returning."""
    sources = registry.receipt_sources()
    if not sources:
        return []
    now = timezone.now()
    claimed_until = now + timedelta(seconds=settings.SYNC["CLAIM_SECONDS"])
    due = (
        WebhookReceipt.objects.filter(source__in=sources)
        .filter(
            Q(status=WebhookReceipt.Status.PENDING)
            | Q(status=WebhookReceipt.Status.APPLYING, claimed_until__lte=now)
        )
        .order_by("received_at", "id")
        .only("id", "status", "attempts")
    )
    with transaction.atomic(durable=True):
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        candidates = list(due[:limit])
        ids = [
            row.pk
            for row in candidates
            # Compare-and-set: on SQLite (no row locks) this is what keeps two claimers apart.
            if WebhookReceipt.objects.filter(
                pk=row.pk, status=row.status, attempts=row.attempts
            ).update(
                status=WebhookReceipt.Status.APPLYING,
                claimed_until=claimed_until,
                attempts=F("attempts") + 1,
            )
        ]
    return list(WebhookReceipt.objects.filter(pk__in=ids).order_by("received_at", "id"))


def receipt_payload(receipt: WebhookReceipt) -> Any:
    """The receipt's raw body as JSON, ready to store: NULs and lone surrogates in every string
    become U+FFFD (PostgreSQL refuses them); the stored raw body stays byte for byte as received.
    ReceiptRejected when it is not JSON or nests too deeply to read."""
    try:
        return text_clean(json.loads(bytes(receipt.body)))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReceiptRejected(f"the body is not JSON: {error}") from None
    except RecursionError:
        raise ReceiptRejected("the body is nested too deeply to read") from None


def _failed_key(source: str, topic: str) -> str:
    return f"{RECEIPT_FAILED.name}:{source}:{topic}"


def _receipt_failed_alerts_clear(applied: set[tuple[str, str]]) -> None:
    """Resolve `receipt.failed` for each source/topic just applied that has no failed receipt left."""
    open_keys = set(
        Alert.objects.filter(kind=RECEIPT_FAILED.name)
        .exclude(status=Alert.Status.RESOLVED)
        .values_list("dedupe_key", flat=True)
    )
    for source, topic in applied:
        key = _failed_key(source, topic)
        if (
            key in open_keys
            and not WebhookReceipt.objects.filter(
                source=source, topic=topic, status=WebhookReceipt.Status.FAILED
            ).exists()
        ):
            alert_clear(dedupe_key=key, reason="no failed receipt left: replayed and applied")


def _receipt_fail(receipt: WebhookReceipt, error: str) -> bool:
    error = text_clean(error)  # a message quoting the payload must not fail to save in its turn
    with transaction.atomic(durable=True):
        failed = WebhookReceipt.objects.filter(
            pk=receipt.pk, status=WebhookReceipt.Status.APPLYING, attempts=receipt.attempts
        ).update(status=WebhookReceipt.Status.FAILED, error=error, claimed_until=None)
        if failed:
            alert_raise(
                kind=RECEIPT_FAILED.name,
                dedupe_key=_failed_key(receipt.source, receipt.topic),
                message=f"A {receipt.source} {receipt.topic} receipt could not be applied: {error}"[
                    :2000
                ],
            )
    return bool(failed)


def receipt_apply(receipt: WebhookReceipt) -> str:
    """Apply one claimed receipt in its own transaction; return the status it ended in."""
    handler = registry.receipt_handler_get(receipt.source)
    if handler is None:
        _receipt_fail(receipt, f"no handler registered for source {receipt.source!r}")
        return WebhookReceipt.Status.FAILED
    if receipt.attempts > settings.SYNC["MAX_ATTEMPTS"]:
        # Its applier kept dying mid-apply: stop retrying and show it to a person.
        _receipt_fail(receipt, f"gave up after {receipt.attempts - 1} interrupted attempts")
        return WebhookReceipt.Status.FAILED
    try:
        with transaction.atomic(durable=True):
            current = (
                WebhookReceipt.objects.select_for_update()
                .filter(
                    pk=receipt.pk, status=WebhookReceipt.Status.APPLYING, attempts=receipt.attempts
                )
                .first()
            )
            if current is None:
                return "lost"
            status = (
                WebhookReceipt.Status.APPLIED if handler(current) else WebhookReceipt.Status.IGNORED
            )
            WebhookReceipt.objects.filter(pk=receipt.pk).update(
                status=status, applied_at=timezone.now(), error="", claimed_until=None
            )
    except ReceiptRejected as exc:
        _receipt_fail(receipt, str(exc) or "rejected by its handler")
        return WebhookReceipt.Status.FAILED
    except Exception as exc:
        logger.exception("applying receipt %s (%s) failed", receipt.pk, receipt.source)
        _receipt_fail(receipt, f"{type(exc).__name__}: {exc}")
        return WebhookReceipt.Status.FAILED
    return status


def receipts_pump_step(*, stats: PumpStats | None = None) -> int:
    """Claim one batch of receipts and apply each; return how many were claimed."""
    stats = stats or PumpStats(name=registry.RECEIPTS_PUMP)
    batch = receipts_claim()
    stats.claimed += len(batch)
    applied: set[tuple[str, str]] = set()
    for receipt in batch:
        try:
            status = receipt_apply(receipt)
        except Exception:
            # Even recording the failure failed (database trouble): the claim expires and it is retried.
            logger.exception("receipt %s could not be settled", receipt.pk)
            stats.errors += 1
            continue
        if status in (WebhookReceipt.Status.APPLIED, WebhookReceipt.Status.IGNORED):
            applied.add((receipt.source, receipt.topic))
        if status == WebhookReceipt.Status.APPLIED:
            stats.applied += 1
        elif status == WebhookReceipt.Status.IGNORED:
            stats.ignored += 1
        elif status == WebhookReceipt.Status.FAILED:
            stats.failed += 1
        else:
            stats.lost += 1
    if applied:
        _receipt_failed_alerts_clear(applied)
    return len(batch)
