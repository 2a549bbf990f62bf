import random
from datetime import timedelta
from decimal import Decimal

import pytest

from apps.audit import verbs
from apps.audit.models import AuditEvent
from apps.orders.models import Hold, Order, Refund
from apps.orders.services import POLL, order_holds_release, order_upsert, refund_record
from apps.orders.shopify_payload import order_from_rest, refund_from_rest
from apps.sync.models import Alert, OutboxMessage
from tests.contracts import SHOPIFY_ORDER_FILES, shopify_payload
from tests.orders.factories import line_payload, order_payload, sku_mapping

pytestmark = pytest.mark.django_db(transaction=True)


def upsert(payload, via="orders/create"):
    return order_upsert(data=order_from_rest(payload), via=via)


def test_a_mapped_order_becomes_ready_with_its_lines_and_taxes():
    mapping = sku_mapping("TEE-BLK-M")
    outcome = upsert(order_payload())
    order = outcome.order
    assert outcome.created
    assert outcome.applied
    assert order.status == Order.Status.READY
    line = order.lines.get()
    assert line.sku_mapping == mapping
    assert line.tax_lines.get().amount == Decimal("4.00")
    assert order.mapping_version is not None
    assert list(order.events.values_list("kind", flat=True)) == ["shopify.created", "status.ready"]


def test_a_null_sku_line_holds_the_order_and_a_variant_mapping_releases_it(ops_user):
    sku_mapping("TEE-BLK-M")
    custom = line_payload(sku=None, variant_id=987654321)
    order = upsert(order_payload(lines=[line_payload(), custom])).order
    assert order.status == Order.Status.HELD
    hold = order.holds.get()
    assert hold.reason == Hold.Reason.NO_SKU
    assert hold.line.shopify_id == custom["id"]
    assert "no SKU" in hold.detail
    assert Alert.objects.filter(kind="order.hold.no_sku").exists()

    sku_mapping("CUSTOM-ENGRAVING", variant_id=987654321)
    released = order_holds_release(actor=ops_user, orders=[order])
    order.refresh_from_db()
    assert released == [order]
    assert order.status == Order.Status.READY
    assert order.holds.get().released_by == ops_user
    assert AuditEvent.objects.filter(
        verb=verbs.ORDER_HOLD_RELEASED, target_id=str(order.pk)
    ).exists()


def test_an_unknown_sku_holds_and_stays_held_until_mapped(ops_user):
    order = upsert(order_payload(lines=[line_payload(sku="NOPE-1")])).order
    assert order.status == Order.Status.HELD
    assert order.holds.get().reason == Hold.Reason.UNKNOWN_SKU
    assert order_holds_release(actor=ops_user, orders=[order]) == []
    order.refresh_from_db()
    assert order.status == Order.Status.HELD
    assert order.holds.filter(released_at__isnull=True).count() == 1


def test_sku_and_variant_pointing_at_different_mappings_is_ambiguous():
    sku_mapping("TEE-BLK-M")
    sku_mapping("TEE-WHT-M", variant_id=555)
    order = upsert(order_payload(lines=[line_payload(sku="tee-blk-m", variant_id=555)])).order
    assert order.holds.get().reason == Hold.Reason.AMBIGUOUS_SKU


def test_a_shippable_order_without_address_is_held():
    sku_mapping("TEE-BLK-M")
    order = upsert(order_payload(shipping_address=None)).order
    assert order.status == Order.Status.HELD
    hold = order.holds.get()
    assert hold.reason == Hold.Reason.NO_SHIPPING_ADDRESS
    assert hold.line is None


def test_an_order_whose_lines_are_all_zero_quantity_is_stored_and_held():
    sku_mapping("TEE-BLK-M")
    outcome = upsert(order_payload(lines=[line_payload(quantity=0), line_payload(quantity=0)]))
    order = Order.objects.get(pk=outcome.order.pk)
    assert order.status == Order.Status.HELD
    hold = order.holds.get()
    assert hold.reason == Hold.Reason.NO_QUANTITY
    assert order.lines.count() == 2
    assert not OutboxMessage.objects.filter(action="order_create").exists()
    alert = Alert.objects.get(kind="order.hold.no_quantity")
    assert (alert.dedupe_key, alert.subjects) == ("order.hold.no_quantity", [f"order {order.name}"])


