"""The order pages: the orders list, the order page with its timeline, the holds list and release."""

import html
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from apps.audit import verbs
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.orders.models import Hold, Order, Refund, Shipment, ShipmentLine
from apps.orders.services import order_holds_release, order_upsert
from apps.orders.shopify_payload import order_from_rest
from apps.sync.models import OutboxMessage
from tests.ops.factories import OutboxMessageFactory, WebhookReceiptFactory
from tests.orders.factories import (
    OrderFactory,
    OrderLineFactory,
    line_payload,
    order_payload,
    order_with_line,
    sku_mapping,
)

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def upsert(payload: dict, *, receipt_id: int | None = None) -> Order:
    return order_upsert(
        data=order_from_rest(payload), via="orders/create", receipt_id=receipt_id
    ).order


def detail_link(order: Order) -> str:
    return f'href="{reverse("orders:detail", args=[order.pk])}"'


def listed(body: str, orders) -> set[str]:
    """The names of the given orders whose page link is in the body."""
    return {order.name for order in orders if detail_link(order) in body}


def timeline_section(body: str) -> str:
    return body[body.index('data-testid="timeline"') :]


def held_on(*skus: str, **extra) -> Order:
    """A realistic order through intake whose lines carry these (unmapped) SKUs: it is held."""
    order = upsert(order_payload(lines=[line_payload(sku=sku) for sku in skus], **extra))
    assert order.status == Order.Status.HELD
    return order


# --- Orders list ---------------------------------------------------------------------------------


def test_the_list_filters_by_status_and_ignores_an_unknown_status(client, support_user):
    held = OrderFactory(status=Order.Status.HELD)
    ready = OrderFactory(status=Order.Status.READY)
    shipped = OrderFactory(status=Order.Status.SHIPPED)
    client.force_login(support_user)
    url = reverse("orders:list")

    only_ready = client.get(url, {"status": "ready"}).text
    only_held = client.get(url, {"status": "held"}).text
    anything = client.get(url, {"status": "no-such-status"}).text

    assert listed(only_ready, [held, ready, shipped]) == {ready.name}
    assert listed(only_held, [held, ready, shipped]) == {held.name}
    assert listed(anything, [held, ready, shipped]) == {held.name, ready.name, shipped.name}
    assert '<option value="ready" selected>' in only_ready


def test_the_list_searches_by_order_name_with_or_without_hash_and_by_email(client, ops_user):
    target = OrderFactory(name="#1001", email="ada@example.com")
    longer = OrderFactory(name="#10010", email="bob@example.com")
    other = OrderFactory(name="#2002", email="grace.hopper@example.com")
    everyone = [target, longer, other]
    client.force_login(ops_user)
    url = reverse("orders:list")

    by_name = client.get(url, {"q": "#1001"}).text
    by_number = client.get(url, {"q": "1001"}).text
    by_email = client.get(url, {"q": "GRACE.HOPPER@example.com"}).text
    by_email_start = client.get(url, {"q": "bob@"}).text
    nothing = client.get(url, {"q": "nobody@example.com"}).text

    assert listed(by_name, everyone) == {"#1001"}
    assert listed(by_number, everyone) == {"#1001"}
    assert listed(by_email, everyone) == {"#2002"}
    assert listed(by_email_start, everyone) == {"#10010"}
    assert listed(nothing, everyone) == set()
    assert "No orders match." in nothing


def test_the_list_is_paginated_newest_first(client, ops_user):
    orders = [
        OrderFactory(shopify_created_at=T0 + timedelta(minutes=n), status=Order.Status.READY)
        for n in range(60)
    ]
    client.force_login(ops_user)

    first = client.get(reverse("orders:list")).text
    second = client.get(reverse("orders:list"), {"page": 2}).text

    assert listed(first, orders) == {order.name for order in orders[10:]}
    assert listed(second, orders) == {order.name for order in orders[:10]}
    assert "Page 1 of 2 · 60 rows" in first
    assert "Page 2 of 2" in second
    # The pager keeps the filters and page in the query string for htmx and plain links alike.
    assert 'hx-get="?page=2"' in first


