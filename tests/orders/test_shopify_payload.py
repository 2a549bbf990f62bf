import json
from decimal import Decimal

import pytest

from apps.orders.shopify_payload import PayloadError, order_from_rest, refund_from_rest
from tests.contracts import SHOPIFY_ORDER_FILES, shopify_payload, shopify_raw

BIG_ID = 2**53 + 7  # above float precision: survives only if never parsed through a float


@pytest.mark.parametrize("name", SHOPIFY_ORDER_FILES)
def test_real_payloads_parse_with_exact_money(name):
    payload = shopify_payload(name)
    order = order_from_rest(payload)
    assert order.shopify_id == payload["id"]
    assert order.total_price == Decimal(payload["total_price"])
    assert order.currency == "USD"
    assert len(order.lines) == len(payload["line_items"])
    for line, raw in zip(order.lines, payload["line_items"], strict=True):
        assert line.price == Decimal(raw["price"])
        assert [tax.amount for tax in line.tax_lines] == [
            Decimal(t["price"]) for t in raw.get("tax_lines", [])
        ]


def test_discounts_and_tax_lines_are_kept_per_line():
    order = order_from_rest(shopify_payload(SHOPIFY_ORDER_FILES[1]))
    assert sum(a for line in order.lines for a, _ in line.discount_allocations) == Decimal("10.00")
    assert sum(t.amount for line in order.lines for t in line.tax_lines) == Decimal("11.94")
    assert order.refunds
    assert order.refunds[0].lines[0].subtotal == Decimal("195.66")


def test_sixty_four_bit_ids_survive_the_escaped_raw_body():
    payload = shopify_payload(SHOPIFY_ORDER_FILES[0])
    payload["id"] = BIG_ID
    payload["line_items"][0]["id"] = BIG_ID + 1
    raw = shopify_raw(payload)
    assert b"\\/" in raw
    order = order_from_rest(json.loads(raw))
    assert order.shopify_id == BIG_ID
    assert order.lines[0].shopify_id == BIG_ID + 1


def test_cancelled_order_carries_cancellation():
    order = order_from_rest(shopify_payload(SHOPIFY_ORDER_FILES[2]))
    assert order.cancelled_at is not None
    assert order.cancel_reason


def test_refund_resource_parses():
    refund = refund_from_rest(shopify_payload("shopify_python_api_refund.json"))
    assert refund.order_shopify_id == 450789469
    assert refund.lines


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda p: p.pop("id"), "order id"),
        (lambda p: p.update(total_price="12,50"), "total_price"),
        (lambda p: p.update(total_price=None), "total_price is missing"),
        (lambda p: p.update(currency="dollars"), "currency"),
        (lambda p: p.update(line_items="nope"), "line_items"),
        (lambda p: p["line_items"][0].update(quantity=1.5), "quantity"),
        (lambda p: p.update(id=1.5e17), "order id"),
        (lambda p: p.update(updated_at="yesterday"), "updated_at"),
    ],
)
def test_unusable_payloads_raise_a_reason(mutate, reason):
    payload = shopify_payload(SHOPIFY_ORDER_FILES[0])
    mutate(payload)
    with pytest.raises(PayloadError, match=reason):
        order_from_rest(payload)


def test_a_non_object_is_refused():
    with pytest.raises(PayloadError):
        order_from_rest([1, 2, 3])
