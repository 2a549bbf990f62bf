"""The storefront simulator: realistic orders in the stand-in store, delivered as signed webhooks.

Each order is written to the stand-in's store (so the GraphQL poll sees it) and each of its events
(create, paid, updated, cancelled, refund) is delivered over real HTTP as Shopify does it: raw JSON
with `\\/` and `\\u0026` escapes, HMAC-signed with the first webhook secret, the X-Shopify-* headers.
Duplicate, out-of-order, late and dropped deliveries happen at the configured rates. Each stored
order gets its fulfillment order (see fulfillment.py).
"""

import json
import logging
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import ROUND_HALF_UP, Decimal

import httpx
from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from apps.sandbox.catalogue import CATALOGUE
from apps.sandbox.shopify.fulfillment import fulfillment_orders_sync
from apps.sandbox.shopify.inventory import stock_available, stock_draw
from apps.sandbox.shopify.models import StoreOrder
from integrations.shopify.webhooks import webhook_signature

logger = logging.getLogger(__name__)
CENT = Decimal("0.01")
WEBHOOK_PATH = "/webhooks/shopify/"


@dataclass(frozen=True)
class ShopProfile:
    currency: str
    taxes_included: bool
    tax_rates: tuple[tuple[str, Decimal], ...]
    tax_shipping: bool
    country: str
    country_code: str
    province: str
    province_code: str
    city: str
    zip: str
    utc_offset_hours: int


SHOPS = (
    ShopProfile(
        "USD",
        False,
        (("NY State Tax", Decimal("0.04")), ("New York County Tax", Decimal("0.045"))),
        False,
        "United States",
        "US",
        "New York",
        "NY",
        "New York",
        "10001",
        -5,
    ),
    ShopProfile(
        "GBP",
        True,
        (("GB VAT", Decimal("0.2")),),
        True,
        "United Kingdom",
        "GB",
        "England",
        "ENG",
        "London",
        "SW1A 1AA",
        0,
    ),
    ShopProfile(
        "EUR",
        True,
        (("DE MwSt", Decimal("0.19")),),
        True,
        "Germany",
        "DE",
        "Berlin",
        "BE",
        "Berlin",
        "10115",
        1,
    ),
)
FIRST_NAMES = ("Ada", "Grace", "Linus", "Mary", "Alan", "Edsger", "Barbara", "Ken", "Radia", "Tim")
LAST_NAMES = (
    "Lovelace",
    "Hopper",
    "Torvalds",
    "Jackson",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Thompson",
)
DISCOUNTS = (
    ("WELCOME10", "percentage", Decimal("10")),
    ("SUMMER15", "percentage", Decimal("15")),
    ("SAVE5", "fixed_amount", Decimal("5.00")),
)


@dataclass
class SimulatorConfig:
    orders: int = 5
    seed: int | None = None
    duplicate_rate: float = 0.0
    out_of_order_rate: float = 0.0
    late_rate: float = 0.0
    drop_rate: float = 0.0
    sku_missing_rate: float = 0.05
    unknown_sku_rate: float = 0.03
    discount_rate: float = 0.4
    cancel_rate: float = 0.08
    refund_rate: float = 0.1
    no_address_rate: float = 0.0
    # Share of sold-out lines bought anyway (a shop that keeps selling when out of stock).
    oversell_rate: float = 0.0
    target_url: str = ""
    deliver: bool = True


class SoldOut(Exception):  # noqa: N818 - a shopper's outcome, not an error
    """Every line the shopper wanted was out of stock: no order."""


@dataclass
class Delivery:
    topic: str
    body: bytes
    order_id: int
    event_id: str
    triggered_at: str
    webhook_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    duplicate: bool = False