def test_an_older_payload_changes_nothing():
    sku_mapping("TEE-BLK-M")
    newer = order_payload(email="new@example.com")
    upsert(newer)
    older = dict(newer, email="old@example.com")
    older["updated_at"] = "2026-11-20T11:00:00+00:00"
    outcome = upsert(older, via="orders/updated")
    assert not outcome.applied
    assert Order.objects.get().email == "new@example.com"


def test_a_repeated_webhook_is_on_the_timeline_but_a_poll_of_an_unchanged_order_is_not():
    sku_mapping("TEE-BLK-M")
    payload = order_payload()
    order = upsert(payload).order
    for _ in range(3):
        assert not upsert(payload, via=POLL).applied
    assert not order.events.filter(kind="shopify.stale").exists()
    assert not upsert(payload, via="orders/updated").applied
    assert order.events.filter(kind="shopify.stale").count() == 1


def test_a_cancellation_stops_the_order():
    sku_mapping("TEE-BLK-M")
    payload = order_payload()
    upsert(payload)
    cancelled = dict(payload, cancelled_at="2026-11-20T13:00:00+00:00", cancel_reason="customer")
    cancelled["updated_at"] = "2026-11-20T13:00:00+00:00"
    order = upsert(cancelled, via="orders/cancelled").order
    assert order.status == Order.Status.CANCELLED
    assert order.cancel_reason == "customer"


def test_a_cancellation_in_the_same_second_as_the_last_update_is_applied():
    sku_mapping("TEE-BLK-M")
    payload = order_payload(financial_status="paid")
    upsert(payload, via="orders/updated")
    same_second = dict(payload, cancelled_at=payload["updated_at"], cancel_reason="customer")
    outcome = upsert(same_second, via="orders/cancelled")
    assert outcome.applied
    order = Order.objects.get()
    assert order.status == Order.Status.CANCELLED
    assert order.cancelled_at is not None


def test_an_update_of_the_same_second_arriving_after_the_cancellation_does_not_undo_it():
    sku_mapping("TEE-BLK-M")
    payload = order_payload(financial_status="paid")
    cancelled = dict(payload, cancelled_at=payload["updated_at"], cancel_reason="customer")
    upsert(cancelled, via="orders/cancelled")
    outcome = upsert(payload, via="orders/updated")
    assert not outcome.applied
    assert Order.objects.get().status == Order.Status.CANCELLED
    # …and the same state again is a repeat, not news.
    assert not upsert(cancelled, via="orders/cancelled").applied


def test_same_second_copies_are_ordered_by_payment_progress():
    sku_mapping("TEE-BLK-M")
    paid = order_payload(financial_status="paid")
    refunded = dict(paid, financial_status="refunded")
    upsert(refunded, via="orders/updated")
    assert not upsert(paid, via="orders/paid").applied
    assert Order.objects.get().financial_status == "refunded"


def test_every_delivery_three_times_shuffled_gives_one_order_in_its_newest_state():
    sku_mapping("TEE-BLK-M")
    base = order_payload()
    versions = []
    for minutes, status in enumerate(["pending", "paid", "partially_refunded", "refunded"]):
        version = dict(base, financial_status=status)
        version["updated_at"] = (
            order_from_rest(base).updated_at + timedelta(minutes=minutes)
        ).isoformat()
        versions.append(version)
    deliveries = versions * 3
    random.Random(7).shuffle(deliveries)
    for payload in deliveries:
        upsert(payload, via="orders/updated")
    assert Order.objects.count() == 1
    order = Order.objects.get()
    assert order.financial_status == "refunded"
    assert order.lines.count() == 1


def test_a_refund_arriving_before_its_order_is_linked_when_the_order_comes():
    refund = refund_from_rest(shopify_payload("shopify_python_api_refund.json"))
    refund_record(data=refund)
    assert Refund.objects.get().order is None
    order = upsert(shopify_payload(SHOPIFY_ORDER_FILES[0])).order
    assert Refund.objects.get().order == order
    refund_record(data=refund)  # a duplicate refunds/create
    assert Refund.objects.count() == 1


def test_real_payload_with_unmapped_skus_is_held_per_line():
    order = upsert(shopify_payload(SHOPIFY_ORDER_FILES[1])).order
    assert order.status == Order.Status.HELD
    assert order.holds.filter(reason=Hold.Reason.UNKNOWN_SKU).count() == 3
    assert order.refunds.count() == 1
