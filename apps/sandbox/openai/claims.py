"""The stand-in's second opinion: the claims a draft makes, listed honestly from its words.

The portal sends the draft as JSON between <draft> tags and the facts between <order_facts>
(apps/support/second_opinion.py); the answer follows the "reply_claims" schema. Like a model, the
stand-in only lists; it does not judge (the portal's code verifies every claim).
"""

import json
import re

_DRAFT = re.compile(r"<draft>(.*?)</draft>", re.IGNORECASE | re.DOTALL)
_CURRENCY = {"£": "GBP", "€": "EUR", "$": "USD", "¥": "JPY", "円": "JPY"}
_AMOUNT = re.compile(
    r"([£€$¥])\s?(\d+(?:[.,]\d{1,2})?)|(\d+(?:[.,]\d{1,2})?)\s?(€|円|GBP|EUR|USD|JPY|euros?|pounds?)",
    re.IGNORECASE,
)
_ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_ORDER = re.compile(r"#\s?\d{3,}|\b(?:order|bestellung|pedido|commande|注文)\s*#?\s*\d{3,}", re.I)
_TRACKING = re.compile(r"\b(?=[A-Z0-9]*\d[A-Z0-9]*)[A-Z0-9]{10,}\b")
_LINK = re.compile(r"(?:https?://|//|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
# International, or a national number written in groups (a long bare digit run is a tracking number).
_PHONE = re.compile(r"\+\d[\d ()-]{7,}\d|\b0\d{2,4}[ -]\d{3,4}[ -]?\d{3,4}\b")
_RELATIVE = re.compile(
    r"\b(tomorrow|today|by (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"morgen|heute|mañana|hoy|demain|aujourd'hui)\b|明日|本日",
    re.IGNORECASE,
)
# What a reader would call a promise, by kind (a small vocabulary, not the portal's lexicons).
_PROMISES = (
    ("refund", r"refund|money back|erstatt|reembols|rembours|返金"),
    ("replace", r"replac|new one|exchange|ersatz|umtausch|reemplaz|remplac|交換"),
    ("cover_cost", r"free|on us|our expense|at no cost|kostenlos|gratis|gratuit|sin coste|無料"),
    ("discount", r"discount|% off|rabatt|descuento|remise|réduction|割引"),
    ("credit", r"credit|voucher|gift card|gutschein|crédito|avoir|ポイント"),
    ("guarantee", r"guarantee|promise|garant|必ず"),
)


def draft_text(*, messages: list) -> str:
    for message in messages:
        if isinstance(message, dict) and message.get("role") == "user":
            found = _DRAFT.search(str(message.get("content") or ""))
            if found:
                try:
                    return str(json.loads(found.group(1)).get("text") or "")
                except (ValueError, AttributeError):
                    return found.group(1)
    return ""


def claims_list(*, text: str) -> dict:
    claims = []

    def add(kind: str, words: str, value: str) -> None:
        claims.append({"kind": kind, "text": words, "value": value})

    for sentence in re.split(r"(?<=[.!?。])\s*", text):
        for kind, pattern in _PROMISES:
            if found := re.search(pattern, sentence, re.IGNORECASE):
                add("promise", found.group(), kind)
        if found := _RELATIVE.search(sentence):
            add("date", found.group(), found.group())
    for m in _AMOUNT.finditer(text):
        mark = m[1] or m[4] or ""
        currency = _CURRENCY.get(mark, mark.upper()[:3])
        add("amount", m.group(), f"{(m[2] or m[3]).replace(',', '.')} {currency}")
    for m in _ISO.finditer(text):
        add("date", m.group(), m.group())
    for m in _ORDER.finditer(text):
        add("order_reference", m.group(), re.sub(r"\D", "", m.group()))
    for m in _LINK.finditer(text):
        add("link", m.group(), m.group())
    for m in _TRACKING.finditer(_LINK.sub(" ", text)):
        add("tracking_number", m.group(), m.group())
    for m in _EMAIL.finditer(text):
        add("personal_data", m.group(), m.group())
    for m in _PHONE.finditer(_LINK.sub(" ", text)):
        add("personal_data", m.group(), m.group())
    return {"claims": claims}
