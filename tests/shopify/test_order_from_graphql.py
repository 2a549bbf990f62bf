"""The GraphQL Order node the poll reads and the REST payload a webhook carries give the same OrderData."""

import copy
from dataclasses import replace

import pytest

from apps.orders.shopify_graphql import order_from_graphql
from apps.orders.shopify_payload import PayloadError, order_from_rest
from tests.contracts import SHOPIFY_ORDER_FILES, shopify_payload
from tests.shopify.conftest import graphql_node


@pytest.mark.parametrize("name", SHOPIFY_ORDER_FILES)
def test_a_real_order_as_rest_and_as_graphql_gives_equal_order_data(name):
    payload = shopify_payload(name)
    node = graphql_node(payload)

    from_rest = order_from_rest(payload)
    from_graphql = order_from_graphql(node)

    assert from_graphql.lines == from_rest.lines
    assert from_graphql.shipping_lines == from_rest.shipping_lines
    assert from_graphql.refunds == from_rest.refunds
    if "current_total_price" not in payload:
        # An old REST sample without the field; GraphQL's currentTotalPriceSet is never null.
        assert from_graphql.current_total_price == from_rest.total_price
        from_graphql = replace(from_graphql, current_total_price=None)
    assert from_graphql == from_rest


def test_64_bit_ids_survive_the_graphql_path():
    payload = shopify_payload(SHOPIFY_ORDER_FILES[1])
    payload["id"] = 2**62 + 7
    payload["line_items"][0]["id"] = 2**60 + 3
    payload["line_items"][0]["variant_id"] = 2**59 + 1

    data = order_from_graphql(graphql_node(payload))

    assert data.shopify_id == 2**62 + 7
    assert data.admin_graphql_api_id == f"gid://shopify/Order/{2**62 + 7}"
    assert data.lines[0].shopify_id == 2**60 + 3
    assert data.lines[0].variant_id == 2**59 + 1


def test_statuses_are_lowered_to_rest_words():
    payload = shopify_payload(SHOPIFY_ORDER_FILES[2])
    node = graphql_node(payload)
    assert node["displayFinancialStatus"] == "REFUNDED"
    assert node["cancelReason"] == "OTHER"

    data = order_from_graphql(node)

    assert data.financial_status == "refunded"
    assert data.cancel_reason == "other"
    assert data.fulfillment_status == ""
    node["displayFulfillmentStatus"] = "PARTIALLY_FULFILLED"
    assert order_from_graphql(node).fulfillment_status == "partial"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda n: n.pop("legacyResourceId"), "legacyResourceId must be an integer id"),
        (lambda n: n.update(legacyResourceId="12.5"), "integer id"),
        (lambda n: n.update(currencyCode="dollars"), "currencyCode"),
        (lambda n: n.update(totalPriceSet={"shopMoney": {"amount": "lots"}}), "not an amount"),
        (lambda n: n["lineItems"]["nodes"][0].update(id="466157049"), "global id"),
        (lambda n: n["lineItems"]["nodes"][0].update(quantity=1.5), "whole number"),
        (lambda n: n["lineItems"]["pageInfo"].update(hasNextPage=True), "incomplete"),
        (lambda n: n.update(updatedAt="yesterday"), "not a date-time"),
        (lambda n: n.update(id="gid://shopify/Order/1"), "disagree"),
    ],
)
def test_junk_nodes_raise_payload_error(mutate, reason):
    node = copy.deepcopy(graphql_node(shopify_payload(SHOPIFY_ORDER_FILES[1])))
    mutate(node)
    with pytest.raises(PayloadError, match=reason):
        order_from_graphql(node)


def test_a_node_that_is_not_an_object_is_refused():
    with pytest.raises(PayloadError):
        order_from_graphql(["not", "an", "order"])
