"""The storefront simulator: money that adds up, Shopify's raw JSON, and deliveries that misbehave."""

import json
import random
from decimal import Decimal

import pytest

from apps.orders.shopify_payload import order_from_rest
from apps.sandbox.shopify.models import StoreOrder
from apps.sandbox.shopify.simulator import (
    CATALOGUE,
    SHOPS,
    SimulatorConfig,
    order_build,
    shopify_json,
    storefront_simulate,
)

D = Decimal


def test_two_hundred_orders_add_up_to_the_cent():
    rng = random.Random(7)
    config = SimulatorConfig(discount_rate=0.6, sku_missing_rate=0.1, unknown_sku_rate=0.05)
    from datetime import UTC, datetime

    inclusive = exclusive = discounted = custom = 0
    for number in range(1001, 1201):
        payload, shop = order_build(rng, number=number, config=config, at=datetime.now(UTC))
        lines = payload["line_items"]
        assert 2 <= len(lines) <= 4
        assert payload["id"] > 2**53
        line_total = sum(D(x["price"]) * x["quantity"] for x in lines)
        discounts = sum(D(a["amount"]) for x in lines for a in x["discount_allocations"])
        line_tax = sum(D(t["price"]) for x in lines for t in x["tax_lines"])
        shipping = sum(D(s["price"]) for s in payload["shipping_lines"])
        shipping_tax = sum(D(t["price"]) for s in payload["shipping_lines"] for t in s["tax_lines"])
        assert D(payload["total_line_items_price"]) == line_total
        assert D(payload["total_discounts"]) == discounts
        assert sum(D(c["amount"]) for c in payload["discount_codes"]) == discounts
        assert D(payload["subtotal_price"]) == line_total - discounts
        assert D(payload["total_tax"]) == line_tax + shipping_tax
        assert D(payload["total_tax"]) == sum(D(t["price"]) for t in payload["tax_lines"])
        expected = line_total - discounts + shipping
        if not payload["taxes_included"]:
            expected += line_tax + shipping_tax
        assert D(payload["total_price"]) == expected
        for line in lines:
            net = D(line["price"]) * line["quantity"] - D(line["total_discount"])
            rates = [D(str(t["rate"])) for t in line["tax_lines"]]
            assert len(rates) == len(shop.tax_rates)
            for tax, rate in zip(line["tax_lines"], rates, strict=True):
                if payload["taxes_included"]:
                    want = (net * rate / (1 + sum(rates))).quantize(
                        D("0.01"), rounding="ROUND_HALF_UP"
                    )
                else:
                    want = (net * rate).quantize(D("0.01"), rounding="ROUND_HALF_UP")
                assert D(tax["price"]) == want
        inclusive += payload["taxes_included"]
        exclusive += not payload["taxes_included"]
        discounted += bool(discounts)
        custom += any(not x["sku"] for x in lines)
        order_from_rest(payload)  # and the intake accepts it
    # Every kind of order occurs in the sample.
    assert inclusive
    assert exclusive
    assert discounted
    assert custom
    assert {s.currency for s in SHOPS} == {"USD", "GBP", "EUR"}


def test_the_usd_shop_has_several_tax_lines_per_line():
    usd = next(s for s in SHOPS if s.currency == "USD")
    assert not usd.taxes_included
    assert len(usd.tax_rates) == 2


def test_raw_json_escapes_slashes_and_ampersands_like_shopify():
    body = shopify_json({"url": "https://x/y?a=1&b=2", "id": 2**62})
    assert body == b'{"url":"https:\\/\\/x\\/y?a=1\\u0026b=2","id":4611686018427387904}'
    assert json.loads(body)["id"] == 2**62


def test_the_catalogue_has_bundles_and_unique_skus():
    skus = [item.sku for item in CATALOGUE]
    assert len(skus) == len(set(skus))
    assert {"TEE-BLK-M", "MUG-WHT", "GIFT-SET-01"} <= set(skus)


@pytest.mark.django_db
def test_orders_land_in_the_store_with_their_final_state_and_cancellations_and_refunds():
    result = storefront_simulate(
        config=SimulatorConfig(orders=30, seed=3, cancel_rate=0.2, refund_rate=0.3, deliver=False)
    )
    rows = {row.shopify_id: row for row in StoreOrder.objects.all()}
    assert set(rows) == set(result.order_ids)
    statuses = {row.payload["financial_status"] for row in rows.values()}
    assert {"paid", "refunded", "partially_refunded"} <= statuses
    topics = {d.topic for d in result.deliveries}
    assert topics == {
        "orders/create",
        "orders/paid",
        "orders/updated",
        "orders/cancelled",
        "refunds/create",
    }
    for row in rows.values():
        assert row.updated_at.isoformat() >= row.created_at.isoformat()
        refunds = row.payload["refunds"]
        if refunds:
            refunded = sum(D(r["transactions"][0]["amount"]) for r in refunds)
            assert D(row.payload["current_total_price"]) <= D(
                row.payload["total_price"]
            ) - refunded + D("0.01")


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_orders():
    first = storefront_simulate(config=SimulatorConfig(orders=3, seed=11, deliver=False))
    StoreOrder.objects.all().delete()
    second = storefront_simulate(config=SimulatorConfig(orders=3, seed=11, deliver=False))
    assert first.order_ids == second.order_ids
    assert [d.body for d in first.deliveries] != []


@pytest.mark.django_db
def test_drop_duplicate_and_late_rates_shape_the_deliveries():
    dropped = storefront_simulate(
        config=SimulatorConfig(orders=4, seed=1, drop_rate=1.0, deliver=False)
    )
    assert dropped.deliveries == []
    assert dropped.dropped > 0

    doubled = storefront_simulate(
        config=SimulatorConfig(orders=4, seed=2, duplicate_rate=1.0, deliver=False)
    )
    ids = [d.webhook_id for d in doubled.deliveries]
    assert len(ids) == 2 * len(set(ids))  # every delivery re-sent once, with the same webhook id
