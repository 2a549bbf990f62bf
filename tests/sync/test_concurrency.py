"""Concurrency on PostgreSQL: real threads and processes, each with its own database connection."""

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from apps.sync.alerts import alert_raise
from apps.sync.models import Alert, OutboxMessage, WebhookReceipt
from apps.sync.outbox import Sent, outbox_action, outbox_enqueue, outbox_pump_step
from apps.sync.pumps import pump_run
from apps.sync.receipts import receipt_handler, receipts_pump_step

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def run_threads(count: int, target) -> list:
    """Start `count` threads together; each gets its own connection, closed when it ends."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def body(index: int) -> None:
        try:
            barrier.wait()
            results[index] = target(index)
        except BaseException as exc:  # noqa: BLE001 - surfaced to the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.fixture
def recording_action(sync_registry):
    calls: list[str] = []
    lock = threading.Lock()

    @outbox_action("testpeer", "create", batch_size=3)
    def send(messages):
        time.sleep(0.005)  # long enough for the other claimers to try the same rows
        with lock:
            calls.extend(m.idempotency_key for m in messages)
        return [Sent({"key": m.idempotency_key}) for m in messages]

    keys = [f"k{i}" for i in range(60)]
    for key in keys:
        outbox_enqueue(peer="testpeer", action="create", idempotency_key=key, payload={})
    return calls, keys


def test_two_concurrent_pumps_never_send_one_message_twice(recording_action):
    calls, keys = recording_action

    def keep_pumping(index: int) -> list:
        runs = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and OutboxMessage.objects.exclude(status="done").exists():
            runs.append(pump_run("testpeer", once=True))
        return runs

    runs = [stats for per_thread in run_threads(2, keep_pumping) for stats in per_thread]
    assert Counter(calls) == Counter(keys)
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"done"}
    assert sum(stats.sent for stats in runs) == len(keys)
    # They really did run at the same time: some runs found the lease taken.
    assert any(not stats.acquired for stats in runs)


def test_concurrent_claimers_without_the_lease_never_share_a_message(recording_action):
    """Four workers draining the same peer directly: SKIP LOCKED alone keeps them apart."""
    calls, keys = recording_action

    def drain(index: int) -> int:
        claimed = 0
        while handled := outbox_pump_step(peer="testpeer"):
            claimed += handled
        return claimed

    claimed = run_threads(4, drain)
    assert Counter(calls) == Counter(keys)
    assert sum(claimed) == len(keys)
    assert sum(1 for c in claimed if c) > 1  # the work really was shared
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}


def test_concurrent_receipt_appliers_apply_each_receipt_once(sync_registry):
    applied: list[int] = []
    lock = threading.Lock()

    @receipt_handler("testsrc")
    def apply(receipt):
        time.sleep(0.002)
        with lock:
            applied.append(receipt.pk)
        return True

    WebhookReceipt.objects.bulk_create(
        WebhookReceipt(source="testsrc", delivery_id=str(i), body=b"{}") for i in range(80)
    )

    def drain(index: int) -> None:
        while receipts_pump_step():
            pass

    run_threads(4, drain)
    assert len(applied) == 80
    assert len(set(applied)) == 80
    assert set(WebhookReceipt.objects.values_list("status", flat=True)) == {"applied"}


def test_concurrent_alert_raises_make_one_row_with_every_count():
    run_threads(8, lambda i: alert_raise(kind="k", dedupe_key="same", message=f"from {i}"))
    alert = Alert.objects.get()
    assert alert.count == 8


CHILD = """
import json, os, sys, time
import django
django.setup()
from apps.sync.budgets import budget_acquire
print("ready", flush=True)
start, seconds = (float(value) for value in sys.stdin.readline().split())
time.sleep(max(0.0, start - time.time()))
spans = []
while time.time() < start + seconds:
    before = time.time()
    budget_acquire(peer="teams", max_wait=5)
    spans.append((before, time.time()))
print(json.dumps(spans))
"""


def test_processes_sharing_a_rate_budget_never_exceed_it():
    capacity, refill, seconds, workers = 3.0, 10.0, 2.0, 3
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "o2c_portal.settings",
        "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(
            **{**connection.settings_dict, "PORT": connection.settings_dict["PORT"] or 5432}
        ),
        "TEAMS_BUDGET_CAPACITY": str(capacity),
        "TEAMS_BUDGET_REFILL": str(refill),
        "LOG_LEVEL": "WARNING",
    }
    children = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", CHILD],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    # The same start for all, once every child has imported Django (slow on a loaded machine).
    for child in children:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
    start = time.time() + 0.3
    for child in children:
        child.stdin.write(f"{start} {seconds}\n")
        child.stdin.flush()
    spans = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        spans.extend(json.loads(out))
    spans.sort()

    # Each token was taken somewhere inside its (before, after) span. For any interval [t1, t2],
    # the takes whose whole span lies inside it must fit the bucket: capacity + refill · (t2 − t1).
    worst = 0.0
    for i, (t1, _) in enumerate(spans):
        for _, t2 in spans[i:]:
            if t2 < t1:
                continue
            inside = sum(1 for before, after in spans if before >= t1 and after <= t2)
            worst = max(worst, inside - (capacity + refill * (t2 - t1)))
    assert worst <= 1e-6, f"the budget was exceeded by {worst:.3f} calls"

    allowed = capacity + refill * seconds
    # Shared, not starved: together they still used most of what the budget allowed.
    assert len(spans) >= 0.7 * allowed, (len(spans), allowed)
