"""Outbound: the transactional outbox and the per-peer sender that drains it.

Enqueue in the same transaction as the domain change that implies the write:

    with transaction.atomic():
        order.status = Order.Status.SUBMITTING
        order.save()
        outbox_enqueue(peer="shipbob", action="order_create",
                       idempotency_key=f"shipbob.order_create:{order.shopify_id}",
                       payload={"order_id": order.pk}, priority=10, subject=order)

Register the sender once per (peer, action), at import time:

    def order_submitted(message: OutboxMessage, result: dict) -> None: ...   # store the peer's ids
    def order_submit_dead(message: OutboxMessage, error: PeerError) -> None: ...  # show the error

    @outbox_action("shipbob", "order_create", batch_size=1, on_done=order_submitted, on_dead=order_submit_dead)
    def shipbob_order_create(messages: list[OutboxMessage]) -> list[Sent | Failed]:
        ...   # one outcome per message, in order; raise PeerError to fail the whole batch

The pump claims a batch (same action, priority then due time; `FOR UPDATE SKIP LOCKED` on PostgreSQL,
compare-and-set elsewhere), commits the claim, calls `send` outside any transaction, then settles each
message in its own transaction:

- `Sent(result)` → `done`; `on_done(message, result)` runs inside that transaction, so the domain row
  and the message commit together (or neither does, and the message is re-sent with the same key);
- `Failed(error)` retryable → `pending` again at now + max(backoff with full jitter, Retry-After);
- `Failed(error)` permanent, or the last allowed attempt → `dead`, `last_error` kept, an `outbox.dead`
  alert raised and `on_dead(message, error)` called, inside the same transaction;
- a `BudgetExhausted` refusal (nothing reached the peer) → `pending` at the budget's wait, attempt refunded.

`send` must be idempotent on `message.idempotency_key`: a worker can die between the peer's success and
our commit, and the message is then claimed again once `claimed_until` passes.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.sync import links, registry
from apps.sync.alerts import OUTBOX_DEAD, alert_clear, alert_raise
from apps.sync.models import Alert, OutboxMessage
from apps.sync.stats import PumpStats
from integrations.http import BudgetExhausted, PeerError

logger = logging.getLogger(__name__)


@dataclass
class Sent:
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class Failed:
    error: PeerError


OutboxOutcome = Sent | Failed


def outbox_action(
    peer: str,
    action: str,
    *,
    batch_size: int = 1,
    on_done: Callable[[OutboxMessage, dict[str, Any]], None] | None = None,
    on_dead: Callable[[OutboxMessage, PeerError], None] | None = None,
    ordered: bool = False,
    max_attempts: int | None = None,
) -> Callable[..., Any]:
    """Register `send(messages) -> list[Sent | Failed]` for (peer, action); see the module docstring.

    `ordered`: first in, first out (the oldest unsettled message blocks the ones behind it).
    `max_attempts`: this action's attempts before `dead` (default: the peer's retry policy).
    """

    def decorator(send: Callable[[list[OutboxMessage]], list[OutboxOutcome]]) -> Callable[..., Any]:
        registry.action_register(
            registry.ActionRegistration(
                peer=peer,
                action=action,
                send=send,
                batch_size=batch_size,
                on_done=on_done,
                on_dead=on_dead,
                ordered=ordered,
                max_attempts=max_attempts,
            )
        )
        return send

    return decorator


def outbox_enqueue(
    *,
    peer: str,
    action: str,
    idempotency_key: str,
    payload: dict[str, Any],
    priority: int = 50,
    subject: models.Model | None = None,
) -> OutboxMessage:
    """Record a write to a peer; call it inside the transaction that makes the domain change.

    Idempotent on the key: enqueuing the same key again returns the existing message unchanged.
    """
    if not idempotency_key or len(idempotency_key) > 200:
        raise ValueError("idempotency_key must be 1 to 200 characters")
    if registry.action_get(peer, action) is None:
        logger.warning("outbox: no sender registered for %s.%s (yet)", peer, action)
    message = OutboxMessage(
        peer=peer,
        action=action,
        idempotency_key=idempotency_key,
        payload=payload,
        priority=priority,
        subject_type=subject._meta.label_lower if subject is not None else "",
        subject_id=str(subject.pk) if subject is not None else "",
    )
    # ON CONFLICT DO NOTHING keeps the caller's transaction usable when the key already exists.
    OutboxMessage.objects.bulk_create([message], ignore_conflicts=True)
    existing = OutboxMessage.objects.get(idempotency_key=idempotency_key)
    if (existing.peer, existing.action) != (peer, action):
        raise ValueError(
            f"idempotency key {idempotency_key!r} already belongs to {existing.peer}.{existing.action}"
        )
    return existing


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    max_seconds: float
    # The jitter's floor as a share of the backoff: 0 = full jitter; 0.5 = "equal jitter", which
    # bounds how many attempts a fault window of a given length can use up.
    min_fraction: float = 0.0


def outbox_retry_policy(peer: str = "") -> RetryPolicy:
    """SYNC's retry settings, with the peer's own overrides (SYNC_PEER_RETRY[peer]) on top."""
    merged = {**settings.SYNC, **settings.SYNC_PEER_RETRY.get(peer, {})}
    return RetryPolicy(
        max_attempts=int(merged["MAX_ATTEMPTS"]),
        base_seconds=float(merged["BACKOFF_BASE_SECONDS"]),
        max_seconds=float(merged["BACKOFF_MAX_SECONDS"]),
        min_fraction=float(merged.get("BACKOFF_MIN_FRACTION", 0.0)),
    )


def outbox_backoff_seconds(
    *,
    attempts: int,
    retry_after: float | None = None,
    rand: Callable[[], float] = random.random,
    peer: str = "",
) -> float:
    """Delay before the next attempt: jitter over min(max, base·2^(attempts−1)), ≥ Retry-After."""
    policy = outbox_retry_policy(peer)
    backoff: float = min(policy.max_seconds, policy.base_seconds * 2 ** max(0, attempts - 1))
    jitter = policy.min_fraction + (1.0 - policy.min_fraction) * rand()
    return max(backoff * jitter, retry_after or 0.0)


def _dead_key(peer: str, action: str) -> str:
    return f"{OUTBOX_DEAD.name}:{peer}.{action}"


def _max_attempts(reg: registry.ActionRegistration) -> int:
    return reg.max_attempts or outbox_retry_policy(reg.peer).max_attempts


def _outbox_dead_alert_clear(peer: str, action: str) -> None:
    """After a message of (peer, action) is done: resolve its `outbox.dead` once none is left dead."""
    key = _dead_key(peer, action)
    if not Alert.objects.filter(dedupe_key=key).exclude(status=Alert.Status.RESOLVED).exists():
        return
    dead = OutboxMessage.objects.filter(peer=peer, action=action, status=OutboxMessage.Status.DEAD)
    if not dead.exists():
        alert_clear(dedupe_key=key, reason="no dead message left: replayed and done")


def _outbox_dead(
    message: OutboxMessage, error: PeerError, reg: registry.ActionRegistration | None
) -> None:
    """Mark a locked message dead, alert, and let the owning app record it (caller's transaction)."""
    message.status = OutboxMessage.Status.DEAD
    message.last_error = str(error)[:10_000]
    message.claimed_until = None
    message.save(update_fields=["status", "last_error", "claimed_until", "updated_at"])
    alert_raise(
        kind=OUTBOX_DEAD.name,
        severity="critical" if message.priority <= 10 else "warning",
        dedupe_key=_dead_key(message.peer, message.action),
        message=(
            f"{message.peer}.{message.action} {message.idempotency_key} is dead after "
            f"{message.attempts} attempt(s): {error.message}"
        )[:2000],
        link=links.link_for(links.OUTBOX_DEAD, peer=message.peer, action=message.action),
    )
    if reg is not None and reg.on_dead is not None:
        reg.on_dead(message, error)


def outbox_claim(
    *, peer: str, stats: PumpStats | None = None
) -> tuple[registry.ActionRegistration | None, list[OutboxMessage]]:
    """Claim the next batch for a peer (one action, highest priority first); commits before returning.

    Claiming sets `in_flight`, `claimed_until` and attempts+1, so a claimer that dies frees the
    message when the claim expires, and the next send carries the same idempotency key.
    """
    actions = registry.actions_for_peer(peer)
    if not actions:
        return None, []
    now = timezone.now()
    due = (
        OutboxMessage.objects.filter(peer=peer, action__in=actions)
        .filter(
            Q(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
            | Q(status=OutboxMessage.Status.IN_FLIGHT, claimed_until__lte=now)
        )
        .order_by("priority", "next_attempt_at", "id")
    )
    with transaction.atomic(durable=True):
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        head = due.only("id", "action").first()
        if head is None:
            return None, []
        reg = registry.action_get(peer, head.action)
        if reg is None:  # unregistered since `actions` was read (tests swap the registry)
            return None, []
        max_attempts = _max_attempts(reg)
        if reg.ordered:
            candidates = _ordered_candidates(reg, now)
        else:
            candidates = list(due.filter(action=head.action)[: reg.batch_size])
        claimed_ids = []
        for row in candidates:
            if row.attempts >= max_attempts:
                # Claimed max times and never settled (its workers kept dying): a person decides.
                _outbox_dead(
                    row,
                    PeerError(
                        peer,
                        f"no outcome recorded after {row.attempts} claims; the peer may have it",
                        retryable=False,
                    ),
                    reg,
                )
                if stats is not None:
                    stats.dead += 1
                continue
            # Compare-and-set: on SQLite (no row locks) this is what keeps two claimers apart.
            won = OutboxMessage.objects.filter(
                pk=row.pk, status=row.status, attempts=row.attempts
            ).update(
                status=OutboxMessage.Status.IN_FLIGHT,
                claimed_until=now + timedelta(seconds=settings.SYNC["CLAIM_SECONDS"]),
                attempts=F("attempts") + 1,
                updated_at=now,
            )
            if won:
                claimed_ids.append(row.pk)
    batch = list(
        OutboxMessage.objects.filter(pk__in=claimed_ids).order_by(
            "priority", "next_attempt_at", "id"
        )
    )
    return reg, batch


def _ordered_candidates(reg: registry.ActionRegistration, now: datetime) -> list[OutboxMessage]:
    """The oldest unsettled messages of an ordered action, up to the first one not yet due.

    The compare-and-set claim below keeps two claimers apart; the pump's lease keeps them rare.
    """
    unsettled = OutboxMessage.objects.filter(
        peer=reg.peer,
        action=reg.action,
        status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.IN_FLIGHT],
    ).order_by("id")
    candidates = []
    for row in unsettled[: reg.batch_size]:
        waits_until = (
            row.next_attempt_at if row.status == OutboxMessage.Status.PENDING else row.claimed_until
        )
        if waits_until is not None and waits_until > now:
            break
        candidates.append(row)
    return candidates


def _outbox_send(
    reg: registry.ActionRegistration, batch: list[OutboxMessage]
) -> list[OutboxOutcome]:
    """Call the registered sender; any way it can fail becomes one Failed per message."""
    try:
        outcomes = list(reg.send(batch))
        if len(outcomes) != len(batch) or not all(isinstance(o, Sent | Failed) for o in outcomes):
            raise TypeError(
                f"{reg.peer}.{reg.action} returned {len(outcomes)} outcomes for {len(batch)} messages"
            )
    except PeerError as exc:
        return [Failed(exc) for _ in batch]
    except httpx.TransportError as exc:
        return [Failed(PeerError.from_exception(reg.peer, exc)) for _ in batch]
    except Exception as exc:
        # An unexpected error is retried with backoff; a bug reaches `dead` after MAX_ATTEMPTS.
        logger.exception("outbox sender %s.%s raised", reg.peer, reg.action)
        error = PeerError(reg.peer, f"{type(exc).__name__}: {exc}", retryable=True)
        return [Failed(error) for _ in batch]
    return outcomes


def outbox_settle(
    *,
    reg: registry.ActionRegistration,
    message: OutboxMessage,
    outcome: OutboxOutcome,
    stats: PumpStats | None = None,
) -> str:
    """Record one outcome in its own transaction; return the status written ("lost" if not ours)."""
    stats = stats or PumpStats(name=message.peer)
    with transaction.atomic(durable=True):
        current = (
            OutboxMessage.objects.select_for_update()
            .filter(pk=message.pk, status=OutboxMessage.Status.IN_FLIGHT, attempts=message.attempts)
            .first()
        )
        if current is None:
            # Our claim expired and another runner re-claimed it; its outcome will be recorded.
            stats.lost += 1
            return "lost"
        now = timezone.now()
        if isinstance(outcome, Sent):
            current.status = OutboxMessage.Status.DONE
            current.result = outcome.result
            current.done_at = now
            current.claimed_until = None
            current.last_error = ""
            current.save(
                update_fields=[
                    "status",
                    "result",
                    "done_at",
                    "claimed_until",
                    "last_error",
                    "updated_at",
                ]
            )
            if reg.on_done is not None:
                reg.on_done(current, outcome.result)
            stats.sent += 1
            return current.status
        error = outcome.error
        if isinstance(error, BudgetExhausted):
            # Nothing reached the peer: not an attempt.
            current.status = OutboxMessage.Status.PENDING
            current.attempts = max(0, current.attempts - 1)
            current.next_attempt_at = now + timedelta(seconds=error.retry_after or 1.0)
            current.claimed_until = None
            current.save(
                update_fields=[
                    "status",
                    "attempts",
                    "next_attempt_at",
                    "claimed_until",
                    "updated_at",
                ]
            )
            stats.deferred += 1
            return current.status
        if error.retryable and current.attempts < _max_attempts(reg):
            delay = outbox_backoff_seconds(
                attempts=current.attempts, retry_after=error.retry_after, peer=current.peer
            )
            current.status = OutboxMessage.Status.PENDING
            current.next_attempt_at = now + timedelta(seconds=delay)
            current.claimed_until = None
            current.last_error = str(error)[:10_000]
            current.save(
                update_fields=[
                    "status",
                    "next_attempt_at",
                    "claimed_until",
                    "last_error",
                    "updated_at",
                ]
            )
            stats.retried += 1
            return current.status
        _outbox_dead(current, error, reg)
        stats.dead += 1
        return current.status


def outbox_pump_step(*, peer: str, stats: PumpStats | None = None) -> int:
    """Claim one batch for the peer, send it, settle each outcome; return how many were handled."""
    stats = stats or PumpStats(name=peer)
    dead_before = stats.dead
    reg, batch = outbox_claim(peer=peer, stats=stats)
    if reg is None or not batch:
        # Messages killed during the claim still count as work done: there may be more behind them.
        return stats.dead - dead_before
    stats.claimed += len(batch)
    outcomes = _outbox_send(reg, batch)
    done = False
    for message, outcome in zip(batch, outcomes, strict=True):
        try:
            status = outbox_settle(reg=reg, message=message, outcome=outcome, stats=stats)
        except Exception:
            # The claim stands: once it expires the message is sent again with the same key.
            logger.exception("settling outbox message %s failed", message.pk)
            stats.errors += 1
            continue
        done = done or status == OutboxMessage.Status.DONE
    if done:
        _outbox_dead_alert_clear(reg.peer, reg.action)
    return len(batch)
