"""The Shopify stand-in over real HTTP (live_server) with the real client: pagination, search, cost."""

import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from apps.orders.shopify_graphql import order_from_graphql
from apps.sandbox.shopify.models import StoreAccessToken, StoreCostBucket, StoreOrder
from apps.sandbox.shopify.simulator import SimulatorConfig, storefront_simulate
from integrations.http import PeerError
from integrations.shopify.client import ORDERS_QUERY, MemoryTokenCache, ShopifyClient
from tests.shopify.conftest import STATIC_TOKEN

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def store_orders(n, *, seed=1):
    storefront_simulate(config=SimulatorConfig(orders=n, seed=seed, deliver=False))
    return list(StoreOrder.objects.order_by("updated_at", "shopify_id"))


def test_orders_are_paged_by_cursor_in_updated_at_order(live_client):
    rows = store_orders(7)
    since = min(r.updated_at for r in rows) - timedelta(seconds=1)

    seen, after, pages = [], None, 0
    while True:
        page = live_client.orders_updated_since(since, after=after, first=3)
        pages += 1
        seen.extend(int(node["legacyResourceId"]) for node in page.nodes)
        if not page.has_next_page:
            break
        after = page.end_cursor

    assert pages == 3
    assert seen == [r.shopify_id for r in rows]
    assert page.cost.requested is not None
    assert page.cost.actual <= page.cost.requested


def test_the_search_filter_keeps_only_orders_updated_after_the_time(live_client):
    rows = store_orders(4)
    cut = rows[1].updated_at

    page = live_client.orders_updated_since(cut)

    ids = {int(node["legacyResourceId"]) for node in page.nodes}
    assert ids == {r.shopify_id for r in rows if r.updated_at > cut}
    assert rows[0].shopify_id not in ids


def test_nodes_come_back_in_the_selected_shape_and_map_to_order_data(live_client):
    (row,) = store_orders(1)
    page = live_client.orders_updated_since(row.updated_at - timedelta(seconds=5))
    node = page.nodes[0]

    assert "presentmentMoney" not in node["totalPriceSet"]  # only what was selected
    assert set(node["customer"]) == {"legacyResourceId", "firstName", "lastName", "email", "phone"}
    data = order_from_graphql(node)
    assert data.shopify_id == row.shopify_id > 2**53
    assert str(data.total_price) == row.payload["total_price"]
    assert len(data.lines) == len(row.payload["line_items"])


def test_an_order_with_more_lines_than_a_page_is_completed(live_client):
    (row,) = store_orders(1)
    payload = row.payload
    template = payload["line_items"][0]
    payload["line_items"] = [{**template, "id": template["id"] + n} for n in range(23)]
    row.payload = payload
    row.save()

    page = live_client.orders_updated_since(row.updated_at - timedelta(seconds=5))

    assert len(order_from_graphql(page.nodes[0]).lines) == 23


def test_the_requested_cost_of_our_orders_page_fits_under_the_single_query_limit(live_client):
    store_orders(1)
    page = live_client.orders_updated_since(datetime(2020, 1, 1, tzinfo=UTC))
    assert page.cost.requested <= 1000
    assert page.cost.throttle.maximum_available == 1000.0


def test_an_empty_bucket_answers_throttled_and_the_client_raises_retryable(live_client, settings):
    store_orders(1)
    settings.SANDBOX_SHOPIFY = {"MAXIMUM_AVAILABLE": 1000.0, "RESTORE_RATE": 1.0}
    StoreCostBucket.objects.create(key=STATIC_TOKEN, available=5.0, updated_at=datetime.now(UTC))
    live_client.max_throttle_wait = 0.5

    with pytest.raises(PeerError) as caught:
        live_client.orders_updated_since(datetime(2020, 1, 1, tzinfo=UTC))

    assert caught.value.retryable is True
    assert caught.value.retry_after > 100  # (requested - 5) / 1 per second
    assert StoreCostBucket.objects.get(key=STATIC_TOKEN).throttled_total == 1


