"""Realistic Shopify REST order bodies for the ingest bench, signed as Shopify signs them.

Self-contained (no Django, no test helpers): the bench must run from a clean checkout. The bodies have
the shape of a real `orders/*` webhook: 64-bit ids, money as strings with `*_set` twins, several lines
with discount allocations and tax lines, addresses, and the raw text Shopify writes (`/` as `\\/`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

TOPICS = ("orders/create", "orders/create", "orders/create", "orders/updated", "orders/paid")
_PRODUCTS = (
    ("Merino Crew Tee", "TEE-MER", ("Black / M", "Black / L", "Navy / S", "Oat / XL"), "28.00"),
    ("Canvas Tote", "TOTE-CNV", ("Natural", "Black"), "18.50"),
    ("Ceramic Pour-Over Set", "POUR-SET", ("White", "Speckled"), "42.00"),
    ("Wool Beanie", "BEANIE", ("Charcoal", "Rust", "Forest"), "22.00"),
    ("Stoneware Mug 350ml", "MUG-350", ("Sage", "Sand", "Slate"), "14.00"),
    ("Linen Apron", "APRON-LIN", ("Olive", "Stone"), "36.00"),
    ("Gift card", "", ("£25",), "25.00"),
)
_PEOPLE = (
    ("Ada", "Lovelace", "London", "N1 1AA", "GB", "United Kingdom", "England", "ENG"),
    ("Léon", "Noël", "Lyon", "69002", "FR", "France", "Rhône", "69"),
    ("Grace", "Hopper", "Arlington", "22201", "US", "United States", "Virginia", "VA"),
    ("Søren", "Kierkegaard", "København", "1050", "DK", "Denmark", "", ""),
    ("Mary", "O'Brien & Sons", "Dublin", "D02 X285", "IE", "Ireland", "Dublin", "D"),
)
SHOP_DOMAIN = "o2c-bench.myshopify.com"


@dataclass(frozen=True)
class SignedBody:
    topic: str
    body: bytes
    signature: str


def shopify_raw(payload: dict) -> bytes:
    """Serialise as Shopify does: compact, `/` escaped as `\\/`, `&` as `\\u0026`, UTF-8."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return text.replace("/", "\\/").replace("&", "\\u0026").encode()


