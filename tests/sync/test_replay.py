"""Replay: dead → pending → done, audited; a dry run changes nothing."""

import pytest

from apps.audit import verbs
from apps.audit.models import AuditEvent
from apps.sync.models import OutboxMessage, WebhookReceipt
from apps.sync.outbox import outbox_action, outbox_enqueue
from apps.sync.pumps import pump_run
from apps.sync.receipts import receipt_handler
from apps.sync.replay import outbox_replay, receipt_replay
from tests.sync.conftest import fake_peer_send

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_message(sync_registry, fake_peer):
    fake_peer.script = [(400, {})]

    @outbox_action("testpeer", "create")
    def send(messages):
        return fake_peer_send(fake_peer, messages)

    message = outbox_enqueue(
        peer="testpeer", action="create", idempotency_key="inv:9", payload={"total": "12.30"}
    )
    pump_run("testpeer", once=True)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DEAD
    return message


def test_dead_replay_done_is_audited(dead_message, ops_user, fake_peer):
    result = outbox_replay(actor=ops_user, ids=[dead_message.pk])
    assert not result.dry_run
    assert [m.pk for m in result.messages] == [dead_message.pk]
    dead_message.refresh_from_db()
    assert dead_message.status == OutboxMessage.Status.PENDING
    assert dead_message.attempts == 0
    assert dead_message.claimed_until is None

    event = AuditEvent.objects.get(verb=verbs.OUTBOX_REPLAYED)
    assert event.actor == ops_user
    assert (event.target_type, event.target_id) == ("sync.outboxmessage", str(dead_message.pk))
    assert "HTTP 400" in event.data["last_error"]
    assert event.data["idempotency_key"] == "inv:9"

    assert pump_run("testpeer", once=True).sent == 1
    dead_message.refresh_from_db()
    assert dead_message.status == OutboxMessage.Status.DONE
    assert fake_peer.attempts == {"inv:9": 2}
    assert fake_peer.records == {"inv:9": 1}


def test_dry_run_lists_the_writes_and_changes_nothing(dead_message, ops_user, fake_peer):
    before = OutboxMessage.objects.values().get(pk=dead_message.pk)
    result = outbox_replay(actor=ops_user, peer="testpeer", dry_run=True)
    assert result.dry_run
    assert result.writes() == [
        {
            "id": dead_message.pk,
            "peer": "testpeer",
            "action": "create",
            "idempotency_key": "inv:9",
            "payload": {"total": "12.30"},
        }
    ]
    assert OutboxMessage.objects.values().get(pk=dead_message.pk) == before
    assert not AuditEvent.objects.exists()
    assert pump_run("testpeer", once=True).claimed == 0
    assert fake_peer.attempts == {"inv:9": 1}


def test_replay_filters_and_only_touches_dead_messages(ops_user):
    for key, peer, status in [
        ("a", "shipbob", "dead"),
        ("b", "shipbob", "done"),
        ("c", "xero", "dead"),
        ("d", "shipbob", "dead"),
    ]:
        OutboxMessage.objects.create(peer=peer, action="x", idempotency_key=key, status=status)
    result = outbox_replay(actor=ops_user, peer="shipbob")
    assert sorted(m.idempotency_key for m in result.messages) == ["a", "d"]
    statuses = dict(OutboxMessage.objects.values_list("idempotency_key", "status"))
    assert statuses == {"a": "pending", "b": "done", "c": "dead", "d": "pending"}
    assert AuditEvent.objects.filter(verb=verbs.OUTBOX_REPLAYED).count() == 2
    with pytest.raises(ValueError, match="Say which"):
        outbox_replay(actor=ops_user)


def test_failed_receipt_replay_reapplies_the_same_bytes(sync_registry, ops_user):
    fixed = {"yet": False}
    seen = []

    @receipt_handler("testsrc")
    def apply(receipt):
        seen.append(receipt.body_bytes())
        if not fixed["yet"]:
            raise ValueError("SKU not mapped")
        return True

    receipt = WebhookReceipt.objects.create(source="testsrc", delivery_id="1", body=b"\x00raw")
    pump_run("receipts", once=True)
    receipt.refresh_from_db()
    assert receipt.status == "failed"

    preview = receipt_replay(actor=ops_user, ids=[receipt.pk], dry_run=True)
    assert [r.pk for r in preview.messages] == [receipt.pk]
    receipt.refresh_from_db()
    assert receipt.status == "failed"
    assert not AuditEvent.objects.exists()

    fixed["yet"] = True
    receipt_replay(actor=ops_user, ids=[receipt.pk])
    event = AuditEvent.objects.get(verb=verbs.RECEIPT_REPLAYED)
    assert event.data["error"] == "ValueError: SKU not mapped"
    pump_run("receipts", once=True)
    receipt.refresh_from_db()
    assert receipt.status == "applied"
    assert seen == [b"\x00raw", b"\x00raw"]