def test_a_throttled_client_waits_for_the_bucket_and_then_succeeds(live_client, settings):
    store_orders(1)
    settings.SANDBOX_SHOPIFY = {"MAXIMUM_AVAILABLE": 1000.0, "RESTORE_RATE": 500.0}
    StoreCostBucket.objects.create(key=STATIC_TOKEN, available=0.0, updated_at=datetime.now(UTC))
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        time.sleep(seconds)

    live_client.sleep = sleep
    # With 500 points/s restored, the bucket holds a page's cost again within about two seconds.
    page = live_client.orders_updated_since(datetime(2020, 1, 1, tzinfo=UTC))

    assert len(page.nodes) == 1
    assert len(slept) == 1
    assert 0 < slept[0] <= 2.0
    assert StoreCostBucket.objects.get(key=STATIC_TOKEN).throttled_total == 1


def test_a_query_over_the_single_query_limit_is_refused(shopify_live, settings):
    body = {"query": ORDERS_QUERY, "variables": {"first": 50, "query": ""}}
    response = httpx.post(
        f"{settings.SHOPIFY['BASE_URL']}/admin/api/2026-10/graphql.json",
        content=json.dumps(body),
        headers={"X-Shopify-Access-Token": STATIC_TOKEN, "Content-Type": "application/json"},
    )
    answer = response.json()
    assert response.status_code == 200
    assert answer["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_a_wrong_token_is_401(shopify_live, settings):
    response = httpx.post(
        f"{settings.SHOPIFY['BASE_URL']}/admin/api/2026-10/graphql.json",
        json={"query": "{ orders(first: 1) { nodes { id } } }"},
        headers={"X-Shopify-Access-Token": "shpat_wrong"},
    )
    assert response.status_code == 401
    assert "Invalid API key" in response.json()["errors"]


def test_client_credentials_then_a_revoked_token_is_refreshed(shopify_live, settings):
    store_orders(1)
    client = ShopifyClient(
        base_url=settings.SHOPIFY["BASE_URL"],
        api_version="2026-10",
        client_id="test-client-id",
        client_secret="test-client-secret",
        token_cache=MemoryTokenCache(),
    )
    with client:
        client.orders_updated_since(datetime(2020, 1, 1, tzinfo=UTC))
        first = StoreAccessToken.objects.get()
        first.delete()  # Shopify revoked it
        page = client.orders_updated_since(datetime(2020, 1, 1, tzinfo=UTC))

    assert len(page.nodes) == 1
    assert StoreAccessToken.objects.count() == 1
    assert StoreAccessToken.objects.get().token != first.token


def test_wrong_client_credentials_are_refused(shopify_live, settings):
    client = ShopifyClient(
        base_url=settings.SHOPIFY["BASE_URL"],
        api_version="2026-10",
        client_id="x",
        client_secret="y",
    )
    with client, pytest.raises(PeerError) as caught:
        client.webhook_subscriptions()
    assert caught.value.status_code == 401
    assert StoreAccessToken.objects.count() == 0


def test_webhook_subscriptions_are_created_listed_and_duplicates_refused(live_client):
    created = live_client.webhook_subscription_create(
        "ORDERS_CREATE", "https://portal.example/webhooks/shopify/"
    )
    again = live_client.webhook_subscription_create(
        "ORDERS_CREATE", "https://portal.example/webhooks/shopify/"
    )
    bad = live_client.webhook_subscription_create("ORDERS_CREATE", "not a url")

    assert created.user_errors == []
    assert created.subscription.id.startswith("gid://shopify/WebhookSubscription/")
    assert again.subscription is None
    assert "already been taken" in again.user_errors[0]["message"]
    assert bad.user_errors[0]["field"] == ["webhookSubscription", "uri"]
    listed = live_client.webhook_subscriptions()
    assert [(s.topic, s.uri) for s in listed] == [
        ("ORDERS_CREATE", "https://portal.example/webhooks/shopify/")
    ]
