"""The Shopify stand-in on a live server, with the portal's SHOPIFY settings pointing at it."""

import pytest

from apps.sandbox.shopify.gql import operation_parse, value_prune
from apps.sandbox.shopify.schema import order_node
from integrations.shopify.client import ORDERS_QUERY, MemoryTokenCache, ShopifyClient

STATIC_TOKEN = "shpat_test_static"


@pytest.fixture
def shopify_live(live_server, settings):
    """settings.SHOPIFY aimed at the stand-in on `live_server`; webhooks go back to the same server."""
    settings.ROOT_URLCONF = "tests.shopify.urls"
    settings.SHOPIFY = {
        **settings.SHOPIFY,
        "BASE_URL": f"{live_server.url}/sandbox/shopify",
        "ACCESS_TOKEN": STATIC_TOKEN,
        "CLIENT_ID": "test-client-id",
        "CLIENT_SECRET": "test-client-secret",
        "WEBHOOK_SECRETS": ["test-webhook-secret", "old-secret"],
    }
    settings.O2C_PUBLIC_URL = live_server.url
    settings.SANDBOX_SHOPIFY = {"MAXIMUM_AVAILABLE": 1000.0, "RESTORE_RATE": 100.0}
    return live_server


@pytest.fixture
def live_client(shopify_live, settings):
    client = ShopifyClient(
        base_url=settings.SHOPIFY["BASE_URL"],
        api_version="2026-10",
        access_token=STATIC_TOKEN,
        token_cache=MemoryTokenCache(),
    )
    yield client
    client.close()


def graphql_node(payload: dict) -> dict:
    """A REST order as the stand-in answers it to our client's orders query (the selected shape)."""
    operation = operation_parse(ORDERS_QUERY)
    nodes_field = next(f for f in operation.selections[0].selections if f.name == "nodes")
    return value_prune(nodes_field, [order_node(payload)], {})[0]
