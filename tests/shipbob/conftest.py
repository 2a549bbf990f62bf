"""The ShipBob stand-in on a live server, with settings.SHIPBOB aimed at it."""

import pytest

from integrations.shipbob.client import ShipBobClient, order_create_body
from tests.shipbob import urls as capture_urls

TOKEN = "test-shipbob-token"  # noqa: S105 - a test value
SECRET = "whsec_dGVzdC1zaGlwYm9iLXNlY3JldA=="  # noqa: S105 - a test value


@pytest.fixture
def shipbob_live(live_server, settings):
    settings.ROOT_URLCONF = "tests.shipbob.urls"
    settings.SHIPBOB = {
        **settings.SHIPBOB,
        "BASE_URL": f"{live_server.url}/sandbox/shipbob",
        "TOKEN": TOKEN,
        "CHANNEL_ID": "42",
        "WEBHOOK_SECRET": SECRET,
    }
    settings.O2C_PUBLIC_URL = live_server.url
    settings.SANDBOX_SHIPBOB = {"WINDOW_SECONDS": 60.0, "LIMIT": 1000}
    capture_urls.RECEIVED.clear()
    capture_urls.ANSWER["status"] = 200
    return live_server


@pytest.fixture
def capture_url(shipbob_live):
    return f"{shipbob_live.url}/test-capture/shipbob/"


@pytest.fixture
def received():
    return capture_urls.RECEIVED


@pytest.fixture
def live_client(shipbob_live, settings):
    client = ShipBobClient.from_config(settings.SHIPBOB)
    yield client
    client.close()


RECIPIENT = {
    "name": "Ada Lovelace",
    "address": {
        "address1": "100 N Racine Ave",
        "address2": "Suite 100",
        "city": "Chicago",
        "state": "IL",
        "country": "US",
        "zip_code": "60607",
    },
    "email": "ada@example.com",
    "phone_number": "555-555-5555",
}
# Demo inventory ids (DEMO_INVENTORY_ID_BASE + index): 700001 TEE-BLK-S, 700002 TEE-BLK-M, …
TEE, TEE_M, MUG = (700001, "TEE-BLK-S"), (700002, "TEE-BLK-M"), (700005, "MUG-WHT")


def body(reference: str, lines=((TEE, 1),)) -> dict:
    return order_create_body(
        reference_id=reference,
        products=[(inv, sku, qty) for (inv, sku), qty in lines],
        recipient=RECIPIENT,
        shipping_method="Standard",
    )
