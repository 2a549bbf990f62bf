"""The outbox: enqueue, claim, send, settle — success, retry with backoff, dead, budget deferral, crash."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from apps.sync.models import Alert, OutboxMessage
from apps.sync.outbox import (
    Failed,
    Sent,
    outbox_action,
    outbox_backoff_seconds,
    outbox_enqueue,
    outbox_pump_step,
)
from apps.sync.pumps import pump_run
from integrations.http import BudgetExhausted, PeerError
from tests.factories import UserFactory
from tests.sync.conftest import fake_peer_send

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_enqueue_is_idempotent_on_the_key_and_records_the_subject(sync_registry):
    user = UserFactory()
    first = outbox_enqueue(
        peer="p", action="a", idempotency_key="k1", payload={"n": 1}, priority=10, subject=user
    )
    again = outbox_enqueue(peer="p", action="a", idempotency_key="k1", payload={"n": 2})
    assert again.pk == first.pk
    assert OutboxMessage.objects.count() == 1
    message = OutboxMessage.objects.get()
    assert message.payload == {"n": 1}
    assert (message.subject_type, message.subject_id) == ("accounts.user", str(user.pk))
    assert message.status == OutboxMessage.Status.PENDING
    with pytest.raises(ValueError, match="already belongs"):
        outbox_enqueue(peer="p", action="other", idempotency_key="k1", payload={})


def test_enqueue_rolls_back_with_the_callers_transaction():
    def change_then_fail():
        with transaction.atomic():
            outbox_enqueue(peer="p", action="a", idempotency_key="k1", payload={})
            raise RuntimeError("domain change failed")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert not OutboxMessage.objects.exists()


def test_sent_message_is_done_and_on_done_commits_with_it(sync_registry, fake_peer):
    seen = []

    def remember(message, result):
        seen.append((message.idempotency_key, message.status, result["id"]))

    @outbox_action("testpeer", "create", on_done=remember)
    def send(messages):
        return fake_peer_send(fake_peer, messages)

    outbox_enqueue(peer="testpeer", action="create", idempotency_key="order:1", payload={"x": 1})
    stats = pump_run("testpeer", once=True)

    message = OutboxMessage.objects.get()
    assert stats.acquired
    assert stats.sent == 1
    assert message.status == OutboxMessage.Status.DONE
    assert message.result == {"id": 1, "key": "order:1"}
    assert message.done_at is not None
    assert message.claimed_until is None
    assert message.attempts == 1
    assert seen == [("order:1", OutboxMessage.Status.DONE, 1)]


def test_on_done_failure_rolls_the_settle_back(sync_registry, fake_peer, sync_settings):
    def broken(message, result):
        raise RuntimeError("domain row could not be updated")

    @outbox_action("testpeer", "create", on_done=broken)
    def send(messages):
        return fake_peer_send(fake_peer, messages)

    outbox_enqueue(peer="testpeer", action="create", idempotency_key="k", payload={})
    stats = pump_run("testpeer", once=True)
    message = OutboxMessage.objects.get()
    # Not done: the claim stands and will expire, and the message is re-sent with the same key.
    assert stats.errors == 1
    assert stats.sent == 0
    assert message.status == OutboxMessage.Status.IN_FLIGHT
    assert message.claimed_until is not None


def test_claims_go_by_priority_then_due_time_and_batch_by_action(sync_registry, time_machine):
    time_machine.move_to(T0, tick=False)
    batches = []

    @outbox_action("testpeer", "slow", batch_size=3)
    def send_slow(messages):
        batches.append([m.idempotency_key for m in messages])
        return [Sent({}) for _ in messages]

    @outbox_action("testpeer", "urgent")
    def send_urgent(messages):
        batches.append([m.idempotency_key for m in messages])
        return [Sent({}) for _ in messages]

    for i in range(4):
        outbox_enqueue(peer="testpeer", action="slow", idempotency_key=f"s{i}", payload={})
        time_machine.shift(1)
    outbox_enqueue(peer="testpeer", action="urgent", idempotency_key="u0", payload={}, priority=10)
    time_machine.shift(1)
    pump_run("testpeer", once=True)
    assert batches == [["u0"], ["s0", "s1", "s2"], ["s3"]]


def test_retryable_failure_backs_off_exponentially_with_full_jitter(
    sync_registry, sync_settings, time_machine
):
    time_machine.move_to(T0, tick=False)

    @outbox_action("testpeer", "create")
    def send(messages):
        return [Failed(PeerError("testpeer", "HTTP 503", retryable=True, status_code=503))]

    outbox_enqueue(peer="testpeer", action="create", idempotency_key="k", payload={})
    delays = []
    for attempt in range(1, 4):
        assert outbox_pump_step(peer="testpeer") == 1
        message = OutboxMessage.objects.get()
        assert message.status == OutboxMessage.Status.PENDING
        assert message.attempts == attempt
        assert "HTTP 503" in message.last_error
        delay = (message.next_attempt_at - T0).total_seconds()
        # Full jitter: anywhere in [0, base * 2^(attempt-1)].
        assert 0 <= delay <= 2.0 * 2 ** (attempt - 1)
        delays.append(delay)
        # Not due until its time: a step now claims nothing (unless the jitter drew 0).
        if delay > 0:
            assert outbox_pump_step(peer="testpeer") == 0
        OutboxMessage.objects.update(next_attempt_at=T0)
    # The fourth failure is the last allowed attempt (MAX_ATTEMPTS=4): dead, error kept, alert raised.
    assert outbox_pump_step(peer="testpeer") == 1
    message = OutboxMessage.objects.get()
    assert message.status == OutboxMessage.Status.DEAD
    assert message.attempts == 4
    assert "HTTP 503" in message.last_error
    alert = Alert.objects.get(kind="outbox.dead")
    assert alert.dedupe_key == "outbox.dead:testpeer.create"
    assert "k" in alert.message
    # The ops app registered the link (apps.ops.links); sync only asked for it.
    assert alert.link == "/ops/outbox/?status=dead&peer=testpeer&action=create"


def test_backoff_formula_and_cap(settings):
    settings.SYNC = {**settings.SYNC, "BACKOFF_BASE_SECONDS": 2.0, "BACKOFF_MAX_SECONDS": 60.0}
    top = lambda: 1.0  # noqa: E731 - the jitter's upper bound
    assert outbox_backoff_seconds(attempts=1, rand=top) == 2.0
    assert outbox_backoff_seconds(attempts=3, rand=top) == 8.0
    assert outbox_backoff_seconds(attempts=10, rand=top) == 60.0
    assert outbox_backoff_seconds(attempts=3, rand=lambda: 0.5) == 4.0
    assert outbox_backoff_seconds(attempts=1, retry_after=30.0, rand=top) == 30.0
    assert outbox_backoff_seconds(attempts=10, retry_after=5.0, rand=top) == 60.0


def test_retry_after_is_honoured(sync_registry, sync_settings, time_machine, fake_peer):
    time_machine.move_to(T0, tick=False)
    fake_peer.script = [(429, {"Retry-After": "45"})]

    @outbox_action("testpeer", "create")
    def send(messages):
        return fake_peer_send(fake_peer, messages)

    outbox_enqueue(peer="testpeer", action="create", idempotency_key="k", payload={})
    stats = pump_run("testpeer", once=True)
    message = OutboxMessage.objects.get()
    assert stats.retried == 1
    assert message.status == OutboxMessage.Status.PENDING
    # Jitter alone would be ≤ 2 s; the peer asked for 45.
    assert message.next_attempt_at == T0 + timedelta(seconds=45)
    time_machine.shift(44)
    assert pump_run("testpeer", once=True).claimed == 0
    time_machine.shift(1)
    assert pump_run("testpeer", once=True).sent == 1
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.DONE
    assert fake_peer.attempts["k"] == 2
    assert fake_peer.records == {"k": 1}


def test_permanent_failure_is_dead_at_once_with_on_dead_and_alert(sync_registry, fake_peer):
    fake_peer.script = [(422, {})]
    dead = []

    @outbox_action("testpeer", "create", on_dead=lambda m, e: dead.append((m.pk, e.status_code)))
    def send(messages):
        return fake_peer_send(fake_peer, messages)

    message = outbox_enqueue(peer="testpeer", action="create", idempotency_key="k", payload={})
    stats = pump_run("testpeer", once=True)
    message.refresh_from_db()
    assert stats.dead == 1
    assert message.status == OutboxMessage.Status.DEAD
    assert message.attempts == 1
    assert "HTTP 422" in message.last_error
    assert dead == [(message.pk, 422)]
    assert Alert.objects.filter(kind="outbox.dead", status=Alert.Status.OPEN).count() == 1


def test_budget_refusal_puts_the_message_back_without_an_attempt(
    sync_registry, sync_settings, time_machine
):
    time_machine.move_to(T0, tick=False)
    calls = []

    @outbox_action("testpeer", "create")
    def send(messages):
        calls.append(1)
        if len(calls) == 1:
            raise BudgetExhausted("testpeer", retry_after=7.0)
        return [Sent({"ok": True}) for _ in messages]

    outbox_enqueue(peer="testpeer", action="create", idempotency_key="k", payload={})
    stats = pump_run("testpeer", once=True)
    message = OutboxMessage.objects.get()
    assert stats.deferred == 1
    assert stats.retried == 0
    assert message.status == OutboxMessage.Status.PENDING
    assert message.attempts == 0
    assert message.next_attempt_at == T0 + timedelta(seconds=7)
    assert message.last_error == ""
    time_machine.shift(7)
    pump_run("testpeer", once=True)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DONE
    assert message.attempts == 1


def test_unexpected_exception_in_sender_is_a_retryable_failure(sync_registry, sync_settings):
    @outbox_action("testpeer", "create")
    def send(messages):
        raise KeyError("customer")

    outbox_enqueue(peer="testpeer", action="create", idempotency_key="k", payload={})
    stats = pump_run("testpeer", once=True)
    message = OutboxMessage.objects.get()
    assert stats.retried == 1
    assert message.status == OutboxMessage.Status.PENDING
    assert "KeyError" in message.last_error


def test_crash_after_peer_success_resends_with_the_same_key(
    sync_registry, sync_settings, fake_peer, time_machine
):
    """The peer has the record but our commit never happened: the re-send reuses the key."""
    time_machine.move_to(T0, tick=False)
    crash = {"armed": True}

    def settle_then_crash(message, result):
        if crash.pop("armed", False):
            raise RuntimeError("worker killed before commit")

    @outbox_action("testpeer", "create", on_done=settle_then_crash)
    def send(messages):
        return fake_peer_send(fake_peer, messages)

    outbox_enqueue(peer="testpeer", action="create", idempotency_key="ship:77", payload={"n": 1})
    first = pump_run("testpeer", once=True)
    assert first.errors == 1
    assert fake_peer.records == {"ship:77": 1}
    message = OutboxMessage.objects.get()
    assert message.status == OutboxMessage.Status.IN_FLIGHT

    # Before the claim expires nobody touches it.
    time_machine.shift(29)
    assert pump_run("testpeer", once=True).claimed == 0
    time_machine.shift(2)
    second = pump_run("testpeer", once=True)
    message.refresh_from_db()
    assert second.sent == 1
    assert message.status == OutboxMessage.Status.DONE
    assert message.attempts == 2
    # One record at the peer, two attempts seen under the same key.
    assert fake_peer.records == {"ship:77": 1}
    assert fake_peer.attempts == {"ship:77": 2}
    assert message.result["id"] == 1


def test_a_message_whose_claims_keep_expiring_goes_dead(sync_registry, sync_settings, time_machine):
    time_machine.move_to(T0, tick=False)

    @outbox_action("testpeer", "create")
    def send(messages):  # pragma: no cover - never reached
        raise AssertionError("must not be sent again")

    message = outbox_enqueue(peer="testpeer", action="create", idempotency_key="k", payload={})
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.IN_FLIGHT, attempts=4, claimed_until=T0 - timedelta(seconds=1)
    )
    stats = pump_run("testpeer", once=True)
    message.refresh_from_db()
    assert stats.dead == 1
    assert message.status == OutboxMessage.Status.DEAD
    assert "no outcome recorded" in message.last_error


def test_messages_for_unregistered_actions_are_left_alone(sync_registry):
    @outbox_action("testpeer", "create")
    def send(messages):
        return [Sent({}) for _ in messages]

    outbox_enqueue(peer="testpeer", action="unknown", idempotency_key="k", payload={})
    assert pump_run("testpeer", once=True).claimed == 0
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.PENDING