@dataclass
class SimulationResult:
    order_ids: list[int] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    sent: int = 0
    dropped: int = 0
    duplicated: int = 0
    late: int = 0
    reordered: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def shopify_json(payload: dict) -> bytes:
    """Serialise as Shopify writes it: compact, `/` as `\\/`, `&` as `\\u0026`."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return text.replace("/", "\\/").replace("&", "\\u0026").encode()


def _big_id(rng: random.Random) -> int:
    # Above 2^53: a float (or JavaScript) would silently round these.
    return (1 << 53) + rng.getrandbits(58)


def _split(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split an amount over weights to the cent; the last share takes the rounding remainder."""
    whole = sum(weights)
    if whole <= 0:
        return [Decimal("0.00") for _ in weights]
    shares = [(total * w / whole).quantize(CENT, rounding=ROUND_HALF_UP) for w in weights[:-1]]
    return [*shares, total - sum(shares, Decimal("0.00"))]


def _line_taxes(net: Decimal, shop: ShopProfile) -> list[tuple[str, Decimal, Decimal]]:
    """Tax per rate on one line, rounded to the cent (inclusive: the tax inside the price)."""
    if shop.taxes_included:
        combined = sum((rate for _, rate in shop.tax_rates), Decimal("0"))
        return [
            (title, rate, (net * rate / (1 + combined)).quantize(CENT, rounding=ROUND_HALF_UP))
            for title, rate in shop.tax_rates
        ]
    return [
        (title, rate, (net * rate).quantize(CENT, rounding=ROUND_HALF_UP))
        for title, rate in shop.tax_rates
    ]


def _tax_json(title: str, rate: Decimal, amount: Decimal, currency: str) -> dict:
    price = money(amount)
    return {
        "price": price,
        "rate": float(rate),
        "title": title,
        "price_set": {
            "shop_money": {"amount": price, "currency_code": currency},
            "presentment_money": {"amount": price, "currency_code": currency},
        },
        "channel_liable": False,
    }


def _stamp(moment: datetime, shop: ShopProfile) -> str:
    offset = dt_timezone(timedelta(hours=shop.utc_offset_hours))
    return moment.astimezone(offset).isoformat(timespec="seconds")


