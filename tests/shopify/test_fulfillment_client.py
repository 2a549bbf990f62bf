"""ShopifyClient's fulfillment calls against scripted answers: request shape, paging, result parsing."""

import json

import httpx
import pytest

from integrations.http import PeerError
from integrations.shopify.client import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    FulfillmentResult,
    TrackingInfo,
    gid_number,
)
from tests.shopify.test_client import Script, cost, make_client

TRACKING = TrackingInfo(
    company="FedEx", number="794698312345", url="https://fedex.test/794698312345"
)


def fo_line(n, remaining=1, total=1, sku="TEE-BLK-M"):
    return {
        "id": f"gid://shopify/FulfillmentOrderLineItem/{n}",
        "remainingQuantity": remaining,
        "totalQuantity": total,
        "lineItem": {"id": f"gid://shopify/LineItem/{9007199254740993 + n}", "sku": sku},
    }


def fo_node(n, status="OPEN", lines=(), more_lines=None):
    return {
        "id": f"gid://shopify/FulfillmentOrder/{n}",
        "status": status,
        "lineItems": {
            "pageInfo": {"hasNextPage": more_lines is not None, "endCursor": more_lines},
            "nodes": list(lines),
        },
    }


def fo_answer(nodes, *, has_next=False, end=None):
    return {
        "data": {
            "order": {
                "fulfillmentOrders": {
                    "pageInfo": {"hasNextPage": has_next, "endCursor": end},
                    "nodes": list(nodes),
                }
            }
        },
        "extensions": cost(),
    }


def create_answer(fulfillment=None, errors=()):
    return {
        "data": {"fulfillmentCreate": {"fulfillment": fulfillment, "userErrors": list(errors)}},
        "extensions": cost(),
    }


def body_of(request):
    return json.loads(request.content)


def test_fulfillment_orders_are_read_with_their_lines_and_legacy_line_ids():
    script = Script(
        httpx.Response(
            200,
            json=fo_answer([fo_node(1, lines=[fo_line(1, 2, 3), fo_line(2, 0, 1, sku=None)])]),
        )
    )
    client = make_client(script)

    orders = client.fulfillment_orders("gid://shopify/Order/42")

    assert orders == [
        FulfillmentOrder(
            id="gid://shopify/FulfillmentOrder/1",
            status="OPEN",
            lines=(
                FulfillmentOrderLine(
                    id="gid://shopify/FulfillmentOrderLineItem/1",
                    remaining_quantity=2,
                    total_quantity=3,
                    line_item_id=9007199254740994,  # above 2^53, kept exact
                    sku="TEE-BLK-M",
                ),
                FulfillmentOrderLine(
                    id="gid://shopify/FulfillmentOrderLineItem/2",
                    remaining_quantity=0,
                    total_quantity=1,
                    line_item_id=9007199254740995,
                    sku=None,
                ),
            ),
        )
    ]
    assert orders[0].fulfillable is True
    body = body_of(script.requests[0])
    assert body["variables"] == {
        "id": "gid://shopify/Order/42",
        "first": 5,
        "after": None,
        "linesFirst": 50,
    }
    assert "fulfillmentOrders(first: $first, after: $after)" in body["query"]
    assert "lineItem { id sku }" in body["query"]


def test_fulfillment_orders_and_their_lines_are_paged():
    script = Script(
        httpx.Response(
            200,
            json=fo_answer(
                [fo_node(1, lines=[fo_line(1)], more_lines="L1")], has_next=True, end="F1"
            ),
        ),
        httpx.Response(
            200,
            json={
                "data": {
                    "fulfillmentOrder": {
                        "lineItems": {
                            "pageInfo": {"hasNextPage": False, "endCursor": "L2"},
                            "nodes": [fo_line(2)],
                        }
                    }
                },
                "extensions": cost(),
            },
        ),
        httpx.Response(200, json=fo_answer([fo_node(2, status="CLOSED", lines=[fo_line(3, 0)])])),
    )
    client = make_client(script)

    orders = client.fulfillment_orders("gid://shopify/Order/42")

    assert [o.id.rsplit("/", 1)[1] for o in orders] == ["1", "2"]
    assert [line.id.rsplit("/", 1)[1] for line in orders[0].lines] == ["1", "2"]
    assert orders[1].fulfillable is False
    lines_request = body_of(script.requests[1])
    assert lines_request["variables"] == {
        "id": "gid://shopify/FulfillmentOrder/1",
        "first": 50,
        "after": "L1",
    }
    assert body_of(script.requests[2])["variables"]["after"] == "F1"


def test_a_missing_order_raises_not_retryable():
    client = make_client(
        Script(httpx.Response(200, json={"data": {"order": None}, "extensions": cost()}))
    )
    with pytest.raises(PeerError) as caught:
        client.fulfillment_orders("gid://shopify/Order/1")
    assert caught.value.retryable is False


