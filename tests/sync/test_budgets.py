"""Rate budgets: refill, correction from the peer's headers, 429 freeze, and the gate in a real client."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.sync.budgets import (
    budget_acquire,
    budget_observe,
    budget_state,
    budget_try_acquire,
    sync_rate_gate,
)
from apps.sync.models import RateBudget
from integrations.http import BudgetExhausted, RateInfo, build_client

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def budget(settings, time_machine):
    time_machine.move_to(T0, tick=False)
    settings.RATE_BUDGETS = {**settings.RATE_BUDGETS, "testpeer": {"capacity": 3, "refill": 0.5}}
    return settings


def test_bucket_starts_full_drains_and_refills_at_its_rate(budget, time_machine):
    assert [budget_try_acquire(peer="testpeer") for _ in range(3)] == [0, 0, 0]
    # Empty: one token takes 1 / 0.5 = 2 seconds.
    assert budget_try_acquire(peer="testpeer") == pytest.approx(2.0)
    time_machine.shift(1)
    assert budget_try_acquire(peer="testpeer") == pytest.approx(1.0)
    time_machine.shift(1)
    assert budget_try_acquire(peer="testpeer") == 0
    # Never above capacity, however long it rests.
    time_machine.shift(3600)
    assert budget_state("testpeer")["tokens"] == 3
    row = RateBudget.objects.get(peer="testpeer")
    assert row.calls_total == 4


def test_the_peers_remaining_calls_lower_our_tokens(budget):
    budget_observe(peer="testpeer", status_code=200, info=RateInfo(remaining=1))
    state = budget_state("testpeer")
    assert state["tokens"] == 1
    assert state["peer_remaining"] == 1
    assert budget_try_acquire(peer="testpeer") == 0
    assert budget_try_acquire(peer="testpeer") > 0
    # More remaining than we hold changes nothing.
    budget_observe(peer="testpeer", status_code=200, info=RateInfo(remaining=100))
    assert budget_state("testpeer")["peer_remaining"] == 100
    assert budget_state("testpeer")["tokens"] == 0


def test_a_429_empties_and_freezes_until_retry_after(budget, time_machine):
    budget_observe(peer="testpeer", status_code=429, info=RateInfo(retry_after=30))
    state = budget_state("testpeer")
    assert state["frozen_until"] == T0 + timedelta(seconds=30)
    assert state["tokens"] == 0
    assert state["throttled_total"] == 1
    assert budget_try_acquire(peer="testpeer") == pytest.approx(30)
    time_machine.shift(29)
    assert budget_try_acquire(peer="testpeer") == pytest.approx(1)
    # The freeze refills nothing: right after it, the bucket starts from empty, not full.
    time_machine.shift(1)
    assert budget_try_acquire(peer="testpeer") == pytest.approx(2.0)
    time_machine.shift(2)
    assert budget_try_acquire(peer="testpeer") == 0


def test_settings_changes_update_the_row(budget):
    budget_try_acquire(peer="testpeer")
    budget.RATE_BUDGETS = {**budget.RATE_BUDGETS, "testpeer": {"capacity": 1, "refill": 5}}
    budget_try_acquire(peer="testpeer", tokens=0)
    row = RateBudget.objects.get(peer="testpeer")
    assert (row.capacity, row.refill_per_second) == (1, 5)
    assert row.tokens <= 1


def test_acquire_raises_budget_exhausted_when_the_wait_is_too_long(budget):
    budget_observe(peer="testpeer", status_code=429, info=RateInfo(retry_after=60))
    with pytest.raises(BudgetExhausted) as caught:
        budget_acquire(peer="testpeer", max_wait=0.05)
    assert caught.value.retryable
    assert caught.value.retry_after == pytest.approx(60)


def test_an_unknown_peer_is_a_configuration_error(db):
    with pytest.raises(ImproperlyConfigured):
        sync_rate_gate("nobody")


def test_the_gate_in_a_real_client_counts_calls_and_freezes_on_429(budget):
    answers = [
        httpx.Response(200, headers={"x-remaining-calls": "2"}),
        httpx.Response(429, headers={"x-retry-after": "12"}),
    ]
    client = build_client(
        peer="testpeer",
        base_url="https://peer.test",
        rate_gate=sync_rate_gate("testpeer", max_wait=0),
        transport=httpx.MockTransport(lambda request: answers.pop(0)),
    )
    assert client.get("/a").status_code == 200
    assert client.get("/b").status_code == 429
    with pytest.raises(BudgetExhausted):
        client.get("/c")  # refused before anything is sent
    assert answers == []
    state = budget_state("testpeer")
    assert state["calls_total"] == 2
    assert state["throttled_total"] == 1
    assert state["frozen_until"] == T0 + timedelta(seconds=12)