def order_build(
    rng: random.Random,
    *,
    number: int,
    config: SimulatorConfig,
    at: datetime,
    stock: dict[str, int] | None = None,
    stock_rng: random.Random | None = None,
) -> tuple[dict, ShopProfile]:
    """A new REST Order whose money adds up: lines, discounts, per-line taxes, shipping.

    `stock` (available per tracked SKU) is drawn down by the lines sold; a SKU short of stock is
    left out, or sold anyway at `config.oversell_rate` (an oversell).
    """
    stock_rng = stock_rng or rng
    shop = rng.choice(SHOPS)
    currency = shop.currency
    order_id = _big_id(rng)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first}.{last}{number}@example.com".lower()
    lines = []
    for _ in range(rng.randint(2, 4)):
        item = rng.choice(CATALOGUE)
        quantity = rng.randint(1, 3)
        roll = rng.random()
        if roll < config.sku_missing_rate:
            # A custom item typed in at checkout: no SKU, no variant, no product.
            sku, variant_id, product_id = rng.choice((None, "")), None, None
            title, variant_title, price = "Custom engraving", "", Decimal("12.00")
        elif roll < config.sku_missing_rate + config.unknown_sku_rate:
            sku, variant_id, product_id = f"NEW-{rng.randint(100, 999)}", _big_id(rng), _big_id(rng)
            title, variant_title, price = "New arrival (unmapped)", "Default", Decimal("29.00")
        else:
            sku, variant_id, product_id = item.sku, item.variant_id, item.product_id
            title, variant_title, price = item.title, item.variant_title, item.price
            if stock is not None and sku in stock:
                # Sold out in the store: the shopper leaves it, unless the shop oversells.
                if stock[sku] < quantity and stock_rng.random() >= config.oversell_rate:
                    continue
                stock[sku] -= quantity
        lines.append(
            {
                "id": _big_id(rng),
                "admin_graphql_api_id": None,
                "sku": sku,
                "variant_id": variant_id,
                "product_id": product_id,
                "title": title,
                "variant_title": variant_title,
                "name": f"{title} - {variant_title}" if variant_title else title,
                "vendor": "O2C Demo Co",
                "quantity": quantity,
                "current_quantity": quantity,
                "fulfillable_quantity": quantity,
                "fulfillment_status": None,
                "price": money(price),
                "requires_shipping": True,
                "gift_card": False,
                "taxable": True,
                "grams": 250,
            }
        )
    if not lines:
        raise SoldOut
    for line in lines:
        line["admin_graphql_api_id"] = f"gid://shopify/LineItem/{line['id']}"
    gross = [Decimal(line["price"]) * line["quantity"] for line in lines]
    line_items_total = sum(gross, Decimal("0.00"))
    discount_codes, discount_applications = [], []
    discount_total = Decimal("0.00")
    if rng.random() < config.discount_rate:
        code, kind, value = rng.choice(DISCOUNTS)
        discount_total = (
            (line_items_total * value / 100).quantize(CENT, rounding=ROUND_HALF_UP)
            if kind == "percentage"
            else min(value, line_items_total)
        )
        discount_codes.append({"code": code, "amount": money(discount_total), "type": kind})
        discount_applications.append(
            {
                "target_type": "line_item",
                "type": "discount_code",
                "value": str(value),
                "value_type": kind,
                "allocation_method": "across",
                "target_selection": "all",
                "code": code,
            }
        )
    allocations = (
        _split(discount_total, gross) if discount_total else [Decimal("0.00")] * len(lines)
    )
    total_tax = Decimal("0.00")
    tax_by_title: dict[str, tuple[Decimal, Decimal]] = {}
    for line, allocation, line_gross in zip(lines, allocations, gross, strict=True):
        line["total_discount"] = money(allocation)
        line["discount_allocations"] = (
            [{"amount": money(allocation), "discount_application_index": 0}]
            if discount_total
            else []
        )
        taxes = _line_taxes(line_gross - allocation, shop)
        line["tax_lines"] = [
            _tax_json(title, rate, amount, currency) for title, rate, amount in taxes
        ]
        for title, rate, amount in taxes:
            total_tax += amount
            previous = tax_by_title.get(title, (rate, Decimal("0.00")))
            tax_by_title[title] = (rate, previous[1] + amount)
    shipping_price = rng.choice((Decimal("0.00"), Decimal("4.99"), Decimal("7.50")))
    shipping_taxes = (
        _line_taxes(shipping_price, shop) if shop.tax_shipping and shipping_price else []
    )
    for title, rate, amount in shipping_taxes:
        total_tax += amount
        previous = tax_by_title.get(title, (rate, Decimal("0.00")))
        tax_by_title[title] = (rate, previous[1] + amount)
    subtotal = line_items_total - discount_total
    total = subtotal + shipping_price + (Decimal("0.00") if shop.taxes_included else total_tax)
    stamp = _stamp(at, shop)
    address = None
    if rng.random() >= config.no_address_rate:
        address = {
            "first_name": first,
            "last_name": last,
            "name": f"{first} {last}",
            "company": None,
            "address1": f"{rng.randint(1, 200)} Market Street",
            "address2": "",
            "city": shop.city,
            "province": shop.province,
            "province_code": shop.province_code,
            "zip": shop.zip,
            "country": shop.country,
            "country_code": shop.country_code,
            "phone": None,
            "latitude": None,
            "longitude": None,
        }
    customer_id = _big_id(rng)
    payload = {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{number}",
        "number": number - 1000,
        "order_number": number,
        "email": email,
        "contact_email": email,
        "phone": None,
        "created_at": stamp,
        "updated_at": stamp,
        "processed_at": stamp,
        "cancelled_at": None,
        "cancel_reason": None,
        "closed_at": None,
        "currency": currency,
        "presentment_currency": currency,
        "taxes_included": shop.taxes_included,
        "financial_status": "paid",
        "fulfillment_status": None,
        "confirmed": True,
        "test": False,
        "tags": "",
        "note": None,
        "source_name": "web",
        "order_status_url": f"https://o2c-demo.myshopify.com/orders/{order_id}/authenticate?key=k&src=sim",
        "total_line_items_price": money(line_items_total),
        "subtotal_price": money(subtotal),
        "total_discounts": money(discount_total),
        "total_tax": money(total_tax),
        "total_price": money(total),
        "current_total_price": money(total),
        "total_shipping_price_set": {
            "shop_money": {"amount": money(shipping_price), "currency_code": currency},
            "presentment_money": {"amount": money(shipping_price), "currency_code": currency},
        },
        "discount_codes": discount_codes,
        "discount_applications": discount_applications,
        "tax_lines": [
            _tax_json(title, rate, amount, currency)
            for title, (rate, amount) in tax_by_title.items()
        ],
        "customer": {
            "id": customer_id,
            "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
            "email": email,
            "first_name": first,
            "last_name": last,
            "phone": None,
        },
        "shipping_address": address,
        "billing_address": address,
        "line_items": lines,
        "shipping_lines": [
            {
                "id": _big_id(rng),
                "code": "Standard" if shipping_price else "Free Shipping",
                "title": "Standard" if shipping_price else "Free Shipping",
                "source": "shopify",
                "price": money(shipping_price),
                "discounted_price": money(shipping_price),
                "tax_lines": [_tax_json(t, r, a, currency) for t, r, a in shipping_taxes],
                "discount_allocations": [],
            }
        ],
        "refunds": [],
    }
    return payload, shop


