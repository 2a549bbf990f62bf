"""Pump leases: one runner per pump; an expired lease is taken over; release at the end."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.sync.models import OutboxMessage, PumpLease
from apps.sync.outbox import Sent, outbox_action, outbox_enqueue
from apps.sync.pumps import pump_names, pump_run

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def action(sync_registry, time_machine):
    time_machine.move_to(T0, tick=False)
    sent = []

    @outbox_action("testpeer", "create")
    def send(messages):
        sent.extend(m.idempotency_key for m in messages)
        return [Sent({}) for _ in messages]

    outbox_enqueue(peer="testpeer", action="create", idempotency_key="k", payload={})
    return sent


def test_pump_names_are_receipts_and_each_peer_with_actions(action):
    assert pump_names()[0] == "receipts"
    assert "testpeer" in pump_names()
    with pytest.raises(ValueError, match="Unknown pump"):
        pump_run("nobody")


def test_a_held_lease_makes_a_second_run_do_nothing(action, sync_settings):
    PumpLease.objects.create(
        name="testpeer", holder="other-worker", expires_at=T0 + timedelta(seconds=60)
    )
    stats = pump_run("testpeer", once=True)
    assert not stats.acquired
    assert stats.claimed == 0
    assert action == []
    assert OutboxMessage.objects.get().status == "pending"
    assert PumpLease.objects.get().holder == "other-worker"


def test_an_expired_lease_is_taken_over_and_released(action, sync_settings):
    PumpLease.objects.create(
        name="testpeer", holder="dead-worker", expires_at=T0 - timedelta(seconds=1)
    )
    stats = pump_run("testpeer", once=True)
    assert stats.acquired
    assert stats.sent == 1
    assert action == ["k"]
    lease = PumpLease.objects.get()
    assert lease.holder == ""
    assert lease.expires_at is None
    assert lease.last_run_at == T0


def test_a_run_with_seconds_keeps_draining_until_its_deadline(action, sync_settings):
    stats = pump_run("testpeer", seconds=0.3)
    assert stats.acquired
    assert stats.sent == 1
    assert stats.seconds >= 0.3
    assert PumpLease.objects.get().holder == ""
