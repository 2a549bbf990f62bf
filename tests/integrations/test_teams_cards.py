"""Teams cards: valid Adaptive Card 1.4 or refused, and never with customer data in them."""

import json

import pytest

from integrations.teams.cards import (
    MAX_MESSAGE_BYTES,
    AlertCard,
    CardAction,
    CardRefused,
    card_content,
    card_validate,
    envelope,
    envelope_check,
)


def card(**changes) -> AlertCard:
    values = {
        "title": "Critical: A dead outbox message (raised)",
        "severity": "critical",
        "text": "shipbob.order_create for #1001 is dead: HTTP 422",
        "facts": [("Order", "#1001"), ("Seen", "1×")],
        "items": ["SKU-1", "SKU-2"],
        "items_label": "Items",
        "actions": [
            CardAction("Open the runbook", "https://portal.example/ops/runbook/#outbox.dead")
        ],
    }
    return AlertCard(**{**values, **changes})


def test_a_card_is_a_valid_adaptive_card_1_4_in_the_workflows_envelope():
    body = envelope(card_content(card()))
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    content = attachment["content"]
    assert content["version"] == "1.4"
    assert content["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert content["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open the runbook",
            "url": "https://portal.example/ops/runbook/#outbox.dead",
        }
    ]
    assert envelope_check(json.dumps(body).encode()) == [content]


@pytest.mark.parametrize(
    "text",
    [
        "Xero refused the contact ada.lovelace@example.com",
        "Customer called from +44 20 7946 0958 about #1001",
        "Call back on (415) 555-0100",
    ],
)
def test_a_card_with_customer_pii_cannot_be_built(text):
    with pytest.raises(CardRefused, match="customer data"):
        card_content(card(text=text))
    with pytest.raises(CardRefused, match="customer data"):
        card_content(card(items=["SKU-1", text]))


def test_order_numbers_ids_and_skus_are_not_mistaken_for_phone_numbers():
    text = "order #1001 (Shopify id 9007199254741993) line 9007199254741994: SKU TEE-1234-5678"
    assert card_content(card(text=text))["body"][1]["text"] == text


def test_a_card_that_breaks_the_schema_or_the_version_is_refused():
    content = card_content(card())
    with pytest.raises(CardRefused, match="version"):
        card_validate({**content, "version": "1.5"})
    with pytest.raises(CardRefused, match="schema"):
        card_validate({**content, "body": [{"type": "TextBlock"}]})  # a TextBlock needs text
    with pytest.raises(CardRefused, match="schema"):
        card_validate({**content, "actions": [{"type": "Action.OpenUrl", "title": "no url"}]})


def test_a_message_over_28_kb_is_refused():
    big = card_content(card(items=["x" * 1000] * 20, text="y" * 9000))
    with pytest.raises(CardRefused, match=str(MAX_MESSAGE_BYTES)):
        envelope(big)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not JSON"),
        (b'{"type": "note"}', "type"),
        (b'{"type": "message", "attachments": []}', "no attachments"),
        (b'{"type": "message", "attachments": [{"contentType": "text/plain"}]}', "contentType"),
    ],
)
def test_the_envelope_check_names_what_is_wrong(raw, reason):
    with pytest.raises(CardRefused, match=reason):
        envelope_check(raw)