def _refund_build(
    rng: random.Random,
    payload: dict,
    shop: ShopProfile,
    at: datetime,
    *,
    lines: list[dict],
    note: str,
) -> dict:
    """A refund of whole quantities of `lines`, its amount consistent with their price, discount and tax."""
    refund_id = _big_id(rng)
    refund_lines, amount = [], Decimal("0.00")
    for line in lines:
        quantity = line["quantity"]
        net = Decimal(line["price"]) * quantity - Decimal(line["total_discount"])
        tax = sum((Decimal(t["price"]) for t in line["tax_lines"]), Decimal("0.00"))
        refund_lines.append(
            {
                "id": _big_id(rng),
                "line_item_id": line["id"],
                "quantity": quantity,
                "restock_type": rng.choice(("return", "no_restock")),
                "subtotal": float(net),
                "total_tax": float(tax),
                "subtotal_set": {
                    "shop_money": {"amount": money(net), "currency_code": shop.currency}
                },
                "total_tax_set": {
                    "shop_money": {"amount": money(tax), "currency_code": shop.currency}
                },
            }
        )
        amount += net if shop.taxes_included else net + tax
    stamp = _stamp(at, shop)
    return {
        "id": refund_id,
        "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
        "order_id": payload["id"],
        "created_at": stamp,
        "processed_at": stamp,
        "note": note,
        "restock": True,
        "refund_line_items": refund_lines,
        "transactions": [
            {
                "id": _big_id(rng),
                "order_id": payload["id"],
                "kind": "refund",
                "status": "success",
                "amount": money(amount),
                "currency": shop.currency,
                "gateway": "bogus",
                "created_at": stamp,
            }
        ],
        "order_adjustments": [],
    }