def webhook_sign(*, body: bytes, secret: str) -> str:
    """X-Shopify-Hmac-Sha256: base64 of HMAC-SHA256 over the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _money(amount: Decimal, currency: str) -> dict:
    value = f"{amount:.2f}"
    return {
        "shop_money": {"amount": value, "currency_code": currency},
        "presentment_money": {"amount": value, "currency_code": currency},
    }


def _address(person: tuple, rng: random.Random) -> dict:
    first, last, city, zip_code, country_code, country, province, province_code = person
    return {
        "first_name": first,
        "last_name": last,
        "name": f"{first} {last}",
        "company": None,
        "address1": f"{rng.randint(1, 240)} High Street",
        "address2": rng.choice(["", "Flat 2", "Unit 5/7"]),
        "city": city,
        "province": province or None,
        "province_code": province_code or None,
        "zip": zip_code,
        "country": country,
        "country_code": country_code,
        "phone": f"+44 20 7946 0{rng.randint(100, 999)}",
        "latitude": round(rng.uniform(-60, 60), 6),
        "longitude": round(rng.uniform(-120, 120), 6),
    }


def order_payload(*, rng: random.Random, number: int) -> dict:
    """One order as Shopify's REST API (and an orders/* webhook) presents it."""
    currency = rng.choice(["GBP", "GBP", "EUR", "USD"])
    taxes_included = currency != "USD"
    rate = Decimal("0.2") if taxes_included else Decimal("0.0625")
    order_id = rng.randint(2**53, 2**63 - 1)  # past float precision: ids must stay exact
    created = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 30 * 86400))
    updated = created + timedelta(minutes=rng.randint(0, 90))
    person = rng.choice(_PEOPLE)
    discount_code = rng.choice([None, "WELCOME10", "VIP15"])
    pct = {"WELCOME10": Decimal("0.10"), "VIP15": Decimal("0.15")}.get(discount_code, Decimal(0))

    lines, subtotal, tax_total, discount_total = [], Decimal(0), Decimal(0), Decimal(0)
    for _ in range(rng.randint(1, 5)):
        title, sku, variants, price = rng.choice(_PRODUCTS)
        variant = rng.choice(variants)
        qty = rng.randint(1, 3)
        gross = Decimal(price) * qty
        discount = (gross * pct).quantize(Decimal("0.01"))
        taxable = gross - discount
        tax = (taxable - taxable / (1 + rate) if taxes_included else taxable * rate).quantize(
            Decimal("0.01")
        )
        subtotal += gross
        discount_total += discount
        tax_total += tax
        line_id = rng.randint(2**53, 2**63 - 1)
        lines.append(
            {
                "id": line_id,
                "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
                "attributed_staffs": [],
                "current_quantity": qty,
                "fulfillable_quantity": qty,
                "fulfillment_service": "manual",
                "fulfillment_status": None,
                "gift_card": not sku,
                "grams": 0 if not sku else rng.randint(80, 900),
                "name": f"{title} - {variant}",
                "price": price,
                "price_set": _money(Decimal(price), currency),
                "product_exists": True,
                "product_id": rng.randint(2**53, 2**63 - 1),
                "properties": [{"name": "Gift message", "value": "Happy birthday / love A&B"}]
                if rng.random() < 0.2
                else [],
                "quantity": qty,
                "requires_shipping": bool(sku),
                "sku": (f"{sku}-{variant.upper().replace(' / ', '-')}" if sku else None),
                "taxable": True,
                "title": title,
                "total_discount": "0.00",
                "total_discount_set": _money(Decimal(0), currency),
                "variant_id": rng.randint(2**53, 2**63 - 1),
                "variant_inventory_management": "shopify" if sku else None,
                "variant_title": variant,
                "vendor": "O2C Bench Goods",
                "tax_lines": [
                    {
                        "channel_liable": False,
                        "price": f"{tax:.2f}",
                        "price_set": _money(tax, currency),
                        "rate": float(rate),
                        "title": "VAT" if taxes_included else "State Tax",
                    }
                ],
                "duties": [],
                "discount_allocations": [
                    {
                        "amount": f"{discount:.2f}",
                        "amount_set": _money(discount, currency),
                        "discount_application_index": 0,
                    }
                ]
                if discount
                else [],
            }
        )
    shipping = Decimal(rng.choice(["0.00", "3.95", "4.95", "9.50"]))
    total = subtotal - discount_total + shipping + (Decimal(0) if taxes_included else tax_total)
    customer_id = rng.randint(2**53, 2**63 - 1)
    email = f"{person[0].lower()}.{number}@example.com"
    token = f"{rng.getrandbits(128):032x}"
    address = _address(person, rng)
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "app_id": 580111,
        "browser_ip": f"203.0.113.{rng.randint(1, 254)}",
        "buyer_accepts_marketing": rng.random() < 0.4,
        "cancel_reason": None,
        "cancelled_at": None,
        "cart_token": f"{rng.getrandbits(128):032x}",
        "checkout_id": rng.randint(2**53, 2**63 - 1),
        "checkout_token": f"{rng.getrandbits(128):032x}",
        "client_details": {
            "accept_language": "en-GB,en;q=0.9",
            "browser_height": 900,
            "browser_ip": f"203.0.113.{rng.randint(1, 254)}",
            "browser_width": 1440,
            "session_hash": None,
            "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15",
        },
        "closed_at": None,
        "confirmation_number": f"{rng.getrandbits(40):X}"[:9],
        "confirmed": True,
        "contact_email": email,
        "created_at": created.isoformat(),
        "currency": currency,
        "current_subtotal_price": f"{subtotal - discount_total:.2f}",
        "current_subtotal_price_set": _money(subtotal - discount_total, currency),
        "current_total_discounts": f"{discount_total:.2f}",
        "current_total_discounts_set": _money(discount_total, currency),
        "current_total_price": f"{total:.2f}",
        "current_total_price_set": _money(total, currency),
        "current_total_tax": f"{tax_total:.2f}",
        "current_total_tax_set": _money(tax_total, currency),
        "customer_locale": "en-GB",
        "discount_codes": [
            {"code": discount_code, "amount": f"{discount_total:.2f}", "type": "percentage"}
        ]
        if discount_code
        else [],
        "duties_included": False,
        "email": email,
        "estimated_taxes": False,
        "financial_status": rng.choice(["paid", "paid", "paid", "pending", "authorized"]),
        "fulfillment_status": None,
        "landing_site": "/collections/new?utm_source=newsletter&utm_medium=email",
        "landing_site_ref": None,
        "name": f"#{1000 + number}",
        "note": rng.choice([None, "Please leave with the neighbour at no. 12/14"]),
        "note_attributes": [{"name": "gift_wrap", "value": "yes"}] if rng.random() < 0.3 else [],
        "number": number,
        "order_number": 1000 + number,
        "order_status_url": f"https://{SHOP_DOMAIN}/70293946/orders/{token}/authenticate?key={token[:16]}",
        "payment_gateway_names": ["shopify_payments"],
        "phone": None,
        "presentment_currency": currency,
        "processed_at": created.isoformat(),
        "referring_site": "https://www.google.com/",
        "source_name": "web",
        "subtotal_price": f"{subtotal - discount_total:.2f}",
        "subtotal_price_set": _money(subtotal - discount_total, currency),
        "tags": rng.choice(["", "wholesale", "vip, repeat"]),
        "tax_exempt": False,
        "tax_lines": [
            {
                "price": f"{tax_total:.2f}",
                "rate": float(rate),
                "title": "VAT" if taxes_included else "State Tax",
                "price_set": _money(tax_total, currency),
                "channel_liable": False,
            }
        ],
        "taxes_included": taxes_included,
        "test": False,
        "token": token,
        "total_discounts": f"{discount_total:.2f}",
        "total_discounts_set": _money(discount_total, currency),
        "total_line_items_price": f"{subtotal:.2f}",
        "total_line_items_price_set": _money(subtotal, currency),
        "total_outstanding": "0.00",
        "total_price": f"{total:.2f}",
        "total_price_set": _money(total, currency),
        "total_shipping_price_set": _money(shipping, currency),
        "total_tax": f"{tax_total:.2f}",
        "total_tax_set": _money(tax_total, currency),
        "total_tip_received": "0.00",
        "total_weight": sum(line["grams"] * line["quantity"] for line in lines),
        "updated_at": updated.isoformat(),
        "user_id": None,
        "billing_address": address,
        "customer": {
            "id": customer_id,
            "email": email,
            "created_at": (created - timedelta(days=rng.randint(0, 900))).isoformat(),
            "updated_at": created.isoformat(),
            "first_name": person[0],
            "last_name": person[1],
            "state": "enabled",
            "note": None,
            "verified_email": True,
            "tax_exempt": False,
            "phone": None,
            "tags": "",
            "currency": currency,
            "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
            "default_address": {**address, "id": rng.randint(2**53, 2**63 - 1), "default": True},
        },
        "discount_applications": [
            {
                "target_type": "line_item",
                "type": "discount_code",
                "value": str(int(pct * 100)) + ".0",
                "value_type": "percentage",
                "allocation_method": "across",
                "target_selection": "all",
                "code": discount_code,
            }
        ]
        if discount_code
        else [],
        "fulfillments": [],
        "line_items": lines,
        "payment_terms": None,
        "refunds": [],
        "shipping_address": address,
        "shipping_lines": [
            {
                "id": rng.randint(2**53, 2**63 - 1),
                "carrier_identifier": None,
                "code": "Standard",
                "discounted_price": f"{shipping:.2f}",
                "discounted_price_set": _money(shipping, currency),
                "is_removed": False,
                "phone": None,
                "price": f"{shipping:.2f}",
                "price_set": _money(shipping, currency),
                "source": "shopify",
                "title": "Standard (2-4 working days)",
                "tax_lines": [],
                "discount_allocations": [],
            }
        ],
    }


def signed_bodies_build(*, count: int, secret: str, seed: int = 20261101) -> list[SignedBody]:
    """`count` distinct order bodies, each signed with `secret` (deterministic for a given seed)."""
    rng = random.Random(seed)
    bodies = []
    for number in range(1, count + 1):
        body = shopify_raw(order_payload(rng=rng, number=number))
        bodies.append(
            SignedBody(
                topic=rng.choice(TOPICS),
                body=body,
                signature=webhook_sign(body=body, secret=secret),
            )
        )
    return bodies
