"""Peer clients built by the apps carry the deployment's timeout and user agent (passed in)."""

from apps.orders.fulfillment import shopify_client
from apps.orders.warehouse import shipbob_client


def test_app_built_clients_use_the_configured_timeout_and_user_agent(settings):
    settings.HTTP_TIMEOUT_SECONDS = 3.5
    settings.HTTP_USER_AGENT = "O2C-Portal/test (+ops@example.com)"

    for client in (shopify_client(), shipbob_client()):
        assert client.http.timeout.read == 3.5
        assert client.http.timeout.connect == 1.75
        assert client.http.headers["User-Agent"] == "O2C-Portal/test (+ops@example.com)"
