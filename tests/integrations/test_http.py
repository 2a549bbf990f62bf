"""integrations/http.py: error classification, Retry-After parsing, the rate gate hooks, redaction."""

import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from integrations.http import (
    BudgetExhausted,
    PeerError,
    RateInfo,
    build_client,
    default_rate_info,
    parse_retry_after,
    raise_for_status,
    redact_headers,
    redact_url,
)


class RecordingGate:
    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.acquired = 0
        self.observed: list[tuple[int, RateInfo]] = []

    def acquire(self) -> None:
        if self.refuse:
            raise BudgetExhausted("acme", retry_after=3.0)
        self.acquired += 1

    def observe(self, status_code: int, info: RateInfo) -> None:
        self.observed.append((status_code, info))


def client_answering(*responses, gate=None, **kwargs) -> httpx.Client:
    queue = list(responses)
    return build_client(
        peer="acme",
        base_url="https://acme.test/api",
        transport=httpx.MockTransport(lambda request: queue.pop(0)),
        rate_gate=gate,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(408, True), (425, True), (429, True), (500, True), (502, True), (503, True), (504, True),
     (400, False), (401, False), (403, False), (404, False), (409, False), (422, False)],
)  # fmt: skip
def test_statuses_are_classified(status, retryable):
    with client_answering(httpx.Response(status, text="nope")) as client:
        response = client.get("/things")
    with pytest.raises(PeerError) as caught:
        raise_for_status("acme", response)
    error = caught.value
    assert error.retryable is retryable
    assert error.status_code == status
    assert error.peer == "acme"
    assert error.body == "nope"
    assert f"HTTP {status}" in error.message
    assert "/api/things" in error.message


def test_success_passes_through():
    with client_answering(httpx.Response(201, json={"id": 1})) as client:
        response = client.post("/things", json={})
    assert raise_for_status("acme", response) is response


def test_a_429_carries_retry_after_and_remaining():
    response = httpx.Response(429, headers={"x-retry-after": "17", "x-remaining-calls": "0"})
    with client_answering(response) as client:
        answer = client.get("/x")
    error = PeerError.from_response("acme", answer)
    assert (error.retry_after, error.remaining) == (17.0, 0)
    custom = PeerError.from_response("acme", answer, rate_info=RateInfo(remaining=5))
    assert (custom.retry_after, custom.remaining) == (None, 5)


@respx.mock
def test_timeouts_and_connection_errors_are_retryable():
    respx.get("https://acme.test/api/slow").mock(side_effect=httpx.ReadTimeout("timed out"))
    respx.get("https://acme.test/api/down").mock(side_effect=httpx.ConnectError("refused"))
    with build_client(peer="acme", base_url="https://acme.test/api") as client:
        for path in ("/slow", "/down"):
            with pytest.raises(httpx.TransportError) as caught:
                client.get(path)
            error = PeerError.from_exception("acme", caught.value)
            assert error.retryable
            assert error.status_code is None
    assert not PeerError.from_exception("acme", httpx.UnsupportedProtocol("ftp")).retryable


def test_parse_retry_after_seconds_and_dates():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    later = datetime.now(UTC) + timedelta(seconds=90)
    assert parse_retry_after(format_datetime(later, usegmt=True)) == pytest.approx(90, abs=2)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_default_rate_info_reads_the_common_headers():
    assert default_rate_info(httpx.Response(200, headers={"X-RateLimit-Remaining": "41"})) == (
        RateInfo(remaining=41)
    )
    assert default_rate_info(httpx.Response(429, headers={"Retry-After": "2"})) == RateInfo(
        retry_after=2.0
    )


def test_the_gate_is_asked_before_and_told_after_every_request():
    gate = RecordingGate()
    answer = httpx.Response(200, headers={"x-remaining-calls": "9"})
    with client_answering(answer, gate=gate) as client:
        client.get("/x")
    assert gate.acquired == 1
    assert gate.observed == [(200, RateInfo(remaining=9))]


def test_a_refusing_gate_stops_the_request_before_it_is_sent():
    sent = []
    gate = RecordingGate(refuse=True)
    client = build_client(
        peer="acme",
        base_url="https://acme.test",
        rate_gate=gate,
        transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200)),
    )
    with pytest.raises(BudgetExhausted) as caught:
        client.get("/x")
    assert sent == []
    assert caught.value.retryable
    assert caught.value.retry_after == 3.0


def test_client_has_explicit_timeouts_user_agent_and_custom_rate_parser():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, headers={"X-DayLimit-Remaining": "4999"})

    gate = RecordingGate()
    client = build_client(
        peer="acme",
        base_url="https://acme.test",
        timeout=12,
        user_agent="Acme-Test/1.0",
        rate_gate=gate,
        rate_info=lambda r: RateInfo(remaining=int(r.headers["X-DayLimit-Remaining"])),
        transport=httpx.MockTransport(handler),
    )
    assert client.timeout.read == 12
    assert client.timeout.connect < client.timeout.read
    client.get("/x")
    assert seen[0].headers["User-Agent"] == "Acme-Test/1.0"
    assert gate.observed == [(200, RateInfo(remaining=4999))]


def test_logs_redact_secrets_in_headers_and_query(caplog):
    caplog.set_level(logging.DEBUG, logger="integrations.http")
    with client_answering(
        httpx.Response(200),
        headers={
            "Authorization": "Bearer sk-live-123",
            "X-Shopify-Access-Token": "shpat_abc",
            "api-key": "azure-key-9",
            "Idempotency-Key": "ship:1",
        },
    ) as client:
        client.get("/x", params={"access_token": "tok-456", "page": "2", "code": "oauth-code"})
    text = caplog.text
    for secret in ("sk-live-123", "shpat_abc", "azure-key-9", "tok-456", "oauth-code"):
        assert secret not in text
    assert "[redacted]" in text
    assert "page=2" in text
    assert "ship:1" in text
    assert "-> 200" in text


def test_redaction_helpers():
    assert redact_headers({"Authorization": "x", "webhook-signature": "v1,abc", "Accept": "a"}) == {
        "Authorization": "[redacted]",
        "webhook-signature": "[redacted]",
        "Accept": "a",
    }
    assert redact_url("https://user:pw@h.test/p?api_key=1&q=ok") == (
        "https://[redacted]@h.test/p?api_key=[redacted]&q=ok"
    )
