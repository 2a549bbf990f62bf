"""Hold alerts group their items and drop each once no order is held for it any more."""

import pytest

from apps.orders.models import Order
from apps.orders.services import order_holds_release, order_upsert
from apps.orders.shopify_payload import order_from_rest
from apps.sync.models import Alert
from tests.orders.factories import line_payload, order_payload, sku_mapping

pytestmark = pytest.mark.django_db


@pytest.fixture
def upsert(django_capture_on_commit_callbacks):
    """Hold alerts are raised and cleared after the order's commit: run those callbacks each time."""

    def upsert_(payload, via="orders/create"):
        with django_capture_on_commit_callbacks(execute=True):
            return order_upsert(data=order_from_rest(payload), via=via).order

    return upsert_


@pytest.fixture
def release(django_capture_on_commit_callbacks):
    def release_(actor, order):
        with django_capture_on_commit_callbacks(execute=True):
            return order_holds_release(actor=actor, orders=[order])

    return release_


def test_unmapped_skus_group_into_one_alert_and_leave_it_when_mapped(ops_user, upsert, release):
    first = upsert(order_payload(lines=[line_payload(sku="NEW-A")]))
    second = upsert(order_payload(lines=[line_payload(sku="NEW-A"), line_payload(sku="new-b")]))
    alert = Alert.objects.get(kind="order.hold.unknown_sku")
    assert alert.subjects == ["NEW-A", "NEW-B"]
    assert alert.message.startswith("2 SKU(s) unmapped")
    assert alert.count == 3

    sku_mapping("NEW-A")
    release(ops_user, first)
    alert.refresh_from_db()
    assert alert.subjects == ["NEW-A", "NEW-B"]  # the second order is still held on NEW-A
    release(ops_user, second)
    alert.refresh_from_db()
    assert alert.subjects == ["NEW-B"]
    assert alert.status == Alert.Status.OPEN

    sku_mapping("NEW-B")
    release(ops_user, second)
    second.refresh_from_db()
    assert second.status == Order.Status.READY
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED
    assert alert.resolved_reason == "no open order is held for it any more"


def test_a_missing_address_fixed_in_shopify_resolves_its_alert(upsert):
    sku_mapping("TEE-BLK-M")
    payload = order_payload(shipping_address=None)
    order = upsert(payload)
    alert = Alert.objects.get(kind="order.hold.no_shipping_address")
    assert alert.subjects == [f"order {order.name}"]

    fixed = order_payload(id=payload["id"], updated=None)
    fixed["updated_at"] = "2026-11-20T13:00:00+00:00"
    upsert(fixed, via="orders/updated")

    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED
