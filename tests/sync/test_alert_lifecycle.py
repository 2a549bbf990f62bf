"""Alerts with a lifecycle: grouping by subject, both errors of a recurrence, and every kind that
declares it resolves itself when its cause is gone."""

import pytest

from apps.sync.alerts import ALERT_KINDS, alert_acknowledge, alert_clear, alert_raise
from apps.sync.models import Alert, OutboxMessage, WebhookReceipt
from apps.sync.outbox import outbox_pump_step
from apps.sync.receipts import receipts_pump_step

pytestmark = pytest.mark.django_db


def test_twelve_unmapped_skus_are_one_alert_with_the_list(time_machine):
    from datetime import UTC, datetime

    time_machine.move_to(datetime(2026, 11, 27, 9, 0, tzinfo=UTC), tick=False)
    for n in range(12):
        time_machine.shift(100)  # 12 SKUs within 20 minutes
        alert_raise(
            kind="order.hold.unknown_sku",
            dedupe_key="order.hold.unknown_sku",
            message="held",
            subject=f"SKU-{n:02d}",
        )
    alert_raise(
        kind="order.hold.unknown_sku",
        dedupe_key="order.hold.unknown_sku",
        message="x",
        subject="SKU-03",
    )
    alert = Alert.objects.get()
    assert alert.count == 13
    assert alert.subjects == [f"SKU-{n:02d}" for n in range(12)]
    assert alert.message.startswith(
        "12 SKU(s) unmapped; orders using them are held: SKU-00, SKU-01"
    )

    alert_clear(dedupe_key="order.hold.unknown_sku", subject="SKU-00", reason="mapped")
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN
    assert alert.message.startswith("11 SKU(s) unmapped")
    for n in range(1, 12):
        alert_clear(dedupe_key="order.hold.unknown_sku", subject=f"SKU-{n:02d}", reason="mapped")
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED
    assert alert.resolved_reason == "mapped"
    assert alert.resolved_by is None


def test_an_acknowledged_alert_that_recurs_with_another_error_shows_both(ops_user):
    alert = alert_raise(kind="outbox.dead", dedupe_key="k", message="HTTP 422: unknown item")
    alert_acknowledge(alert=alert, user=ops_user)
    alert_raise(kind="outbox.dead", dedupe_key="k", message="HTTP 422: unknown item")
    alert_raise(kind="outbox.dead", dedupe_key="k", message="HTTP 400: bad address")
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED
    assert [(e["message"], e["after_ack"]) for e in alert.errors] == [
        ("HTTP 422: unknown item", False),
        ("HTTP 400: bad address", True),
    ]
    assert alert.message == "HTTP 400: bad address"


def test_alert_clear_without_an_open_alert_does_nothing():
    assert alert_clear(dedupe_key="nothing", reason="x") is None


def test_outbox_dead_resolves_itself_once_the_dead_messages_are_replayed_and_done(ops_user):
    from apps.sync import registry
    from apps.sync.outbox import Failed, Sent, outbox_action, outbox_enqueue
    from apps.sync.replay import outbox_replay
    from integrations.http import PeerError

    snapshot = registry.registry_snapshot()
    refuse = {"on": True}

    @outbox_action("lifepeer", "create")
    def send(messages):
        if refuse["on"]:
            return [Failed(PeerError("lifepeer", "HTTP 422", retryable=False)) for _ in messages]
        return [Sent({"ok": True}) for _ in messages]

    try:
        for n in range(2):
            outbox_enqueue(
                peer="lifepeer", action="create", idempotency_key=f"life:{n}", payload={}
            )
        while outbox_pump_step(peer="lifepeer"):
            pass
        alert = Alert.objects.get(kind="outbox.dead")
        assert alert.dedupe_key == "outbox.dead:lifepeer.create"
        assert alert.count == 2

        refuse["on"] = False
        outbox_replay(actor=ops_user, peer="lifepeer", ids=[OutboxMessage.objects.first().pk])
        while outbox_pump_step(peer="lifepeer"):
            pass
        alert.refresh_from_db()
        assert alert.status == Alert.Status.OPEN  # one message is still dead

        outbox_replay(actor=ops_user, peer="lifepeer")
        while outbox_pump_step(peer="lifepeer"):
            pass
        alert.refresh_from_db()
        assert alert.status == Alert.Status.RESOLVED
        assert alert.resolved_reason == "no dead message left: replayed and done"
    finally:
        registry.registry_restore(snapshot)


def test_receipt_failed_resolves_itself_once_the_receipt_is_replayed_and_applied(ops_user):
    from apps.sync import registry
    from apps.sync.receipts import ReceiptRejected
    from apps.sync.replay import receipt_replay

    snapshot = registry.registry_snapshot()
    broken = {"on": True}

    def handler(receipt):
        if broken["on"]:
            raise ReceiptRejected("unknown shape")
        return True

    registry.receipt_handler_register("lifesrc", handler)
    try:
        receipt = WebhookReceipt.objects.create(
            source="lifesrc", delivery_id="d1", topic="t", body=b"{}"
        )
        receipts_pump_step()
        alert = Alert.objects.get(kind="receipt.failed")
        broken["on"] = False
        receipt_replay(actor=ops_user, ids=[receipt.pk])
        receipts_pump_step()
        alert.refresh_from_db()
        assert alert.status == Alert.Status.RESOLVED
    finally:
        registry.registry_restore(snapshot)


def test_every_registered_kind_says_how_it_resolves():
    for kind in ALERT_KINDS.values():
        assert kind.resolves, kind.name
        assert kind.severity in Alert.Severity.values
