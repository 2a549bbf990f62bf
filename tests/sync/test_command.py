"""`sync_run` and the django-q2 task body."""

import json

import pytest
from django.core.management import CommandError, call_command

from apps.sync.models import OutboxMessage, WebhookReceipt
from apps.sync.outbox import Sent, outbox_action, outbox_enqueue
from apps.sync.receipts import receipt_handler
from apps.sync.tasks import pump_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def work(sync_registry):
    outbox_action("testpeer", "create")(lambda messages: [Sent({"ok": 1}) for _ in messages])
    receipt_handler("testsrc")(lambda receipt: True)
    outbox_enqueue(peer="testpeer", action="create", idempotency_key="k", payload={})
    WebhookReceipt.objects.create(source="testsrc", delivery_id="1", body=b"{}")


def test_sync_run_once_drains_every_pump_and_prints_stats(work, capsys):
    call_command("sync_run", "--once")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_name = {line["name"]: line for line in lines}
    assert by_name["receipts"]["applied"] == 1
    assert by_name["testpeer"]["sent"] == 1
    assert OutboxMessage.objects.get().status == "done"
    assert WebhookReceipt.objects.get().status == "applied"


def test_sync_run_one_pump(work, capsys):
    call_command("sync_run", "--once", "--pump", "testpeer")
    assert [json.loads(line)["name"] for line in capsys.readouterr().out.splitlines()] == [
        "testpeer"
    ]
    assert WebhookReceipt.objects.get().status == "pending"
    with pytest.raises(CommandError, match="Unknown pump"):
        call_command("sync_run", "--pump", "nope")


def test_pump_task_runs_for_its_configured_time(work, settings):
    settings.SYNC = {**settings.SYNC, "PUMP_RUN_SECONDS": 0.2}
    result = pump_task("testpeer")
    assert result["acquired"]
    assert result["sent"] == 1
    assert result["seconds"] >= 0.2
