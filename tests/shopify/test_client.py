"""ShopifyClient against scripted answers: tokens, THROTTLED, 429/503, GraphQL errors, rate info."""

import json
from datetime import UTC, datetime

import httpx
import pytest

from integrations.http import PeerError, RateInfo
from integrations.shopify.client import MemoryTokenCache, ShopifyClient, throttle_wait

BASE = "https://shop.example.myshopify.com"
GRAPHQL = f"{BASE}/admin/api/2026-10/graphql.json"


def cost(available=950.0, requested=12, actual=10, restore=100.0):
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": 1000.0,
                "currentlyAvailable": available,
                "restoreRate": restore,
            },
        }
    }


def orders_answer(nodes=(), has_next=False, end=None, **cost_kw):
    return {
        "data": {
            "orders": {
                "nodes": list(nodes),
                "pageInfo": {"hasNextPage": has_next, "endCursor": end},
            }
        },
        "extensions": cost(**cost_kw),
    }


THROTTLED = {
    "errors": [
        {
            "message": "Throttled",
            "extensions": {
                "code": "THROTTLED",
                "documentation": "https://shopify.dev/api/usage/limits",
            },
        }
    ],
    "extensions": {
        "cost": {
            "requestedQueryCost": 602,
            "actualQueryCost": None,
            "throttleStatus": {
                "maximumAvailable": 1000.0,
                "currentlyAvailable": 402,
                "restoreRate": 100.0,
            },
        }
    },
}