def test_an_htmx_request_gets_only_the_orders_table(client, ops_user):
    order = OrderFactory(status=Order.Status.READY)
    client.force_login(ops_user)
    url = reverse("orders:list")

    partial = client.get(url, {"status": "ready"}, **HX)
    full = client.get(url, {"status": "ready"})
    boosted = client.get(url, {"status": "ready"}, HTTP_HX_BOOSTED="true", **HX)

    assert partial.status_code == 200
    assert "<h1>Orders</h1>" not in partial.text
    assert "<html" not in partial.text
    assert 'data-testid="orders-table"' in partial.text
    assert detail_link(order) in partial.text
    assert "HX-Request" in partial["Vary"]
    assert "<h1>Orders</h1>" in full.text
    assert 'data-testid="orders-table"' in full.text
    assert "HX-Request" in full["Vary"]
    # A boosted navigation replaces the whole page, so it must get the whole page.
    assert "<h1>Orders</h1>" in boosted.text


def test_the_list_runs_a_fixed_number_of_queries_however_many_rows(
    client, ops_user, django_assert_max_num_queries
):
    def add_orders(count: int) -> None:
        for _ in range(count):
            order = OrderFactory(status=Order.Status.HELD)
            for sku in ("A-1", "B-2"):
                line = OrderLineFactory(order=order, sku=sku)
                Hold.objects.create(
                    order=order, line=line, reason=Hold.Reason.UNKNOWN_SKU, detail="x", sku=sku
                )

    add_orders(3)
    client.force_login(ops_user)
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("orders:list"))
    add_orders(57)
    with django_assert_max_num_queries(8) as many:
        response = client.get(reverse("orders:list"), {"q": "", "status": "held"})

    assert response.status_code == 200
    assert response.text.count("2 holds") == 50
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Order page ----------------------------------------------------------------------------------


def test_the_order_page_shows_lines_taxes_and_holds_with_their_reason_and_fix(
    client, ops_user, support_user
):
    sku_mapping("TEE-BLK-M")
    mapped = line_payload(
        sku="TEE-BLK-M",
        quantity=2,
        price="25.00",
        tax_lines=[
            {"title": "State tax", "rate": 0.06, "price": "3.00"},
            {"title": "County tax", "rate": 0.01, "price": "0.50"},
        ],
        discount_allocations=[{"amount": "5.00", "discount_application_index": 0}],
    )
    custom = line_payload(sku=None, variant_id=4242424242, title="Gift wrap")
    unknown = line_payload(sku="MUG-RED")
    order = upsert(
        order_payload(
            lines=[mapped, custom, unknown],
            shipping_lines=[
                {
                    "id": 271878346596884015,
                    "code": "Standard",
                    "title": "Standard Shipping",
                    "price": "4.99",
                    "discounted_price": "4.99",
                    "tax_lines": [{"title": "VAT", "rate": 0.2, "price": "1.00"}],
                }
            ],
        )
    )
    client.force_login(ops_user)

    response = client.get(reverse("orders:detail", args=[order.pk]))

    body = html.unescape(response.text)
    lines = body[body.index('data-testid="order-lines"') : body.index("<h2>Warehouse</h2>")]
    assert response.status_code == 200
    assert f"Order {order.name}" in body
    assert 'data-testid="order-status">Held<' in body
    assert "TEE-BLK-M" in lines
    assert "(no SKU)" in lines
    assert "State tax 3.00" in lines
    assert "County tax 0.50" in lines
    assert "5.00" in lines
    assert "Standard Shipping" in lines
    assert "VAT 1.00" in lines
    assert lines.count("unresolved") == 2
    holds = body[body.index('data-testid="holds"') : body.index('<div class="grid2">')]
    assert "Line has no SKU" in holds
    assert "Map title" in holds  # a way out for a custom item, never "map the variant id"
    assert "Shipped by hand" in holds
    assert "SKU not mapped</strong> (MUG-RED)" in holds
    assert "Re-check and release" in holds

    client.force_login(support_user)
    as_support = client.get(reverse("orders:detail", args=[order.pk]))
    assert as_support.status_code == 200
    assert 'data-testid="holds"' in as_support.text
    assert "Re-check and release" not in as_support.text


