"""Invoice drafts are right to the cent: on Shopify's real payloads and on simulated orders."""

import random
from decimal import Decimal

import pytest

from apps.invoicing.models import InvoiceDraft, InvoiceDraftLine
from apps.orders.models import Order
from apps.orders.services import order_upsert
from apps.orders.shopify_payload import order_from_rest
from apps.orders.warehouse import shipment_record
from apps.sandbox.shopify.models import StoreOrder
from apps.sandbox.shopify.simulator import SimulatorConfig, storefront_simulate
from integrations.shipbob.client import ShipBobShipment, ShippedProduct
from o2c_portal.management.commands.seed_demo import demo_mappings_seed
from tests.contracts import SHOPIFY_ORDER_FILES, shopify_payload
from tests.orders.factories import sku_mapping

pytestmark = pytest.mark.django_db

_shipment_ids = iter(range(5_000_000, 6_000_000))


def ship(order: Order, units: dict | None = None) -> ShipBobShipment:
    """Ship `units` (order line → Shopify units; default: everything left) as one parcel."""
    products: dict[int, int] = {}
    for line in order.lines.select_related("sku_mapping").prefetch_related(
        "sku_mapping__components"
    ):
        quantity = line.quantity if units is None else units.get(line.pk, 0)
        if not line.requires_shipping or not quantity or line.sku_mapping is None:
            continue
        for component in line.sku_mapping.components.all():
            products[component.inventory_id] = (
                products.get(component.inventory_id, 0) + component.quantity * quantity
            )
    parcel = ShipBobShipment(
        id=next(_shipment_ids),
        status="Completed",
        carrier="USPS",
        tracking_number=f"9400{next(_shipment_ids)}",
        tracking_url="https://tools.usps.com/go/TrackConfirmAction?tLabels=1",
        shipped_at=None,
        delivered_at=None,
        products=tuple(
            ShippedProduct(inventory_id=i, reference_id="", quantity=q) for i, q in products.items()
        ),
    )
    shipment_record(
        reference_id=str(order.shopify_id), shipbob_order_id=1, shipment=parcel, topic="test"
    )
    return parcel


def drafts_total(order: Order) -> Decimal:
    return sum((d.total for d in order.invoice_drafts.all()), Decimal("0.00"))


def shopify_total(order: Order) -> Decimal:
    return order.current_total_price if order.current_total_price is not None else order.total_price


def test_the_partially_refunded_real_order_bills_what_is_left_to_the_cent():
    payload = shopify_payload(SHOPIFY_ORDER_FILES[1])
    for line in payload["line_items"]:
        sku_mapping(line["sku"])
    order = order_upsert(data=order_from_rest(payload), via="test").order
    assert order.status == Order.Status.READY
    ship(order)
    draft = order.invoice_drafts.get()
    assert draft.total == Decimal("199.65") == shopify_total(order)
    assert draft.variance == 0
    item = draft.lines.get(kind=InvoiceDraftLine.Kind.ITEM)  # the two refunded lines are not billed
    assert (item.unit_amount, item.discount_amount, item.tax_amount) == (
        Decimal("199.00"),
        Decimal("3.33"),
        Decimal("3.98"),
    )
    assert draft.line_amount_types == "Exclusive"
    assert item.source["tax_lines"][0]["title"] == "State Tax"


def test_a_self_contradicting_payload_is_flagged_not_forced():
    payload = shopify_payload(
        SHOPIFY_ORDER_FILES[0]
    )  # lines sum to 597.00, total_price says 409.94
    for line in payload["line_items"]:
        sku_mapping(line["sku"])
    order = order_upsert(data=order_from_rest(payload), via="test").order
    ship(order)
    draft = order.invoice_drafts.get()
    assert draft.has_variance
    assert draft.expected_total == Decimal("409.94")
    assert not draft.lines.filter(kind=InvoiceDraftLine.Kind.ROUNDING).exists()


@pytest.fixture
def simulated_orders(settings):
    settings.O2C_PUBLIC_URL = "http://127.0.0.1:9"  # never delivered: deliver=False
    demo_mappings_seed()

    def make(count: int, seed: int, **rates) -> list[Order]:
        config = SimulatorConfig(
            orders=count,
            seed=seed,
            deliver=False,
            sku_missing_rate=0,
            unknown_sku_rate=0,
            no_address_rate=0,
            cancel_rate=0,
            **rates,
        )
        result = storefront_simulate(config=config)
        orders = []
        for row in StoreOrder.objects.filter(shopify_id__in=result.order_ids):
            orders.append(order_upsert(data=order_from_rest(row.payload), via="test").order)
        return orders

    return make


def test_simulated_orders_shipped_whole_equal_shopifys_total_to_the_cent(simulated_orders):
    orders = simulated_orders(120, seed=21, discount_rate=0.6, refund_rate=0.3)
    kinds = {"inclusive": 0, "exclusive": 0, "refunded": 0, "multi_tax": 0}
    for order in orders:
        assert order.status == Order.Status.READY, order.holds.values_list("detail", flat=True)
        ship(order)
        kinds["inclusive" if order.taxes_included else "exclusive"] += 1
        kinds["refunded"] += order.refunds.exists()
        kinds["multi_tax"] += any(line.tax_lines.count() > 1 for line in order.lines.all())
        assert drafts_total(order) == shopify_total(order), order.name
        assert not order.invoice_drafts.filter(variance__gt=0).exists()
    assert all(kinds.values()), kinds  # every shape was exercised


def test_partial_shipments_share_discounts_and_tax_and_add_up(simulated_orders):
    orders = simulated_orders(60, seed=22, discount_rate=0.8, refund_rate=0.0)
    rng = random.Random(5)
    split = 0
    for order in orders:
        lines = list(order.lines.all())
        first = {line.pk: rng.randint(0, line.quantity) for line in lines}
        if any(first.values()):
            ship(order, first)
        rest = {line.pk: line.quantity - first[line.pk] for line in lines}
        if any(rest.values()):
            ship(order, rest)
        drafts = list(order.invoice_drafts.all())
        split += len(drafts) > 1
        assert sum(d.total for d in drafts) == shopify_total(order), order.name
        shipping = InvoiceDraftLine.objects.filter(
            draft__order=order, kind=InvoiceDraftLine.Kind.SHIPPING
        )
        assert shipping.values("draft").distinct().count() <= 1  # shipping on the first draft only
    assert split > 10


def test_a_shipment_gets_one_draft_however_often_it_is_recorded(simulated_orders):
    (order,) = simulated_orders(1, seed=23)
    parcel = ship(order)
    shipment_record(
        reference_id=str(order.shopify_id), shipbob_order_id=1, shipment=parcel, topic="again"
    )
    assert InvoiceDraft.objects.filter(order=order).count() == 1