class Script:
    """A MockTransport that answers from a list and records each request."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        return answer(request) if callable(answer) else answer


class RecordingGate:
    def __init__(self):
        self.acquired = 0
        self.observed: list[tuple[int, RateInfo]] = []

    def acquire(self):
        self.acquired += 1

    def observe(self, status_code, info):
        self.observed.append((status_code, info))


def make_client(script, **kwargs):
    kwargs.setdefault("access_token", "shpat_static")
    return ShopifyClient(
        base_url=BASE, api_version="2026-10", transport=httpx.MockTransport(script), **kwargs
    )


SINCE = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_orders_query_sends_token_search_and_cursor_and_reads_the_page():
    script = Script(
        httpx.Response(200, json=orders_answer([{"id": "gid://shopify/Order/1"}], True, "c1"))
    )
    gate = RecordingGate()
    client = make_client(script, rate_gate=gate)

    page = client.orders_updated_since(SINCE, after="c0")

    request = script.requests[0]
    assert str(request.url) == GRAPHQL
    assert request.headers["X-Shopify-Access-Token"] == "shpat_static"
    body = json.loads(request.content)
    assert (
        "orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query)" in body["query"]
    )
    assert body["variables"]["query"] == "updated_at:>'2026-11-01T12:00:00Z'"
    assert body["variables"]["after"] == "c0"
    assert page.has_next_page is True
    assert page.end_cursor == "c1"
    assert page.nodes == [{"id": "gid://shopify/Order/1"}]
    assert page.cost.throttle.currently_available == 950.0
    # The rate gate was asked first and then told the points left from extensions.cost.
    assert gate.acquired == 1
    assert gate.observed == [(200, RateInfo(remaining=950, retry_after=None))]


def test_throttled_is_retryable_with_the_wait_computed_from_the_cost():
    script = Script(httpx.Response(200, json=THROTTLED))
    gate = RecordingGate()
    client = make_client(script, throttle_retries=0, rate_gate=gate)

    with pytest.raises(PeerError) as caught:
        client.orders_updated_since(SINCE)

    assert caught.value.retryable is True
    assert caught.value.retry_after == pytest.approx(2.0)  # (602 - 402) / 100
    assert caught.value.remaining == 402
    assert gate.observed == [(200, RateInfo(remaining=402, retry_after=2.0))]


def test_throttled_is_waited_out_then_retried():
    slept = []
    script = Script(
        httpx.Response(200, json=THROTTLED), httpx.Response(200, json=orders_answer(available=500))
    )
    client = make_client(script, sleep=slept.append)

    page = client.orders_updated_since(SINCE)

    assert slept == [pytest.approx(2.0)]
    assert len(script.requests) == 2
    assert page.nodes == []


def test_a_long_throttle_wait_is_not_slept_but_raised():
    slow = json.loads(json.dumps(THROTTLED))
    slow["extensions"]["cost"]["throttleStatus"]["restoreRate"] = 10.0
    slept = []
    client = make_client(Script(httpx.Response(200, json=slow)), sleep=slept.append)

    with pytest.raises(PeerError) as caught:
        client.orders_updated_since(SINCE)

    assert caught.value.retry_after == pytest.approx(20.0)
    assert slept == []


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_with_retry_after_are_retryable(status):
    script = Script(httpx.Response(status, headers={"Retry-After": "30"}, json={"errors": "busy"}))
    client = make_client(script)

    with pytest.raises(PeerError) as caught:
        client.orders_updated_since(SINCE)

    assert caught.value.retryable is True
    assert caught.value.retry_after == 30.0
    assert caught.value.status_code == status


def test_a_429_with_a_short_retry_after_is_waited_out():
    slept = []
    script = Script(
        httpx.Response(429, headers={"Retry-After": "1"}, json={"errors": "Throttled"}),
        httpx.Response(200, json=orders_answer()),
    )
    make_client(script, sleep=slept.append).orders_updated_since(SINCE)
    assert slept == [1.0]


def test_other_graphql_errors_are_permanent():
    script = Script(
        httpx.Response(
            200,
            json={
                "errors": [{"message": "Field 'nope' doesn't exist on type 'Order'"}],
                "extensions": cost(),
            },
        )
    )
    with pytest.raises(PeerError) as caught:
        make_client(script).orders_updated_since(SINCE)
    assert caught.value.retryable is False
    assert "doesn't exist" in caught.value.message


def test_a_static_token_refused_is_permanent():
    script = Script(httpx.Response(401, json={"errors": "[API] Invalid API key or access token"}))
    with pytest.raises(PeerError) as caught:
        make_client(script).orders_updated_since(SINCE)
    assert caught.value.retryable is False
    assert caught.value.status_code == 401
    assert len(script.requests) == 1


def token_answer(token, expires_in=86399):
    return httpx.Response(
        200, json={"access_token": token, "scope": "read_orders", "expires_in": expires_in}
    )


def test_client_credentials_token_is_fetched_once_and_cached():
    script = Script(
        token_answer("tok-1"),
        httpx.Response(200, json=orders_answer()),
        httpx.Response(200, json=orders_answer()),
    )
    client = make_client(script, access_token="", client_id="cid", client_secret="csecret")

    client.orders_updated_since(SINCE)
    client.orders_updated_since(SINCE)

    token_request = script.requests[0]
    assert str(token_request.url) == f"{BASE}/admin/oauth/access_token"
    form = dict(httpx.QueryParams(token_request.content.decode()))
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "cid",
        "client_secret": "csecret",
    }
    assert [r.headers["X-Shopify-Access-Token"] for r in script.requests[1:]] == ["tok-1", "tok-1"]


def test_a_token_is_refreshed_before_it_expires():
    now = [0.0]
    cache = MemoryTokenCache(clock=lambda: now[0])
    script = Script(
        token_answer("tok-1", expires_in=1000),
        httpx.Response(200, json=orders_answer()),
        token_answer("tok-2", expires_in=1000),
        httpx.Response(200, json=orders_answer()),
    )
    client = make_client(
        script, access_token="", client_id="c", client_secret="s", token_cache=cache
    )

    client.orders_updated_since(SINCE)
    now[0] = 905.0  # 95 s before Shopify's expiry: inside the early-refresh margin
    client.orders_updated_since(SINCE)

    assert script.requests[3].headers["X-Shopify-Access-Token"] == "tok-2"


def test_a_401_fetches_a_fresh_token_and_retries_once():
    cache = MemoryTokenCache()
    cache.set(f"shopify.token:{BASE}:c", "revoked", 3600)
    script = Script(
        httpx.Response(401, json={"errors": "[API] Invalid API key or access token"}),
        token_answer("fresh"),
        httpx.Response(200, json=orders_answer()),
    )
    client = make_client(
        script, access_token="", client_id="c", client_secret="s", token_cache=cache
    )

    client.orders_updated_since(SINCE)

    assert script.requests[0].headers["X-Shopify-Access-Token"] == "revoked"
    assert script.requests[2].headers["X-Shopify-Access-Token"] == "fresh"
    assert cache.get(f"shopify.token:{BASE}:c") == "fresh"


def test_a_second_401_is_not_retried_again():
    script = Script(
        token_answer("t1"),
        httpx.Response(401, json={"errors": "no"}),
        token_answer("t2"),
        httpx.Response(401, json={"errors": "still no"}),
    )
    client = make_client(script, access_token="", client_id="c", client_secret="s")
    with pytest.raises(PeerError) as caught:
        client.orders_updated_since(SINCE)
    assert caught.value.status_code == 401
    assert len(script.requests) == 4


def test_webhook_subscription_create_returns_user_errors():
    script = Script(
        httpx.Response(
            200,
            json={
                "data": {
                    "webhookSubscriptionCreate": {
                        "webhookSubscription": None,
                        "userErrors": [
                            {
                                "field": ["webhookSubscription", "uri"],
                                "message": "Address is invalid",
                            }
                        ],
                    }
                },
                "extensions": cost(),
            },
        )
    )
    result = make_client(script).webhook_subscription_create("ORDERS_CREATE", "nope")
    body = json.loads(script.requests[0].content)
    assert body["variables"] == {
        "topic": "ORDERS_CREATE",
        "webhookSubscription": {"uri": "nope", "format": "JSON"},
    }
    assert result.subscription is None
    assert result.user_errors[0]["message"] == "Address is invalid"


def test_transport_failures_are_retryable_peer_errors():
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(PeerError) as caught:
        make_client(Script(refuse)).orders_updated_since(SINCE)
    assert caught.value.retryable is True


def test_throttle_wait_needs_a_cost():
    assert throttle_wait(None) is None


def test_a_client_needs_credentials():
    with pytest.raises(ValueError, match="ACCESS_TOKEN"):
        ShopifyClient(base_url=BASE, api_version="2026-10")