def test_the_warehouse_section_shows_the_warehouse_id_and_shipments_with_tracking_links(
    client, ops_user
):
    order = OrderFactory(
        status=Order.Status.PARTIALLY_SHIPPED,
        warehouse_order_id=9_000_000_123,
        submitted_at=T0,
    )
    tee = OrderLineFactory(order=order, sku="TEE-BLK-M", quantity=2)
    mug = OrderLineFactory(order=order, sku="MUG-RED", quantity=1)
    delivered = Shipment.objects.create(
        order=order,
        shipbob_shipment_id=555001,
        status="Delivered",
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
        tracking_url="https://www.ups.com/track?tracknum=1Z999AA10123456784&loc=en_GB",
        shipped_at=T0,
        delivered_at=T0 + timedelta(days=2),
        fulfillment_status=Shipment.FulfillmentStatus.DONE,
    )
    ShipmentLine.objects.create(shipment=delivered, order_line=tee, quantity=2)
    stuck = Shipment.objects.create(
        order=order,
        shipbob_shipment_id=555002,
        status="Exception",
        carrier="USPS",
        tracking_number="9400111899223100012345",
        exception="Address undeliverable",
        fulfillment_status=Shipment.FulfillmentStatus.FAILED,
        fulfillment_error="Fulfillment order 1046 has an unfulfillable status= closed.",
    )
    ShipmentLine.objects.create(shipment=stuck, order_line=mug, quantity=1)
    client.force_login(ops_user)

    body = html.unescape(client.get(reverse("orders:detail", args=[order.pk])).text)

    assert 'data-testid="warehouse-order-id">9000000123<' in body
    shipments = body[body.index('data-testid="shipments"') :]
    assert (
        '<a href="https://www.ups.com/track?tracknum=1Z999AA10123456784&loc=en_GB" '
        'rel="noopener noreferrer">1Z999AA10123456784</a>' in shipments
    )
    assert "2 × TEE-BLK-M" in shipments
    assert "1 × MUG-RED" in shipments
    assert "delivered 2026-11-22" in shipments
    assert "USPS 9400111899223100012345" in shipments
    assert "Address undeliverable" in shipments
    assert (
        'data-testid="fulfillment-error">Shopify: Fulfillment order 1046 has an unfulfillable'
        in shipments
    )
    assert "Fulfilled in Shopify" in shipments


def test_a_tracking_url_that_is_not_http_is_never_a_link(client, ops_user):
    order = OrderFactory(status=Order.Status.SHIPPED)
    Shipment.objects.create(
        order=order,
        shipbob_shipment_id=555003,
        status="Completed",
        carrier="UPS",
        tracking_number="1ZEVIL",
        tracking_url="javascript:alert(document.cookie)",  # stored before links were checked
    )
    client.force_login(ops_user)

    body = client.get(reverse("orders:detail", args=[order.pk])).text

    assert "1ZEVIL" in body
    assert "javascript:" not in body


def test_a_refused_warehouse_order_shows_the_warehouses_words(client, ops_user):
    order = OrderFactory(
        status=Order.Status.READY,
        warehouse_error='order 820982911946154508 rejected (HTTP 422): Inventory "SKU-X" not found',
    )
    client.force_login(ops_user)

    body = html.unescape(client.get(reverse("orders:detail", args=[order.pk])).text)

    assert 'data-testid="warehouse-order-id"' not in body
    assert "Queued for the warehouse." in body
    assert (
        'data-testid="warehouse-error">The warehouse refused it: order 820982911946154508 '
        'rejected (HTTP 422): Inventory "SKU-X" not found' in body
    )
    assert 'data-testid="shipments"' not in body


