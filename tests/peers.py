"""Every peer on the sandbox stand-ins over real HTTP: the `peers` fixture and helpers to drive them."""

import pytest

from apps.orders.models import Order
from apps.sandbox.shopify.simulator import SimulatorConfig, storefront_simulate
from apps.sync.pumps import pump_run
from o2c_portal.management.commands.seed_demo import demo_mappings_seed


@pytest.fixture
def peers(live_server, settings):
    """Every peer client aimed at the sandbox stand-ins on the live server."""
    url = live_server.url
    settings.O2C_PUBLIC_URL = url
    settings.SHOPIFY = {**settings.SHOPIFY, "BASE_URL": f"{url}/sandbox/shopify"}
    settings.SHIPBOB = {**settings.SHIPBOB, "BASE_URL": f"{url}/sandbox/shipbob"}
    settings.SANDBOX_SHIPBOB = {**settings.SANDBOX_SHIPBOB, "LIMIT": 10_000}
    xero = f"{url}/sandbox/xero"
    settings.XERO = {
        **settings.XERO,
        "API_URL": f"{xero}/api.xro/2.0",
        "IDENTITY_URL": f"{xero}/identity",
        "AUTHORIZE_URL": f"{xero}/login/authorize",
        "CONNECTIONS_URL": f"{xero}/connections",
    }
    settings.SANDBOX_XERO = {**settings.SANDBOX_XERO, "MINUTE_LIMIT": 1000, "DAY_LIMIT": 10_000}
    settings.RATE_BUDGETS = {
        peer: {"capacity": 1000, "refill": 1000} for peer in settings.RATE_BUDGETS
    }
    demo_mappings_seed()
    return live_server


def place_orders(count: int, **rates) -> list[Order]:
    config = SimulatorConfig(
        orders=count,
        seed=11,
        sku_missing_rate=0,
        unknown_sku_rate=0,
        cancel_rate=0,
        refund_rate=0,
        no_address_rate=0,
        **rates,
    )
    result = storefront_simulate(config=config)
    assert not result.failures, result.failures
    pump_run("receipts", once=True)
    return list(Order.objects.filter(shopify_id__in=result.order_ids))


def drain(*pumps: str) -> None:
    for name in pumps:
        pump_run(name, once=True)


def ship_now(*, seed: int, **rates) -> dict:
    """The warehouse stand-in ships every submitted order now: whole, no duplicate, drop, exception
    or cancelled events unless a rate says otherwise (partial_rate, duplicate_rate, drop_rate,
    exception_rate, cancel_rate)."""
    from apps.sandbox.shipbob.simulator import shipping_tick

    options = {
        "partial_rate": 0,
        "duplicate_rate": 0,
        "drop_rate": 0,
        "exception_rate": 0,
        "cancel_rate": 0,
        **rates,
    }
    return shipping_tick(ship_after_seconds=0, seed=seed, **options)
