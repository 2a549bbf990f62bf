"""Replay: a person puts dead outbox messages (or failed receipts) back in the queue, audited.

A dry run changes nothing and returns the messages as they are: what a replay would send
(peer, action, idempotency key, payload), so Ops can check before the external writes happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from apps.audit import verbs
from apps.audit.services import audit_record
from apps.sync.models import OutboxMessage, WebhookReceipt


@dataclass
class ReplayResult:
    dry_run: bool
    messages: Sequence[Model] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.messages)

    def writes(self) -> list[dict[str, Any]]:
        """The external writes an outbox replay makes (for the dry-run preview)."""
        return [
            {
                "id": m.pk,
                "peer": m.peer,
                "action": m.action,
                "idempotency_key": m.idempotency_key,
                "payload": m.payload,
            }
            for m in self.messages
            if isinstance(m, OutboxMessage)
        ]


def outbox_replay(
    *,
    actor: Any,
    ids: list[int] | None = None,
    peer: str | None = None,
    action: str | None = None,
    dry_run: bool = False,
) -> ReplayResult:
    """Dead messages matching every given filter go back to pending, each with an audit row."""
    if ids is None and peer is None and action is None:
        raise ValueError("Say which messages to replay: ids, a peer or an action.")
    rows = OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD).order_by("id")
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    if peer is not None:
        rows = rows.filter(peer=peer)
    if action is not None:
        rows = rows.filter(action=action)
    if dry_run:
        return ReplayResult(dry_run=True, messages=list(rows))
    with transaction.atomic():
        messages = list(rows.select_for_update())
        now = timezone.now()
        for message in messages:
            audit_record(
                actor=actor,
                verb=verbs.OUTBOX_REPLAYED,
                target=message,
                data={
                    "peer": message.peer,
                    "action": message.action,
                    "idempotency_key": message.idempotency_key,
                    "attempts": message.attempts,
                    "last_error": message.last_error,
                },
            )
            message.status = OutboxMessage.Status.PENDING
            message.attempts = 0
            message.next_attempt_at = now
            message.claimed_until = None
            message.save(
                update_fields=[
                    "status",
                    "attempts",
                    "next_attempt_at",
                    "claimed_until",
                    "updated_at",
                ]
            )
    return ReplayResult(dry_run=False, messages=messages)


def receipt_replay(*, actor: Any, ids: list[int], dry_run: bool = False) -> ReplayResult:
    """Failed receipts go back to pending (re-applied byte for byte), each with an audit row."""
    rows = WebhookReceipt.objects.filter(status=WebhookReceipt.Status.FAILED, pk__in=ids).order_by(
        "id"
    )
    if dry_run:
        return ReplayResult(dry_run=True, messages=list(rows))
    with transaction.atomic():
        receipts = list(rows.select_for_update())
        for receipt in receipts:
            audit_record(
                actor=actor,
                verb=verbs.RECEIPT_REPLAYED,
                target=receipt,
                data={
                    "source": receipt.source,
                    "topic": receipt.topic,
                    "delivery_id": receipt.delivery_id,
                    "attempts": receipt.attempts,
                    "error": receipt.error,
                },
            )
            receipt.status = WebhookReceipt.Status.PENDING
            receipt.attempts = 0
            receipt.claimed_until = None
            receipt.save(update_fields=["status", "attempts", "claimed_until"])
    return ReplayResult(dry_run=False, messages=receipts)