def test_the_timeline_lists_receipts_holds_outbox_messages_and_audit_rows_in_time_order(
    client, ops_user
):
    payload = order_payload(lines=[line_payload(sku="MUG-RED")])
    with time_machine.travel(T0, tick=False):
        receipt = WebhookReceiptFactory(topic="orders/create", delivery_id="b3f1-delivery")
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        order = upsert(payload, receipt_id=receipt.pk)
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        sku_mapping("MUG-RED")
    with time_machine.travel(T0 + timedelta(minutes=3), tick=False):
        order_holds_release(actor=ops_user, orders=[order])
    with time_machine.travel(T0 + timedelta(minutes=4), tick=False):
        audit_record(actor=ops_user, verb="order.note_added", target=order)
    # Written out of time order: the page must still read oldest first.
    with time_machine.travel(T0 - timedelta(minutes=1), tick=False):
        audit_record(actor=None, actor_label="system:import", verb="order.imported", target=order)
    client.force_login(ops_user)

    body = html.unescape(client.get(reverse("orders:detail", args=[order.pk])).text)

    timeline = timeline_section(body)
    times = re.findall(r"<time>([^<]+)</time>", timeline)
    assert times == sorted(times)
    assert times[0] == "2026-11-20 08:59:00"
    assert times[-1] == "2026-11-20 09:04:00"
    expected_in_order = [
        "order.imported by system:import",
        "Webhook orders/create received",
        "Received from Shopify (orders/create)",
        "Status received → held",
        "Held: SKU not mapped",
        "Status held → ready",
        "Hold released: SKU not mapped",
        "shipbob.order_create",
        "order.hold_released by ops@example.com",
        "order.note_added by ops@example.com",
    ]
    positions = [timeline.index(text) for text in expected_in_order]
    assert positions == sorted(positions)
    assert f'href="/ops/receipts/{receipt.pk}/"' in timeline
    message = OutboxMessage.objects.get(subject_id=str(order.pk), action="order_create")
    assert f'href="/ops/outbox/{message.pk}/"' in timeline
    assert "released ops@example.com" in timeline
    assert "delivery b3f1-delivery" in timeline


def test_an_htmx_refresh_of_the_order_page_gets_only_the_timeline(client, ops_user):
    order = held_on("MUG-RED")
    client.force_login(ops_user)

    response = client.get(reverse("orders:detail", args=[order.pk]), **HX)

    assert response.status_code == 200
    assert 'data-testid="timeline"' in response.text
    assert "Held: SKU not mapped" in response.text
    assert "<h1>" not in response.text
    assert 'data-testid="order-lines"' not in response.text
    assert "HX-Request" in response["Vary"]


def _busy_order(*, lines: int, shipments: int, events: int) -> Order:
    """An order with taxed and discounted lines, parcels, refunds, holds, outbox and audit rows."""
    payload_lines = [
        line_payload(
            sku=f"SKU-{n}",
            tax_lines=[
                {"title": "State tax", "rate": 0.06, "price": "1.20"},
                {"title": "City tax", "rate": 0.02, "price": "0.40"},
            ],
            discount_allocations=[{"amount": "1.00", "discount_application_index": 0}],
        )
        for n in range(lines)
    ]
    payload = order_payload(
        lines=payload_lines,
        shipping_lines=[
            {"title": "Express", "code": "EXP", "price": "9.00", "tax_lines": []},
        ],
    )
    order = upsert(payload)
    order_lines = list(order.lines.all())
    for n in range(shipments):
        shipment = Shipment.objects.create(
            order=order,
            shipbob_shipment_id=700_000 + order.pk * 100 + n,
            carrier="UPS",
            tracking_number=f"1Z{n:08d}",
            tracking_url=f"https://track.example/{n}",
        )
        for line in order_lines:
            ShipmentLine.objects.create(shipment=shipment, order_line=line, quantity=1)
        OutboxMessageFactory(
            peer="shopify",
            action="fulfillment_create",
            idempotency_key=f"shopify.fulfillment_create:{shipment.shipbob_shipment_id}",
            subject_type="orders.order",
            subject_id=str(order.pk),
        )
    for n in range(2):
        refund = Refund.objects.create(
            order=order,
            order_shopify_id=order.shopify_id,
            shopify_id=800_000 + order.pk * 10 + n,
            shopify_created_at=T0,
            amount=Decimal("5.00"),
        )
        refund.lines.create(
            line_shopify_id=order_lines[0].shopify_id,
            quantity=1,
            subtotal=Decimal("5.00"),
            total_tax=Decimal("0"),
        )
    for n in range(events):
        order.events.create(kind="note", message=f"event {n}")
        audit_record(actor=None, actor_label="system:test", verb=f"order.touch{n}", target=order)
        receipt = WebhookReceiptFactory(topic="orders/updated")
        order.events.create(
            kind="shopify.updated", message="update", data={"receipt_id": receipt.pk}
        )
    return order