def _events(
    rng: random.Random, payload: dict, shop: ShopProfile, start: datetime, config: SimulatorConfig
):
    """Yield (topic, body dict, event id, moment) for one order's life; mutates `payload` as it goes."""
    moment = start
    checkout_event = str(uuid.uuid4())
    yield "orders/create", json.loads(json.dumps(payload)), checkout_event, moment
    yield "orders/paid", json.loads(json.dumps(payload)), checkout_event, moment
    moment += timedelta(seconds=1)
    payload["tags"] = "simulated, web"
    payload["updated_at"] = _stamp(moment, shop)
    yield "orders/updated", json.loads(json.dumps(payload)), str(uuid.uuid4()), moment
    roll = rng.random()
    if roll < config.cancel_rate:
        moment += timedelta(seconds=1)
        refund = _refund_build(
            rng, payload, shop, moment, lines=payload["line_items"], note="Order canceled"
        )
        payload["cancelled_at"] = _stamp(moment, shop)
        payload["cancel_reason"] = "customer"
        payload["financial_status"] = "refunded"
        payload["current_total_price"] = "0.00"
        payload["refunds"].append(refund)
        for line in payload["line_items"]:
            line["fulfillable_quantity"] = 0
            line["current_quantity"] = 0
        payload["updated_at"] = _stamp(moment, shop)
        event = str(uuid.uuid4())
        yield "orders/cancelled", json.loads(json.dumps(payload)), event, moment
        yield "refunds/create", json.loads(json.dumps(refund)), event, moment
    elif roll < config.cancel_rate + config.refund_rate:
        moment += timedelta(seconds=1)
        line = rng.choice(payload["line_items"])
        refund = _refund_build(rng, payload, shop, moment, lines=[line], note="Damaged in transit")
        refunded = Decimal(refund["transactions"][0]["amount"])
        payload["refunds"].append(refund)
        payload["financial_status"] = "partially_refunded"
        payload["current_total_price"] = money(Decimal(payload["total_price"]) - refunded)
        payload["updated_at"] = _stamp(moment, shop)
        event = str(uuid.uuid4())
        yield "refunds/create", json.loads(json.dumps(refund)), event, moment
        yield "orders/updated", json.loads(json.dumps(payload)), event, moment


def _store_save(payload: dict) -> None:
    row, _ = StoreOrder.objects.update_or_create(
        shopify_id=payload["id"],
        defaults={
            "order_number": payload["order_number"],
            "payload": payload,
            "created_at": datetime.fromisoformat(payload["created_at"]),
            "updated_at": datetime.fromisoformat(payload["updated_at"]),
        },
    )
    # Shopify opens the fulfillment order with the order; refunds and cancellation shrink it.
    fulfillment_orders_sync(order=row)


def _schedule(
    rng: random.Random,
    deliveries: list[Delivery],
    config: SimulatorConfig,
    result: SimulationResult,
) -> list[Delivery]:
    """Apply drop, duplicate, out-of-order and late rates to the natural delivery order."""
    kept = []
    for delivery in deliveries:
        if rng.random() < config.drop_rate:
            result.dropped += 1
            continue
        kept.append(delivery)
    for index in range(len(kept) - 1):
        if rng.random() < config.out_of_order_rate:
            kept[index], kept[index + 1] = kept[index + 1], kept[index]
            result.reordered += 1
    planned = []
    for delivery in kept:
        planned.append(delivery)
        if rng.random() < config.duplicate_rate:
            # Shopify re-sends the same delivery (same webhook id) even after a fast 200.
            copy = Delivery(**{**delivery.__dict__, "duplicate": True})
            planned.insert(rng.randint(len(planned) - 1, len(planned)), copy)
            result.duplicated += 1
    on_time, late = [], []
    for delivery in planned:
        (late if rng.random() < config.late_rate else on_time).append(delivery)
    result.late += len(late)
    return on_time + late


