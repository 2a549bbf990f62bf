"""Per-peer rate budgets: a token bucket in one database row, shared by every worker process.

Capacity (burst) and refill (tokens per second) come from `settings.RATE_BUDGETS[peer]`; the row is
created on first use and follows later settings changes. Taking a token locks the row
(`SELECT … FOR UPDATE` on PostgreSQL; SQLite's IMMEDIATE transactions already serialise writers).
The peer's own answers correct it: fewer remaining calls than our tokens lowers the tokens, and a
429 empties the bucket and freezes it until Retry-After. Call these outside long transactions: the
row lock is held until the surrounding transaction commits.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from apps.sync.models import RateBudget
from integrations.http import BudgetExhausted, RateInfo

DEFAULT_MAX_WAIT_SECONDS = 10.0


def _budget_config(peer: str) -> tuple[float, float]:
    config = settings.RATE_BUDGETS.get(peer)
    if not config:
        raise ImproperlyConfigured(f"No rate budget for peer {peer!r}: add it to RATE_BUDGETS.")
    return float(config["capacity"]), float(config["refill"])


def _budget_refilled(budget: RateBudget, now: datetime) -> float:
    """Tokens now; time spent frozen after a 429 refills nothing (no burst right after a freeze)."""
    start = budget.refilled_at
    if budget.frozen_until and budget.frozen_until > start:
        start = budget.frozen_until
    elapsed = max(0.0, (now - start).total_seconds())
    return min(budget.capacity, budget.tokens + elapsed * budget.refill_per_second)


def _budget_locked(peer: str) -> tuple[RateBudget, datetime]:
    """The peer's row, locked, refilled to now and in line with settings (inside a transaction).

    "Now" is read after the lock is granted: a clock read before waiting for the lock would be older
    than the last holder's and would credit the same refill interval twice.
    """
    capacity, refill = _budget_config(peer)
    rows = RateBudget.objects.filter(peer=peer)
    if connection.features.has_select_for_update:
        rows = rows.select_for_update()
    budget = rows.first()
    now = timezone.now()
    if budget is None:
        RateBudget.objects.bulk_create(
            [
                RateBudget(
                    peer=peer,
                    capacity=capacity,
                    refill_per_second=refill,
                    tokens=capacity,
                    refilled_at=now,
                )
            ],
            ignore_conflicts=True,
        )
        budget = rows.get()
        now = timezone.now()
    now = max(now, budget.refilled_at)
    if (budget.capacity, budget.refill_per_second) != (capacity, refill):
        budget.capacity, budget.refill_per_second = capacity, refill
    budget.tokens = _budget_refilled(budget, now)
    budget.refilled_at = now
    return budget, now


def budget_try_acquire(*, peer: str, tokens: float = 1) -> float:
    """Take `tokens` now and return 0, or take nothing and return the seconds to wait."""
    with transaction.atomic():
        budget, now = _budget_locked(peer)
        if tokens > budget.capacity:
            raise ValueError(f"{tokens} tokens can never fit a bucket of {budget.capacity:g}")
        if budget.frozen_until and budget.frozen_until > now:
            wait = (budget.frozen_until - now).total_seconds()
        elif budget.tokens >= tokens:
            budget.tokens -= tokens
            budget.calls_total += 1
            wait = 0.0
        elif budget.refill_per_second > 0:
            wait = (tokens - budget.tokens) / budget.refill_per_second
        else:
            wait = 60.0
        budget.save()
    return wait


def budget_acquire(
    *, peer: str, tokens: float = 1, max_wait: float = DEFAULT_MAX_WAIT_SECONDS
) -> None:
    """Take tokens, sleeping up to `max_wait` for them; raise BudgetExhausted if that is not enough."""
    deadline = time.monotonic() + max_wait
    while True:
        wait = budget_try_acquire(peer=peer, tokens=tokens)
        if wait <= 0:
            return
        left = deadline - time.monotonic()
        if wait > left:
            raise BudgetExhausted(peer, retry_after=wait)
        # A little jitter so waiting processes do not all wake for the same token.
        time.sleep(wait + random.uniform(0, 0.01))  # noqa: S311 - not security


def budget_observe(*, peer: str, status_code: int, info: RateInfo) -> None:
    """Learn from the peer's answer: its remaining calls, and a 429's Retry-After."""
    if info.remaining is None and status_code != 429:
        return  # nothing to learn: skip the row lock
    with transaction.atomic():
        budget, now = _budget_locked(peer)
        if info.remaining is not None:
            budget.peer_remaining = info.remaining
            budget.tokens = min(budget.tokens, float(max(0, info.remaining)))
        if status_code == 429:
            freeze = info.retry_after
            if freeze is None:
                freeze = max(1.0, 1.0 / budget.refill_per_second if budget.refill_per_second else 1)
            until = now + timedelta(seconds=freeze)
            if budget.frozen_until is None or until > budget.frozen_until:
                budget.frozen_until = until
            budget.tokens = 0.0
            budget.throttled_total += 1
        budget.save()


def budget_tokens_now(budget: RateBudget, now: datetime) -> float:
    """The tokens a budget row holds at `now` (0 while frozen), without locking or saving it."""
    if budget.frozen_until and budget.frozen_until > now:
        return 0.0
    return _budget_refilled(budget, now)


def budget_state(peer: str) -> dict[str, Any]:
    """What the dashboard shows for one peer: tokens now, limits, freeze, totals (read only)."""
    capacity, refill = _budget_config(peer)
    now = timezone.now()
    budget = RateBudget.objects.filter(peer=peer).first()
    if budget is None:
        budget = RateBudget(
            peer=peer, capacity=capacity, refill_per_second=refill, tokens=capacity, refilled_at=now
        )
    budget.capacity, budget.refill_per_second = capacity, refill
    frozen = budget.frozen_until if budget.frozen_until and budget.frozen_until > now else None
    return {
        "peer": peer,
        "tokens": budget_tokens_now(budget, now),
        "capacity": capacity,
        "refill": refill,
        "frozen_until": frozen,
        "peer_remaining": budget.peer_remaining,
        "calls_total": budget.calls_total,
        "throttled_total": budget.throttled_total,
    }


class DatabaseRateGate:
    """The `integrations.http.RateGate` every peer client gets: this peer's shared budget."""

    def __init__(self, peer: str, *, max_wait: float = DEFAULT_MAX_WAIT_SECONDS) -> None:
        _budget_config(peer)  # fail at construction, not on the first call
        self.peer = peer
        self.max_wait = max_wait

    def acquire(self) -> None:
        budget_acquire(peer=self.peer, max_wait=self.max_wait)

    def observe(self, status_code: int, info: RateInfo) -> None:
        budget_observe(peer=self.peer, status_code=status_code, info=info)


def sync_rate_gate(peer: str, *, max_wait: float = DEFAULT_MAX_WAIT_SECONDS) -> DatabaseRateGate:
    """The rate gate to pass to `build_client(rate_gate=...)` for this peer."""
    return DatabaseRateGate(peer, max_wait=max_wait)
