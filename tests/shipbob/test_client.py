"""ShipBobClient against scripted answers: the body builder, headers, error classes, rate info."""

import json
from datetime import UTC, datetime

import httpx
import pytest

from integrations.http import PeerError, RateInfo
from integrations.shipbob.client import (
    ShipBobClient,
    ShipBobNotCancellable,
    ShippedProduct,
    order_create_body,
    shipbob_rate_info,
    shipment_from_payload,
)
from tests.shipbob.conftest import RECIPIENT

BASE = "https://api.shipbob.example"


def shipment(**extra):
    data = {
        "id": 501,
        "order_id": 9001,
        "reference_id": "5551234",
        "status": "Completed",
        "status_details": [],
        "tracking": {
            "carrier": "USPS",
            "tracking_number": "9400111000000000000001",
            "tracking_url": "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111000000000000001",
            "carrier_service": "Ground Advantage",
        },
        "products": [
            {
                "id": 700001,
                "reference_id": "TEE-BLK-S",
                "inventory_items": [{"id": 700001, "name": "Tee", "quantity": 2}],
            }
        ],
        "actual_fulfillment_date": "2026-07-01T10:00:00.1234567Z",
        "delivery_date": None,
    }
    data.update(extra)
    return data


def order(**extra):
    data = {"id": 9001, "reference_id": "5551234", "status": "Fulfilled", "shipments": [shipment()]}
    data.update(extra)
    return data