def test_the_order_page_runs_a_fixed_number_of_queries(
    client, ops_user, django_assert_max_num_queries
):
    small = _busy_order(lines=1, shipments=1, events=1)
    large = _busy_order(lines=6, shipments=4, events=40)
    client.force_login(ops_user)

    with django_assert_max_num_queries(21) as few:
        client.get(reverse("orders:detail", args=[small.pk]))
    with django_assert_max_num_queries(21) as many:
        response = client.get(reverse("orders:detail", args=[large.pk]))

    assert response.status_code == 200
    body = response.text
    assert body.count("https://track.example/") == 4
    assert body.count("order.touch") == 40
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Holds list and release ----------------------------------------------------------------------


def test_the_holds_list_shows_open_holds_and_the_most_common_unresolved_skus(client, ops_user):
    mugs = [held_on("MUG-RED") for _ in range(3)]
    cap = held_on("CAP-BLU")
    released = held_on("OLD-SKU")
    sku_mapping("OLD-SKU")
    order_holds_release(actor=ops_user, orders=[released])
    client.force_login(ops_user)

    body = client.get(reverse("orders:hold-list")).text

    panel = body[body.index("Most common unresolved SKUs") : body.index('class="filters"')]
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>(\d+)</td>", panel)
    assert rows == [
        ("MUG-RED", "Unknown sku", "3"),
        ("CAP-BLU", "Unknown sku", "1"),
    ]  # read as words
    assert panel.count("Release all on this SKU") == 2
    table = body[body.index('data-testid="hold-table"') :]
    assert {o.name for o in [*mugs, cap, released] if detail_link(o) in table} == {
        o.name for o in [*mugs, cap]
    }
    assert table.count("SKU not mapped") == 4
    assert f'name="ids" value="{cap.pk}"' in table


def test_the_holds_list_runs_a_fixed_number_of_queries(
    client, ops_user, django_assert_max_num_queries
):
    def hold_orders(count: int) -> None:
        for n in range(count):
            order = order_with_line(sku=f"GONE-{n % 7}")
            Hold.objects.create(
                order=order,
                line=order.lines.get(),
                reason=Hold.Reason.UNKNOWN_SKU,
                detail="SKU not in the mapping table",
                sku=f"GONE-{n % 7}",
            )

    hold_orders(3)
    client.force_login(ops_user)
    with django_assert_max_num_queries(9) as few:
        client.get(reverse("orders:hold-list"))
    hold_orders(57)
    with django_assert_max_num_queries(9) as many:
        response = client.get(reverse("orders:hold-list"))

    assert response.text.count('name="ids"') == 50
    assert response.text.count("Release all on this SKU") == 7
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_holds_list_filters_by_reason_and_answers_htmx_with_the_table(client, ops_user):
    unmapped = held_on("MUG-RED")
    no_sku = order_with_line(sku=None)
    Hold.objects.create(order=no_sku, reason=Hold.Reason.NO_SKU, detail="The line has no SKU")
    client.force_login(ops_user)

    response = client.get(reverse("orders:hold-list"), {"reason": "no_sku"}, **HX)

    assert response.status_code == 200
    assert "<h1>" not in response.text
    assert detail_link(no_sku) in response.text
    assert detail_link(unmapped) not in response.text
    assert "HX-Request" in response["Vary"]