def webhook_headers(delivery: Delivery, *, secret: str | None = None) -> dict[str, str]:
    """Shopify's headers; signed with `secret` or the first of SHOPIFY_WEBHOOK_SECRETS."""
    if secret is None:
        secrets = settings.SHOPIFY["WEBHOOK_SECRETS"]
        secret = secrets[0] if secrets else ""
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": delivery.topic,
        "X-Shopify-Hmac-Sha256": webhook_signature(delivery.body, secret),
        "X-Shopify-Shop-Domain": settings.SHOPIFY["SHOP_DOMAIN"],
        "X-Shopify-API-Version": settings.SHOPIFY["API_VERSION"],
        "X-Shopify-Webhook-Id": delivery.webhook_id,
        "X-Shopify-Event-Id": delivery.event_id,
        "X-Shopify-Triggered-At": delivery.triggered_at,
        "User-Agent": "Shopify-Captain-Hook",
    }


def deliveries_send(
    deliveries: list[Delivery],
    *,
    url: str,
    result: SimulationResult,
    client: httpx.Client | None = None,
    secret: str | None = None,
) -> None:
    own = client is None
    client = client or httpx.Client(timeout=httpx.Timeout(5.0, connect=1.0))
    try:
        for delivery in deliveries:
            try:
                response = client.post(
                    url, content=delivery.body, headers=webhook_headers(delivery, secret=secret)
                )
            except httpx.HTTPError as error:
                result.failures.append(f"{delivery.topic} {delivery.webhook_id}: {error!r}")
                continue
            result.sent += 1
            result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1
            if not response.is_success:
                result.failures.append(
                    f"{delivery.topic} {delivery.webhook_id}: HTTP {response.status_code}"
                )
    finally:
        if own:
            client.close()


def storefront_simulate(
    *, config: SimulatorConfig, client: httpx.Client | None = None
) -> SimulationResult:
    """Create `config.orders` orders in the stand-in store and deliver their webhooks."""
    rng = random.Random(config.seed)
    result = SimulationResult()
    number = (StoreOrder.objects.aggregate(n=Max("order_number"))["n"] or 1000) + 1
    events_per_order = 5
    start = timezone.now().astimezone(UTC).replace(microsecond=0) - timedelta(
        seconds=events_per_order * config.orders + 1
    )
    deliveries: list[Delivery] = []
    skus = {item.sku for item in CATALOGUE}
    stock = stock_available(skus) or None  # an empty store tracks nothing: every order sells
    stock_rng = random.Random(rng.random()) if stock is not None else None
    for index in range(config.orders):
        at = start + timedelta(seconds=events_per_order * index)
        before = dict(stock) if stock is not None else None
        try:
            payload, shop = order_build(
                rng,
                number=number + index,
                config=config,
                at=at,
                stock=stock,
                stock_rng=stock_rng,
            )
        except SoldOut:
            continue
        if stock is not None:
            stock_draw(
                {sku: before[sku] - stock[sku] for sku in stock if before[sku] != stock[sku]}
            )
        for topic, body, event_id, moment in _events(rng, payload, shop, at, config):
            deliveries.append(
                Delivery(
                    topic=topic,
                    body=shopify_json(body),
                    order_id=payload["id"],
                    event_id=event_id,
                    triggered_at=moment.astimezone(UTC)
                    .isoformat(timespec="milliseconds")
                    .replace("+00:00", "Z"),
                    webhook_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                )
            )
        _store_save(payload)
        result.order_ids.append(payload["id"])
    result.deliveries = _schedule(rng, deliveries, config, result)
    if config.deliver:
        url = config.target_url or settings.O2C_PUBLIC_URL + WEBHOOK_PATH
        deliveries_send(result.deliveries, url=url, result=result, client=client)
    return result


def storefront_tick(orders: int | None = None) -> dict:
    """Demo schedule task: a few new orders per run, with some duplicates, reordering and drops."""
    if orders is None:
        orders = settings.O2C_SIMULATOR_ORDERS_PER_MINUTE
    config = SimulatorConfig(
        orders=orders,
        duplicate_rate=0.1,
        out_of_order_rate=0.1,
        late_rate=0.05,
        drop_rate=0.05,
        # Enough unmapped and SKU-less lines that the demo always shows some holds.
        sku_missing_rate=0.08,
        unknown_sku_rate=0.06,
        # Now and then a shopper buys what the store shows as sold out: an oversell to catch.
        oversell_rate=0.2,
    )
    result = storefront_simulate(config=config)
    if result.failures:
        logger.warning(
            "storefront_tick: %d deliveries failed: %s", len(result.failures), result.failures[:3]
        )
    return {
        "orders": len(result.order_ids),
        "sent": result.sent,
        "dropped": result.dropped,
        "failed": len(result.failures),
    }