class Script:
    """A MockTransport that answers from a list and records every request."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client_for(script, **kw):
    return ShipBobClient(
        base_url=BASE,
        token="tok",
        channel_id=42,
        transport=httpx.MockTransport(script),
        **kw,
    )


def valid_body(reference="5551234"):
    return order_create_body(
        reference_id=reference,
        products=[(700001, "TEE-BLK-S", 2), (None, "MUG-WHT", 1)],
        recipient=RECIPIENT,
        shipping_method="Standard",
    )


# --- the body builder ------------------------------------------------------------------------------
def test_the_body_is_exactly_shipbobs_dtc_shape():
    assert valid_body() == {
        "reference_id": "5551234",
        "type": "DTC",
        "shipping_method": "Standard",
        "recipient": {
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
        },
        "products": [
            {"reference_id": "TEE-BLK-S", "inventory_id": 700001, "quantity": 2},
            {"reference_id": "MUG-WHT", "quantity": 1},
        ],
    }


def test_a_flat_recipient_address_is_accepted():
    flat = {"name": "Bo", "address1": "1 Main St", "city": "Leeds", "country": "GB"}
    made = order_create_body(
        reference_id="1", products=[(1, "X", 1)], recipient=flat, shipping_method="Std"
    )
    assert made["recipient"]["address"]["address1"] == "1 Main St"
    assert made["recipient"]["address"]["zip_code"] is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"reference_id": ""}, "1–300"),
        ({"reference_id": "x" * 301}, "1–300"),
        ({"products": []}, "at least one product"),
        ({"products": [(700001, "TEE", 0)]}, "quantity"),
        ({"products": [(None, "", 1)]}, "inventory_id or a reference_id"),
        ({"shipping_method": " "}, "shipping_method is required"),
        ({"recipient": {**RECIPIENT, "name": ""}}, "recipient name is required"),
        (
            {"recipient": {**RECIPIENT, "address": {**RECIPIENT["address"], "address1": ""}}},
            "address1 is required",
        ),
        (
            {"recipient": {**RECIPIENT, "address": {**RECIPIENT["address"], "country": "USA"}}},
            "country is 3 characters",
        ),
    ],
)
def test_the_builder_says_which_field_is_wrong(change, reason):
    kwargs = {
        "reference_id": "5551234",
        "products": [(700001, "TEE-BLK-S", 1)],
        "recipient": RECIPIENT,
        "shipping_method": "Standard",
    }
    kwargs.update(change)
    with pytest.raises(ValueError, match=reason):
        order_create_body(**kwargs)


# --- create ----------------------------------------------------------------------------------------
def test_create_sends_the_token_and_the_channel_and_reads_the_shipments():
    script = Script(httpx.Response(201, json=order()))
    created = client_for(script).order_create(valid_body())

    sent = script.requests[0]
    assert sent.method == "POST"
    assert sent.url.path == "/2026-07/order"
    assert sent.headers["Authorization"] == "Bearer tok"
    assert sent.headers["shipbob_channel_id"] == "42"
    assert json.loads(sent.content) == valid_body()
    assert created.id == 9001
    assert created.existed is False
    (parcel,) = created.shipments
    assert parcel.carrier == "USPS"
    assert parcel.tracking_number.startswith("9400")
    assert parcel.shipped_at == datetime(2026, 7, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert parcel.products == (ShippedProduct(700001, "TEE-BLK-S", 2),)
    assert created.raw["reference_id"] == "5551234"


def test_a_duplicate_reference_fetches_the_existing_order():
    duplicate = {
        "title": "Unprocessable Entity",
        "status": 422,
        "errors": {"ReferenceId": ["Cannot insert order with existing ReferenceId"]},
    }
    script = Script(httpx.Response(422, json=duplicate), httpx.Response(200, json=[order()]))
    found = client_for(script).order_create(valid_body())

    assert found.existed is True
    assert found.id == 9001
    lookup = script.requests[1]
    assert lookup.method == "GET"
    assert lookup.url.params["ReferenceIds"] == "5551234"
    assert "shipbob_channel_id" not in lookup.headers  # reads span every channel


def test_a_duplicate_not_yet_visible_is_retryable():
    script = Script(
        httpx.Response(
            422, json={"errors": {"": ["Cannot insert order with existing ReferenceId"]}}
        ),
        httpx.Response(200, json=[]),
    )
    with pytest.raises(PeerError) as caught:
        client_for(script).order_create(valid_body())
    assert caught.value.retryable is True


def test_another_422_is_permanent_with_shipbobs_words():
    script = Script(
        httpx.Response(
            422, json={"errors": {"Products[0]": ["Inventory item 700099 does not exist."]}}
        )
    )
    with pytest.raises(PeerError) as caught:
        client_for(script).order_create(valid_body())
    assert caught.value.retryable is False
    assert caught.value.status_code == 422
    assert "Inventory item 700099 does not exist." in caught.value.message


@pytest.mark.parametrize(
    ("answer", "retryable"),
    [
        (httpx.Response(500, text="boom"), True),
        (httpx.Response(503, text="busy"), True),
        (httpx.Response(401), False),
        (httpx.Response(403), False),
        (httpx.Response(400, json={"errors": {"Recipient.Name": ["required"]}}), False),
        (httpx.ReadTimeout("slow"), True),
        (httpx.ConnectError("refused"), True),
    ],
)
def test_errors_are_classified(answer, retryable):
    with pytest.raises(PeerError) as caught:
        client_for(Script(answer)).order_create(valid_body())
    assert caught.value.retryable is retryable


def test_a_429_carries_the_wait_and_the_remaining_calls():
    answer = httpx.Response(
        429,
        headers={"x-retry-after": "25", "x-remaining-calls": "0"},
        json={"statusCode": 429, "message": "Rate limit is exceeded. Try again in 25 seconds."},
    )
    with pytest.raises(PeerError) as caught:
        client_for(Script(answer)).order_create(valid_body())
    assert caught.value.retryable is True
    assert caught.value.retry_after == 25
    assert caught.value.remaining == 0


def test_the_rate_gate_hears_every_answer():
    class Gate:
        def __init__(self):
            self.acquired, self.seen = 0, []

        def acquire(self):
            self.acquired += 1

        def observe(self, status_code, info):
            self.seen.append((status_code, info))

    gate = Gate()
    script = Script(httpx.Response(201, json=order(), headers={"x-remaining-calls": "148"}))
    client_for(script, rate_gate=gate).order_create(valid_body())
    assert gate.acquired == 1
    assert gate.seen == [(201, RateInfo(remaining=148, retry_after=None))]


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"x-retry-after": "7", "x-remaining-calls": "3"}, "", RateInfo(3, 7.0)),
        ({"Retry-After": "9", "X-RateLimit-Remaining": "11"}, "", RateInfo(11, 9.0)),
        (
            {},
            '{"message": "Rate limit is exceeded. Try again in 12 seconds."}',
            RateInfo(None, 12.0),
        ),
        ({"x-remaining-calls": "junk"}, "", RateInfo(None, None)),
    ],
)
def test_rate_info_reads_every_name(headers, body, expected):
    status = 429 if "Try again" in body else 200
    assert shipbob_rate_info(httpx.Response(status, headers=headers, text=body)) == expected


# --- cancel ----------------------------------------------------------------------------------------
def test_cancel_answers_the_cancelled_order():
    answer = {
        "order_id": 9001,
        "order": {"id": 9001, "reference_id": "5551234", "status": "Cancelled"},
        "status": "Success",
        "canceled_shipment_results": [
            {"action": "Cancel", "shipment_id": 501, "is_success": True, "reason": ""}
        ],
    }
    script = Script(httpx.Response(200, json=answer))
    cancelled = client_for(script).order_cancel(9001)
    assert script.requests[0].url.path == "/2026-07/order/9001:cancel"
    assert script.requests[0].headers["shipbob_channel_id"] == "42"
    assert cancelled.status == "Cancelled"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(422, json={"errors": {"Order": ["Order 9001 cannot be cancelled: picked"]}}),
        httpx.Response(
            200,
            json={
                "order_id": 9001,
                "status": "Failed",
                "canceled_shipment_results": [
                    {"shipment_id": 501, "is_success": False, "reason": "Shipment is packed"}
                ],
            },
        ),
    ],
)
def test_a_refused_cancel_is_a_distinct_permanent_error(answer):
    with pytest.raises(ShipBobNotCancellable) as caught:
        client_for(Script(answer)).order_cancel(9001)
    assert isinstance(caught.value, PeerError)
    assert caught.value.retryable is False
    assert "cannot be cancelled" in caught.value.message


# --- polls -----------------------------------------------------------------------------------------
def test_the_shipped_poll_asks_for_orders_updated_since_oldest_first():
    script = Script(
        httpx.Response(200, json=[order()], headers={"next-page": "/order?Page=3"}),
        httpx.Response(200, json=[order()], headers={"total-pages": "3"}),
    )
    client = client_for(script)
    since = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    first = client.orders_updated_since(since, page=2, limit=1)
    last = client.orders_updated_since(since, page=3, limit=1)

    params = script.requests[0].url.params
    assert params["LastUpdateStartDate"] == "2026-07-01T09:30:00.000000Z"
    assert params["SortOrder"] == "Oldest"
    assert (params["Page"], params["Limit"]) == ("2", "1")
    assert first.next_page == 3
    assert last.next_page is None
    with pytest.raises(ValueError, match="timezone-aware"):
        client.orders_updated_since(datetime(2026, 7, 1))  # noqa: DTZ001 - the point of the test


def test_an_inventory_cursor_never_leaves_our_base_url():
    page = {
        "items": [
            {
                "inventory_id": 700001,
                "name": "Tee",
                "sku": "TEE-BLK-S",
                "total_on_hand_quantity": 10,
                "total_fulfillable_quantity": 7,
                "total_committed_quantity": 3,
            }
        ],
        "next": "https://elsewhere.example/2026-07/inventory-level?Cursor=abc&PageSize=1",
    }
    script = Script(httpx.Response(200, json=page), httpx.Response(200, json={"items": []}))
    client = client_for(script)
    first = client.inventory_levels(page_size=1)
    assert first.levels[0].fulfillable == 7
    assert first.next_cursor.endswith("Cursor=abc&PageSize=1")

    client.inventory_levels(cursor=first.next_cursor)
    follow = script.requests[1].url
    assert follow.host == "api.shipbob.example"
    assert follow.path == "/2026-07/inventory-level"
    assert follow.params["Cursor"] == "abc"


@pytest.mark.parametrize(
    ("status", "shipped"),
    [
        ("Completed", True),
        ("completed", False),  # compared exactly as ShipBob writes it
        ("LabeledCreated", False),  # not in ShipBob's documented shipment statuses
        ("Processing", False),
        ("On Hold", False),
        ("Exception", False),
        ("Cancelled", False),
    ],
)
def test_only_a_completed_parcel_with_tracking_is_shipped(status, shipped):
    parcel = shipment_from_payload(
        {"id": 1, "status": status, "tracking": {"tracking_number": "1Z999"}}
    )
    assert parcel.shipped is shipped


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JavaScript:alert(document.cookie)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example/track",
        "/track/1",
        "ftp://carrier.example/1",
        "https://",
    ],
)
def test_a_tracking_url_that_is_not_http_is_dropped(url):
    parcel = shipment_from_payload(
        {"id": 1, "status": "Completed", "tracking": {"tracking_number": "1", "tracking_url": url}}
    )
    assert parcel.tracking_url == ""


def test_an_http_tracking_url_is_kept():
    url = "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111"
    parcel = shipment_from_payload(
        {"id": 1, "status": "Completed", "tracking": {"tracking_number": "1", "tracking_url": url}}
    )
    assert parcel.tracking_url == url