def test_release_all_on_a_sku_releases_the_orders_it_fixes_and_leaves_the_others_held(
    client, ops_user
):
    mugs = [held_on("MUG-RED") for _ in range(2)]
    mug_and_cap = held_on("MUG-RED", "CAP-BLU")
    cap = held_on("CAP-BLU")
    sku_mapping("MUG-RED")
    client.force_login(ops_user)

    response = client.post(reverse("orders:hold-release"), {"sku": "mug-red"}, follow=True)

    assert response.redirect_chain == [(reverse("orders:hold-list"), 302)]
    assert "Released 2 order(s); 1 still held." in response.text
    for order in mugs:
        order.refresh_from_db()
        assert order.status == Order.Status.READY
        assert not order.holds.filter(released_at__isnull=True).exists()
        assert order.holds.get().released_by == ops_user
        assert OutboxMessage.objects.filter(
            action="order_create", subject_id=str(order.pk)
        ).exists()
    mug_and_cap.refresh_from_db()
    cap.refresh_from_db()
    assert mug_and_cap.status == Order.Status.HELD
    assert list(
        mug_and_cap.holds.filter(released_at__isnull=True).values_list("sku", flat=True)
    ) == ["CAP-BLU"]
    assert cap.status == Order.Status.HELD
    audited = AuditEvent.objects.filter(verb=verbs.ORDER_HOLD_RELEASED, actor=ops_user)
    assert sorted(audited.values_list("target_id", flat=True)) == sorted(
        str(order.pk) for order in [*mugs, mug_and_cap]
    )
    assert {row.data["result"] for row in audited} == {"ready", "held"}
    assert not AuditEvent.objects.filter(
        verb=verbs.ORDER_HOLD_RELEASED, target_id=str(cap.pk)
    ).exists()


def test_release_of_selected_orders_touches_only_those(client, ops_user):
    first, second, third = (held_on("MUG-RED") for _ in range(3))
    sku_mapping("MUG-RED")
    client.force_login(ops_user)

    response = client.post(
        reverse("orders:hold-release"), {"ids": [first.pk, second.pk, "junk"]}, **HX
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("orders:hold-list")
    for order, status in ((first, "ready"), (second, "ready"), (third, "held")):
        order.refresh_from_db()
        assert order.status == status
    assert sorted(
        AuditEvent.objects.filter(verb=verbs.ORDER_HOLD_RELEASED).values_list(
            "target_id", flat=True
        )
    ) == sorted([str(first.pk), str(second.pk)])


def test_releasing_one_order_says_whether_it_went_on(client, ops_user):
    fixed = held_on("MUG-RED")
    broken = held_on("CAP-BLU")
    sku_mapping("MUG-RED")
    client.force_login(ops_user)

    went_on = client.post(reverse("orders:release", args=[fixed.pk]), follow=True)
    still = client.post(reverse("orders:release", args=[broken.pk]), follow=True)

    fixed.refresh_from_db()
    broken.refresh_from_db()
    assert went_on.redirect_chain == [(reverse("orders:detail", args=[fixed.pk]), 302)]
    assert f"{fixed.name} released: it is ready now." in went_on.text
    assert f"{broken.name} is still held" in html.unescape(still.text)
    assert fixed.status == Order.Status.READY
    assert broken.status == Order.Status.HELD


def test_support_sees_the_order_pages_but_cannot_release(client, support_user):
    order = held_on("MUG-RED")
    sku_mapping("MUG-RED")
    client.force_login(support_user)

    pages = [
        client.get(reverse("orders:list")),
        client.get(reverse("orders:detail", args=[order.pk])),
        client.get(reverse("orders:hold-list")),
    ]
    by_sku = client.post(reverse("orders:hold-release"), {"sku": "MUG-RED"})
    by_ids = client.post(reverse("orders:hold-release"), {"ids": [order.pk]})
    one = client.post(reverse("orders:release", args=[order.pk]))

    assert [page.status_code for page in pages] == [200, 200, 200]
    assert "Release all on this SKU" not in pages[2].text
    assert "Re-check and release selected" not in pages[2].text
    assert [by_sku.status_code, by_ids.status_code, one.status_code] == [403, 403, 403]
    order.refresh_from_db()
    assert order.status == Order.Status.HELD
    assert not AuditEvent.objects.filter(verb=verbs.ORDER_HOLD_RELEASED).exists()


def test_the_release_endpoints_refuse_get(client, ops_user):
    client.force_login(ops_user)

    assert client.get(reverse("orders:hold-release")).status_code == 405
    assert client.get(reverse("orders:release", args=[OrderFactory().pk])).status_code == 405
