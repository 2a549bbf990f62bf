"""The stand-in's per-organisation limits: minute, day, concurrent — 429s and headers."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from apps.sandbox.models import SandboxFault
from apps.sandbox.xero import books
from integrations.xero.client import XeroRateLimited


def test_every_answer_carries_the_remaining_calls(xero, settings):
    settings.SANDBOX_XERO = {**settings.SANDBOX_XERO, "MINUTE_LIMIT": 60, "DAY_LIMIT": 100}
    books.calls_reset()
    seen = []
    for _ in range(3):
        xero.contacts_by_number(["x"])
        seen.append(xero.last_limits)
    assert [s.minute_remaining for s in seen] == [59, 58, 57]
    assert [s.day_remaining for s in seen] == [99, 98, 97]
    assert all(s.app_minute_remaining is not None and not s.problem for s in seen)


def test_minute_limit_answers_429_with_problem_and_retry_after(xero, settings):
    settings.SANDBOX_XERO = {**settings.SANDBOX_XERO, "MINUTE_LIMIT": 3}
    books.calls_reset()
    for _ in range(3):
        xero.contacts_by_number(["x"])
    with pytest.raises(XeroRateLimited) as limited:
        xero.contacts_by_number(["x"])
    assert limited.value.problem == "minute"
    assert 0 < limited.value.retry_after <= 60
    assert limited.value.remaining == 0
    assert xero.last_limits.minute_remaining == 0
    assert books.calls_by_kind()["GET Contacts"] == 3


def test_day_limit_answers_429_day(xero, settings):
    settings.SANDBOX_XERO = {**settings.SANDBOX_XERO, "DAY_LIMIT": 2}
    books.calls_reset()
    xero.contacts_by_number(["x"])
    assert xero.last_limits.day_remaining == 1
    xero.contacts_by_number(["x"])
    with pytest.raises(XeroRateLimited) as limited:
        xero.contacts_by_number(["x"])
    assert limited.value.problem == "day"
    assert limited.value.retry_after > 3600


# SQLite's in-memory test database is one shared connection: parallel requests lock its tables.
@pytest.mark.postgres
def test_more_than_five_at_once_is_a_concurrent_429(xero, oauth_tokens, tenant_id, settings):
    books.calls_reset()
    # Every call is held for 1.5 s inside the stand-in, so eight at once overlap.
    SandboxFault.objects.update_or_create(
        peer="xero", defaults={"enabled": True, "extra_latency_ms": 1500}
    )
    headers = {
        "Authorization": f"Bearer {oauth_tokens.access_token}",
        "xero-tenant-id": tenant_id,
        "Accept": "application/json",
    }

    def call(_):
        return httpx.get(f"{settings.XERO['API_URL']}/Contacts", headers=headers, timeout=20)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(call, range(8)))
    statuses = sorted(a.status_code for a in answers)
    refused = [a for a in answers if a.status_code == 429]
    assert statuses.count(200) == 5, statuses
    assert len(refused) == 3
    for answer in refused:
        assert answer.headers["X-Rate-Limit-Problem"] == "concurrent"
        assert answer.headers["Retry-After"] == "1"
        assert answer.headers["X-MinLimit-Remaining"].isdigit()
    # The refused calls did not use up the minute allowance.
    assert min(int(a.headers["X-MinLimit-Remaining"]) for a in answers) == 1000 - 5


def test_injected_429_burst_is_shaped_like_xero(xero):
    SandboxFault.objects.update_or_create(
        peer="xero", defaults={"enabled": True, "burst_429": 1, "retry_after_seconds": 3}
    )
    with pytest.raises(XeroRateLimited) as limited:
        xero.contacts_by_number(["x"])
    assert limited.value.problem == "minute"
    assert limited.value.retry_after == 3.0
    assert xero.contacts_by_number(["x"]) == {}


def test_stats_endpoint_counts_calls_per_kind(xero, contact_ids, settings):
    url = f"{settings.XERO['API_URL'].rsplit('/api.xro', 1)[0]}/stats.json"
    assert httpx.get(url).status_code == 403
    auth = {"Authorization": f"Bearer {settings.SANDBOX_API_TOKEN}"}
    stats = httpx.get(url, headers=auth).json()
    assert stats["calls"]["PUT Contacts"] == 1
    assert stats["calls"]["token"] == 1
    assert stats["contacts"] == 2
    assert httpx.delete(url, headers=auth).json()["calls"] == {}
