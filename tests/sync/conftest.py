"""Fixtures for the sync plumbing: a scratch handler registry and a fake peer that honours idempotency keys."""

import json
import threading
from collections import Counter

import httpx
import pytest

from apps.sync import registry
from integrations.http import build_client, raise_for_status


@pytest.fixture
def sync_registry():
    """Register throwaway actions and handlers in a test; the real registry comes back afterwards."""
    snapshot = registry.registry_snapshot()
    yield registry
    registry.registry_restore(snapshot)


@pytest.fixture
def sync_settings(settings):
    settings.SYNC = {
        **settings.SYNC,
        "MAX_ATTEMPTS": 4,
        "BACKOFF_BASE_SECONDS": 2.0,
        "BACKOFF_MAX_SECONDS": 60.0,
        "CLAIM_SECONDS": 30,
        "LEASE_SECONDS": 30,
    }
    return settings


class FakePeer:
    """A peer that creates one record per Idempotency-Key and counts every attempt it sees.

    Thread-safe, so concurrent pumps can share it. `script` queues answers (status, headers) to give
    before creating anything: e.g. [(503, {}), (429, {"Retry-After": "30"})].
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: dict[str, int] = {}
        self.attempts: Counter[str] = Counter()
        self.script: list[tuple[int, dict]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        key = request.headers["Idempotency-Key"]
        with self.lock:
            self.attempts[key] += 1
            if self.script:
                status, headers = self.script.pop(0)
                return httpx.Response(status, headers=headers, json={"error": "scripted"})
            record_id = self.records.setdefault(key, len(self.records) + 1)
        return httpx.Response(201, json={"id": record_id, "key": key})

    def client(self, *, rate_gate=None) -> httpx.Client:
        return build_client(
            peer="fakepeer",
            base_url="https://peer.test",
            transport=httpx.MockTransport(self.handle),
            rate_gate=rate_gate,
        )


@pytest.fixture
def fake_peer():
    return FakePeer()


def fake_peer_send(peer: FakePeer, messages, *, rate_gate=None):
    """A real-shaped sender: one POST per message carrying its idempotency key."""
    from apps.sync.outbox import Sent

    outcomes = []
    with peer.client(rate_gate=rate_gate) as client:
        for message in messages:
            response = client.post(
                "/records",
                content=json.dumps(message.payload),
                headers={"Idempotency-Key": message.idempotency_key},
            )
            raise_for_status("fakepeer", response)
            outcomes.append(Sent(response.json()))
    return outcomes
