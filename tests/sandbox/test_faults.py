import random
import time

import httpx
import pytest

from apps.sandbox.faults import fault_rng_seed, sandbox_faults
from apps.sandbox.models import SandboxFault
from tests.sandbox import urls as standin

pytestmark = pytest.mark.urls("tests.sandbox.urls")
URL = "/standin/shipbob/order"


@pytest.fixture(autouse=True)
def _fresh_calls():
    standin.VIEW_CALLS.clear()
    yield
    fault_rng_seed(seed=None)


def test_no_row_or_disabled_passes_straight_through(client, db):
    assert client.post(URL).status_code == 201
    SandboxFault.objects.create(peer="shipbob", enabled=False, error_rate=1.0, burst_429=5)
    assert client.post(URL).status_code == 201
    assert standin.VIEW_CALLS == ["POST", "POST"]
    assert SandboxFault.objects.get(peer="shipbob").burst_429 == 5


def test_burst_answers_429_with_the_peers_headers_then_recovers(client, db):
    SandboxFault.objects.create(peer="shipbob", enabled=True, burst_429=2, retry_after_seconds=7)
    first, second, third = (client.post(URL) for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 201]
    assert first["x-retry-after"] == "7"
    assert first["x-remaining-calls"] == "0"
    assert "Retry-After" not in first
    fault = SandboxFault.objects.get(peer="shipbob")
    assert fault.burst_429 == 0
    assert fault.throttles_injected == 2
    # A throttled call never reaches the stand-in: the peer did no work.
    assert standin.VIEW_CALLS == ["POST"]


def test_default_retry_after_header_name(client, db, rf):
    SandboxFault.objects.create(peer="xero", enabled=True, burst_429=1, retry_after_seconds=3)

    @sandbox_faults("xero", throttle_headers={"X-Rate-Limit-Problem": "minute"})
    def view(request):
        raise AssertionError("a throttled call must not reach the view")

    response = view(rf.put("/x"))
    assert response.status_code == 429
    assert response["Retry-After"] == "3"
    assert response["X-Rate-Limit-Problem"] == "minute"


def test_errors_follow_the_seeded_rng_exactly(client, db):
    SandboxFault.objects.create(peer="shipbob", enabled=True, error_rate=0.5)
    expected_rng = random.Random(7)
    expected = []
    for _ in range(30):
        error_draw, _timeout_draw = expected_rng.random(), expected_rng.random()
        expected.append(expected_rng.choice([500, 503]) if error_draw < 0.5 else 201)

    fault_rng_seed(seed=7, peer="shipbob")
    statuses = [client.post(URL).status_code for _ in range(30)]
    assert statuses == expected
    assert {500, 503, 201} <= set(statuses)
    assert SandboxFault.objects.get(peer="shipbob").errors_injected == statuses.count(
        500
    ) + statuses.count(503)
    assert len(standin.VIEW_CALLS) == statuses.count(201)

    fault_rng_seed(seed=7, peer="shipbob")
    assert [client.post(URL).status_code for _ in range(30)] == expected


def test_error_rate_one_always_fails_and_zero_never(client, db):
    fault = SandboxFault.objects.create(peer="shipbob", enabled=True, error_rate=1.0)
    assert {client.post(URL).status_code for _ in range(10)} <= {500, 503}
    fault.error_rate = 0.0
    fault.save()
    assert {client.post(URL).status_code for _ in range(10)} == {201}


def test_extra_latency_delays_the_answer(client, db):
    SandboxFault.objects.create(peer="shipbob", enabled=True, extra_latency_ms=150)
    started = time.monotonic()
    response = client.post(URL)
    assert response.status_code == 201
    assert time.monotonic() - started >= 0.15


@pytest.mark.django_db(transaction=True)
def test_timeout_stalls_past_the_client_timeout_but_the_work_is_done(live_server):
    SandboxFault.objects.create(peer="shipbob", enabled=True, timeout_rate=1.0, timeout_seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{live_server.url}{URL}", timeout=0.3)
    deadline = time.monotonic() + 5
    while not standin.VIEW_CALLS and time.monotonic() < deadline:
        time.sleep(0.05)
    # The client gave up, yet the stand-in ran: a retry must rely on the idempotency key.
    assert standin.VIEW_CALLS == ["POST"]
    assert SandboxFault.objects.get(peer="shipbob").timeouts_injected == 1


def test_unknown_peer_is_refused_at_decoration():
    with pytest.raises(ValueError, match="unknown sandbox peer"):
        sandbox_faults("amazon")