def test_fulfillment_create_sends_the_input_and_reads_the_fulfillment():
    script = Script(
        httpx.Response(
            200,
            json=create_answer(
                {
                    "id": "gid://shopify/Fulfillment/77",
                    "status": "SUCCESS",
                    "trackingInfo": [{"company": "FedEx", "number": "794698312345", "url": "u"}],
                }
            ),
        )
    )
    client = make_client(script)

    result = client.fulfillment_create(
        lines=[
            (
                "gid://shopify/FulfillmentOrder/1",
                [
                    ("gid://shopify/FulfillmentOrderLineItem/1", 2),
                    ("gid://shopify/FulfillmentOrderLineItem/2", 1),
                ],
            )
        ],
        tracking=TRACKING,
    )

    assert result == FulfillmentResult(
        fulfillment_id="gid://shopify/Fulfillment/77", status="SUCCESS", user_errors=()
    )
    assert result.ok
    body = body_of(script.requests[0])
    assert "fulfillmentCreate(fulfillment: $fulfillment, message: $message)" in body["query"]
    assert body["variables"]["fulfillment"] == {
        "lineItemsByFulfillmentOrder": [
            {
                "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1",
                "fulfillmentOrderLineItems": [
                    {"id": "gid://shopify/FulfillmentOrderLineItem/1", "quantity": 2},
                    {"id": "gid://shopify/FulfillmentOrderLineItem/2", "quantity": 1},
                ],
            }
        ],
        "notifyCustomer": True,
        "trackingInfo": {
            "company": "FedEx",
            "number": "794698312345",
            "url": "https://fedex.test/794698312345",
        },
    }


def test_empty_tracking_fields_are_not_sent_and_notify_can_be_off():
    script = Script(
        httpx.Response(
            200, json=create_answer({"id": "gid://shopify/Fulfillment/1", "status": "SUCCESS"})
        )
    )
    client = make_client(script)

    client.fulfillment_create(
        lines=[
            ("gid://shopify/FulfillmentOrder/1", [("gid://shopify/FulfillmentOrderLineItem/1", 1)])
        ],
        tracking=TrackingInfo(company="", number="", url=""),
        notify_customer=False,
    )

    sent = body_of(script.requests[0])["variables"]["fulfillment"]
    assert "trackingInfo" not in sent
    assert sent["notifyCustomer"] is False


def test_user_errors_come_back_in_the_result_not_raised():
    script = Script(
        httpx.Response(
            200,
            json=create_answer(
                None,
                [
                    {
                        "field": ["fulfillment", "lineItemsByFulfillmentOrder", "0"],
                        "message": "Invalid fulfillment order line item quantity requested.",
                    },
                    {"field": None, "message": "Fulfillment order does not exist."},
                ],
            ),
        )
    )
    client = make_client(script)

    result = client.fulfillment_create(
        lines=[
            ("gid://shopify/FulfillmentOrder/1", [("gid://shopify/FulfillmentOrderLineItem/1", 5)])
        ],
        tracking=TRACKING,
    )

    assert result.fulfillment_id is None
    assert result.status == ""
    assert result.ok is False
    assert result.user_errors == (
        "Invalid fulfillment order line item quantity requested.",
        "Fulfillment order does not exist.",
    )


@pytest.mark.parametrize("lines", [[], [("gid://shopify/FulfillmentOrder/1", [])]])
def test_nothing_to_fulfil_is_refused_before_calling(lines):
    script = Script()
    with pytest.raises(ValueError, match="at least one line"):
        make_client(script).fulfillment_create(lines=lines, tracking=TRACKING)
    assert script.requests == []


@pytest.mark.parametrize("quantity", [0, -1, 1.5, True])
def test_bad_quantities_are_refused_before_calling(quantity):
    script = Script()
    with pytest.raises(ValueError, match="positive int"):
        make_client(script).fulfillment_create(
            lines=[
                (
                    "gid://shopify/FulfillmentOrder/1",
                    [("gid://shopify/FulfillmentOrderLineItem/1", quantity)],
                )
            ],
            tracking=TRACKING,
        )
    assert script.requests == []


def test_a_5xx_on_create_raises_retryable():
    client = make_client(Script(httpx.Response(503, text="unavailable")), throttle_retries=0)
    with pytest.raises(PeerError) as caught:
        client.fulfillment_create(
            lines=[
                (
                    "gid://shopify/FulfillmentOrder/1",
                    [("gid://shopify/FulfillmentOrderLineItem/1", 1)],
                )
            ],
            tracking=TRACKING,
        )
    assert caught.value.retryable is True


def test_order_fulfillments_lists_tracking_numbers():
    script = Script(
        httpx.Response(
            200,
            json={
                "data": {
                    "order": {
                        "fulfillments": [
                            {
                                "id": "gid://shopify/Fulfillment/1",
                                "status": "SUCCESS",
                                "createdAt": "2026-11-01T00:00:00Z",
                                "trackingInfo": [{"company": "UPS", "number": "1Z1", "url": None}],
                            },
                            {
                                "id": "gid://shopify/Fulfillment/2",
                                "status": "CANCELLED",
                                "trackingInfo": [],
                            },
                        ]
                    }
                },
                "extensions": cost(),
            },
        )
    )

    fulfillments = make_client(script).order_fulfillments("gid://shopify/Order/9")

    assert [(f.id, f.status, f.tracking_numbers) for f in fulfillments] == [
        ("gid://shopify/Fulfillment/1", "SUCCESS", ("1Z1",)),
        ("gid://shopify/Fulfillment/2", "CANCELLED", ()),
    ]


def test_gid_number():
    assert gid_number("gid://shopify/LineItem/9007199254740993") == 9007199254740993
    assert gid_number("gid://shopify/LineItem/5?x=1") == 5
    assert gid_number("nope") is None
    assert gid_number(None) is None