def order_cancel_deliver(*, shopify_id: int, target_url: str = "") -> SimulationResult:
    """The merchant cancels an existing order: update the store and send a signed orders/cancelled."""
    row = StoreOrder.objects.get(shopify_id=shopify_id)
    payload = row.payload
    moment = max(timezone.now().astimezone(UTC), row.updated_at + timedelta(seconds=1)).replace(
        microsecond=0
    )
    stamp = moment.isoformat()
    payload["cancelled_at"] = stamp
    payload["cancel_reason"] = "customer"
    payload["updated_at"] = stamp
    for line in payload["line_items"]:
        line["fulfillable_quantity"] = 0
    _store_save(payload)
    delivery = Delivery(
        topic="orders/cancelled",
        body=shopify_json(payload),
        order_id=shopify_id,
        event_id=str(uuid.uuid4()),
        triggered_at=stamp,
    )
    result = SimulationResult(order_ids=[shopify_id], deliveries=[delivery])
    deliveries_send(
        [delivery], url=target_url or settings.O2C_PUBLIC_URL + WEBHOOK_PATH, result=result
    )
    return result


def order_return_deliver(*, shopify_id: int, target_url: str = "") -> SimulationResult:
    """A customer returns one line of a fulfilled order: Shopify records a refund of it and sends
    refunds/create, then orders/updated with the lower current total (one merchant action)."""
    row = StoreOrder.objects.get(shopify_id=shopify_id)
    payload = row.payload
    shop = next(shop for shop in SHOPS if shop.currency == payload["currency"])
    moment = max(timezone.now().astimezone(UTC), row.updated_at + timedelta(seconds=1)).replace(
        microsecond=0
    )
    rng = random.Random(shopify_id)
    line = rng.choice(payload["line_items"])
    refund = _refund_build(
        rng, payload, shop, moment, lines=[line], note="Returned by the customer"
    )
    refunded = Decimal(refund["transactions"][0]["amount"])
    payload["refunds"].append(refund)
    payload["financial_status"] = "partially_refunded"
    payload["current_total_price"] = money(Decimal(payload["current_total_price"]) - refunded)
    payload["updated_at"] = _stamp(moment, shop)
    _store_save(payload)
    event = str(uuid.uuid4())
    deliveries = [
        Delivery(
            topic=topic,
            body=shopify_json(body),
            order_id=shopify_id,
            event_id=event,
            triggered_at=moment.isoformat(),
        )
        for topic, body in (("refunds/create", refund), ("orders/updated", payload))
    ]
    result = SimulationResult(order_ids=[shopify_id], deliveries=deliveries)
    deliveries_send(
        deliveries, url=target_url or settings.O2C_PUBLIC_URL + WEBHOOK_PATH, result=result
    )
    return result


def returns_tick(chance: float = 0.5) -> dict:
    """Demo schedule task: now and then a customer returns a line of an order already fulfilled
    (so the portal's invoice for it needs a credit note)."""
    rng = random.Random()
    if rng.random() >= chance:
        return {"returned": None}
    for row in (
        StoreOrder.objects.filter(fulfillments__isnull=False).distinct().order_by("-pk")[:50]
    ):
        payload = row.payload
        if not payload.get("refunds") and not payload.get("cancelled_at"):
            order_return_deliver(shopify_id=row.shopify_id)
            return {"returned": row.shopify_id}
    return {"returned": None}
