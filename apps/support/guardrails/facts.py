"""The order's facts and the brand's policies, indexed for comparison with what a reply claims."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from apps.support.guardrails.lexicon import lexicons
from apps.support.guardrails.patterns import (
    AMOUNT,
    ANY_NUMBER,
    currencies_of,
    dates_in,
    decimal_of,
    fact_date,
    host_of,
    identifier,
)
from apps.support.guardrails.text import fold, lower


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    text: str  # folded, lower-case
    allows: frozenset[str]
    # Conditions the order must meet for the policy to apply: "delivered", "returned", and
    # within_days (of delivery). From the policy's "conditions" or read from its text.
    delivered: bool = False
    returned: bool = False
    within_days: int | None = None


@dataclass(frozen=True)
class Facts:
    order_name: str  # "#1001" as the shop writes it, or ""
    order_numbers: frozenset[str]  # digits of the order name
    identifiers: dict[str, str]  # tracking numbers and SKUs, alphanumerics only -> the fact
    amounts: tuple[tuple[Decimal, frozenset[str] | None, str], ...]  # (value, currencies, source)
    numbers: dict[Decimal, str]  # bare numbers in facts and policies -> source
    dates: dict[date, str]
    month_days: dict[tuple[int, int], str]
    tracking_urls: frozenset[str]
    tracking_hosts: frozenset[str]
    policies: dict[str, Policy]
    avoid_phrases: tuple[str, ...]
    customer_first_name: str
    known_words: frozenset[str]  # capitalised words that are facts (items, carrier, brand)
    languages: tuple[str, ...]  # the brand guide's languages, "" = not listed
    delivered_on: date | None
    returned: bool
    as_of: date | None
    internal_texts: tuple[str, ...] = field(default_factory=tuple)


def _policy(raw: dict) -> Policy:
    text = lower(fold(f"{raw.get('title') or ''}\n{raw.get('text') or ''}")[0].folded)
    conditions = raw.get("conditions") if isinstance(raw.get("conditions"), dict) else None
    delivered = returned = False
    within = None
    if conditions is not None:
        delivered = bool(conditions.get("delivered"))
        returned = bool(conditions.get("returned"))
        within = conditions.get("within_days")
        within = int(within) if within not in (None, "") else None
    else:
        for lexicon in lexicons().values():
            delivered |= any(p.search(text) for p in lexicon.conditions.get("delivered", ()))
            returned |= any(p.search(text) for p in lexicon.conditions.get("returned", ()))
            for pattern in lexicon.conditions.get("within_days", ()):
                if m := pattern.search(text):
                    within = int(m[1])
        if within is not None and not returned:
            delivered = True  # "within 30 days" counts from delivery unless it says otherwise
    return Policy(
        id=str(raw.get("id") or ""),
        title=str(raw.get("title") or ""),
        text=text,
        allows=frozenset(str(k) for k in raw.get("allows") or ()),
        delivered=delivered,
        returned=returned,
        within_days=within,
    )


def facts_index(context: dict) -> Facts:
    """Index the drafter's context into comparable facts, each remembering where it came from."""
    context = context or {}
    order = context.get("order") or {}
    currency = frozenset({str(order["currency"]).upper()}) if order.get("currency") else None
    name = str(order.get("name") or "").strip()

    identifiers: dict[str, str] = {}
    tracking_urls: set[str] = set()
    tracking_hosts: set[str] = set()
    dates: dict[date, str] = {}
    month_days: dict[tuple[int, int], str] = {}
    amounts: list[tuple[Decimal, frozenset[str] | None, str]] = []
    numbers: dict[Decimal, str] = {}
    known_words: set[str] = set()

    def add_date(value, source: str) -> None:
        if parsed := fact_date(value):
            dates.setdefault(parsed, source)
            month_days.setdefault((parsed.month, parsed.day), source)

    def add_amount(value, currencies, source: str) -> None:
        parsed = decimal_of(str(value)) if value not in (None, "") else None
        if parsed is not None:
            amounts.append((parsed, currencies, source))

    def add_words(text: str) -> None:
        known_words.update(w.lower() for w in re.findall(r"[^\W\d_]{2,}", text or ""))

    add_date(order.get("placed_at"), f"order {name} placed on {order.get('placed_at')}")
    add_amount(
        order.get("total"),
        currency,
        f"order total {order.get('total')} {order.get('currency', '')}",
    )
    for item in order.get("items") or []:
        add_words(str(item.get("title") or ""))
        if item.get("sku"):
            identifiers[identifier(str(item["sku"]))] = f"SKU {item['sku']}"
        if item.get("quantity") not in (None, ""):
            numbers.setdefault(Decimal(str(item["quantity"])), f"quantity of {item.get('title')}")
        if item.get("price") not in (None, ""):
            add_amount(item["price"], currency, f"price of {item.get('title')}")
    delivered_on = None
    for shipment in order.get("shipments") or []:
        add_words(str(shipment.get("carrier") or ""))
        number = str(shipment.get("tracking_number") or "")
        if number:
            identifiers[identifier(number)] = (
                f"tracking number {number} ({shipment.get('carrier')})"
            )
        if url := (shipment.get("tracking_url") or "").strip():
            tracking_urls.add(url.rstrip("/").lower())
            if host := host_of(url):
                tracking_hosts |= {host, host.removeprefix("www.")}
        add_date(shipment.get("shipped_at"), f"shipped on {shipment.get('shipped_at')}")
        add_date(shipment.get("delivered_at"), f"delivered on {shipment.get('delivered_at')}")
        delivered = fact_date(shipment.get("delivered_at"))
        if delivered and (delivered_on is None or delivered > delivered_on):
            delivered_on = delivered
    for refund in order.get("refunds") or []:
        add_amount(refund.get("amount"), currency, f"refund of {refund.get('amount')} on the order")
        add_date(refund.get("date"), f"refunded on {refund.get('date')}")

    policies: dict[str, Policy] = {}
    for raw in context.get("policies") or []:
        if not isinstance(raw, dict):
            continue
        policy = _policy(raw)
        if policy.id:
            policies[policy.id] = policy
        source = f'policy "{policy.id}"'
        add_words(policy.title)
        for _start, _end, candidates in dates_in(policy.text):
            for year, month, day in candidates:
                month_days.setdefault((month, day), source)
                if year:
                    dates.setdefault(date(year, month, day), source)
        for m in AMOUNT.finditer(policy.text):
            add_amount(m["n1"] or m["n2"] or m["n3"], currencies_of(m["pre"] or m["post"]), source)
        for m in ANY_NUMBER.finditer(policy.text):
            if (number := decimal_of(m.group())) is not None:
                numbers.setdefault(number, source)

    brand = context.get("brand") or {}
    add_words(str(brand.get("sign_off") or ""))
    customer = (context.get("customer") or {}).get("first_name") or ""
    add_words(customer)
    internal = [str(brand.get("tone") or "")]
    internal += [
        ", ".join(str(p) for p in brand.get(k) or ()) for k in ("use_phrases", "avoid_phrases")
    ]
    return Facts(
        order_name=name,
        order_numbers=frozenset({re.sub(r"\D", "", name)} - {""}),
        identifiers=identifiers,
        amounts=tuple(amounts),
        numbers=numbers,
        dates=dates,
        month_days=month_days,
        tracking_urls=frozenset(tracking_urls),
        tracking_hosts=frozenset(tracking_hosts),
        policies=policies,
        avoid_phrases=tuple(str(p) for p in (brand.get("avoid_phrases") or ()) if str(p).strip()),
        customer_first_name=str(customer).strip(),
        known_words=frozenset(known_words),
        languages=tuple(str(code) for code in brand.get("languages") or ()),
        delivered_on=delivered_on,
        returned=bool(order.get("returned")),
        as_of=fact_date(context.get("as_of")),
        internal_texts=tuple(t for t in internal if t.strip()),
    )
