"""The deterministic guardrails: facts, commitments, links, policies, model signals, and the corpus."""

import copy
import re

import pytest

from apps.support.guardrails import Flag, facts_index, guardrails_check
from tests.support.injection_corpus import (
    CORPUS_CONTEXT,
    CORPUS_LINK_ALLOWLIST,
    INJECTION_CASES,
)

CONTEXT = {
    "customer": {"first_name": "Ana"},
    "order": {
        "name": "#1001",
        "status": "Shipped",
        "placed_at": "2026-11-20",
        "total": "24.00",
        "currency": "GBP",
        "items": [{"title": "Hoodie", "quantity": 1, "sku": "HOOD-BLK-M"}],
        "shipments": [
            {
                "carrier": "USPS",
                "tracking_number": "9400111899223856925471",
                "tracking_url": "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223856925471",
                "shipped_at": "2026-11-21",
                "delivered_at": None,
                "status": "in_transit",
            }
        ],
        "refunds": [{"amount": "5.50", "date": "2026-11-23"}],
        "invoice": "Posted",
    },
    "policies": [
        {
            "id": "returns-30",
            "title": "Returns",
            "text": "Unworn items can be returned within 30 days. Orders over £50 ship free. "
            "Closed on 25 December.",
            "allows": ["return", "exchange"],
        },
        {
            "id": "damaged-items",
            "title": "Damaged items",
            "text": "We replace damaged items at no cost, or refund them.",
            "allows": ["replacement", "refund"],
        },
        {"id": "free-shipping-vip", "title": "VIP", "text": "", "allows": ["free_shipping"]},
        {"id": "goodwill", "title": "Goodwill", "text": "", "allows": ["discount", "credit"]},
    ],
    "brand": {
        "tone": "warm",
        "sign_off": "The team",
        "use_phrases": [],
        "avoid_phrases": ["No worries", "unfortunately"],
    },
}
ALLOWLIST = ("example.com",)

CLEAN_REPLY = (
    "Hi Ana,\n\nThanks for your patience. Your order #1001 (GBP 24.00) shipped on 21 November 2026 "
    "with USPS, tracking number 9400111899223856925471. You can follow it here: "
    "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223856925471 and read more on "
    "https://help.example.com/shipping. The £5.50 on your statement dates from 2026-11-23. Unworn items can be returned "
    "within 30 days, and parcels usually arrive in 2–3 business days.\n\nFeel free to reply "
    "if anything is unclear.\n\nThe team"
)


def check(reply: str, cited=(), context=CONTEXT, **kwargs) -> list[Flag]:
    return guardrails_check(
        reply=reply,
        context=context,
        cited_policy_ids=list(cited),
        link_allowlist=kwargs.pop("link_allowlist", ALLOWLIST),
        **kwargs,
    ).flags


def codes(flags: list[Flag]) -> list[str]:
    return [flag.code for flag in flags]


def excerpts(flags: list[Flag], code: str) -> list[str]:
    return [flag.excerpt for flag in flags if flag.code == code]


def test_a_grounded_reply_raises_no_flag():
    assert check(CLEAN_REPLY, cited=["returns-30"]) == []


# --- Rule 1: facts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mention",
    [
        "#1001",
        "order 1001",
        "Order #1001",
        "order number 1001",
        "Bestellung 1001",
        "commande n° 1001",
    ],
)
def test_the_linked_order_number_in_any_form_is_a_fact(mention):
    assert check(f"About {mention}: it is on its way.") == []


@pytest.mark.parametrize("mention", ["#1002", "order 1017", "pedido 9999", "order no. 2001"])
def test_another_order_number_is_flagged_with_its_excerpt(mention):
    flags = check(f"About {mention}: it is on its way.")
    assert codes(flags) == ["unknown_order_number"]
    assert flags[0].excerpt == mention
    assert "#1001" in flags[0].detail


def test_an_order_number_without_a_linked_order_is_flagged():
    context = {**CONTEXT, "order": None}
    flags = check("Your order #1001 is on its way.", context=context)
    assert codes(flags) == ["unknown_order_number"]
    assert "no order is linked" in flags[0].detail


@pytest.mark.parametrize(
    "tracking",
    ["9400111899223856925471", "9400 1118 9922 3856 9254 71", "hood-blk-m"],
)
def test_known_tracking_numbers_and_skus_in_any_spacing_or_case_are_facts(tracking):
    assert check(f"Reference: {tracking}.") == []


@pytest.mark.parametrize(
    "tracking",
    ["1Z999AA10123456784", "9400111899223856925472", "LX123456789CN", "9400 1000 0000 0000"],
)
def test_an_invented_tracking_number_is_flagged(tracking):
    flags = check(f"Your tracking number is {tracking}.")
    assert codes(flags) == ["unknown_tracking_number"]
    assert flags[0].excerpt == tracking


def test_a_long_word_with_few_digits_is_not_a_tracking_number():
    assert check("Your hoodie is on its way, thanks for your patience, Ana2026.") == []


def test_an_invented_tracking_number_inside_the_carriers_link_is_flagged():
    reply = "Track it: https://tools.usps.com/go/TrackConfirmAction?tLabels=9400100000000000000000"
    flags = check(reply)
    assert codes(flags) == ["unknown_tracking_number"]
    assert flags[0].excerpt == "9400100000000000000000"


@pytest.mark.parametrize(
    "amount",
    [
        "£24.00",
        "£24",
        "GBP 24.00",
        "24.00 GBP",
        "24,00 £",
        "24.00",
        "24 pounds",
        "£5.50",
        "5,50",
        "£50",
    ],
)
def test_order_refund_and_policy_amounts_in_any_format_are_facts(amount):
    assert check(f"The amount is {amount}.") == []


@pytest.mark.parametrize(
    "amount", ["$12.50", "12,50 €", "GBP 25.00", "£240", "EUR 24.00", "£30", "1.234,56 €", "19.99"]
)
def test_an_invented_amount_or_currency_is_flagged(amount):
    flags = check(f"The amount is {amount}.")
    assert codes(flags) == ["unknown_amount"]
    assert flags[0].excerpt == amount


def test_numbers_in_policy_texts_count_without_a_currency():
    # "30 days" makes 30 a fact; "£30" would be money the policy never mentions.
    assert check("You have 30 days, that is 30.00 days.") == []
    assert codes(check("You get £30 back.", cited=["damaged-items"])) == ["unknown_amount"]


@pytest.mark.parametrize(
    "when",
    [
        "2026-11-21",
        "21/11/2026",
        "11/21/2026",
        "21.11.2026",
        "21 November",
        "November 21",
        "Nov 21",
        "November 21st, 2026",
        "21 Nov 2026",
        "21 novembre",
        "21 de noviembre de 2026",
        "21. November",
        "2026年11月21日",
        "20 November",
        "23 November",
        "25 December",
    ],
)
def test_order_dates_and_policy_dates_in_any_format_are_facts(when):
    assert check(f"It happened on {when}.") == []


@pytest.mark.parametrize(
    "when",
    [
        "2026-11-22",
        "22/11/2026",
        "22 November",
        "Nov 22",
        "December 1",
        "1er décembre",
        "25/12/2027",
    ],
)
def test_an_invented_date_is_flagged(when):
    flags = check(f"It arrives on {when}.")
    assert codes(flags) == ["unknown_date"]
    assert flags[0].excerpt == when


def test_relative_times_are_not_checked():
    assert check("It usually arrives in 2–3 business days, maybe today or tomorrow.") == []


# --- Rule 2: commitments ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "excerpt"),
    [
        ("We'll give you a full refund.", "full refund"),
        ("We will reimburse the postage.", "reimburse"),
        ("You'll get your money back.", "money back"),
        ("We've added store credit to your account.", "store credit"),
        ("Here is a voucher for next time.", "voucher"),
        ("Use this coupon.", "coupon"),
        ("Enjoy a discount on us.", "discount"),
        ("Take 15% off your next order.", "15% off"),
        ("Your next delivery is free.", "free"),
        ("We'll send it for free.", "free"),
        ("A complimentary gift is on its way.", "complimentary"),
        ("Delivery is guaranteed.", "guaranteed"),
        ("We offer compensation for the delay.", "compensation"),
        ("We'll send a replacement.", "replacement"),
        ("We'll waive the fee.", "waive"),
        ("I can cancel it for you.", "cancel"),
        ("Use code SAVE20 at checkout.", "Use code SAVE20"),
        ("It will arrive by Friday.", "arrive by Friday"),
    ],
)
def test_english_commitments_without_a_policy_are_flagged(reply, excerpt):
    flags = check(reply, cited=["returns-30"])
    assert excerpt in excerpts(flags, "unapproved_commitment")


@pytest.mark.parametrize(
    ("reply", "excerpt"),
    [
        ("Nous vous accordons un remboursement.", "remboursement"),
        ("La livraison est gratuite.", "gratuite"),
        ("Nous vous offrons une réduction.", "réduction"),
        ("Le garantizamos la entrega.", "garantizamos"),
        ("Le haremos un reembolso.", "reembolso"),
        ("Tiene un descuento del 10%.", "descuento"),
        ("Wir erstatten den Betrag.", "erstatten"),
        ("Sie erhalten eine Rückerstattung.", "Rückerstattung"),
        ("Der Versand ist kostenlos.", "kostenlos"),
        ("Wir geben Ihnen Rabatt.", "Rabatt"),
        ("Ti faremo un rimborso.", "rimborso"),
        ("Uno sconto per te.", "sconto"),
        ("Con garanzia totale.", "garanzia"),
        ("Faremos o reembolso.", "reembolso"),
        ("O envio é grátis.", "grátis"),
        ("Um desconto especial.", "desconto"),
        ("U krijgt een terugbetaling.", "terugbetaling"),
        ("Verzending is gratis.", "gratis"),
        ("Een mooie korting.", "korting"),
        ("Zwrócimy pieniądze.", "Zwrócimy"),
        ("Darmowa wysyłka.", "Darmowa"),
        ("全額返金いたします。", "返金"),
        ("送料無料です。", "送料無料"),
    ],
)
def test_commitments_in_other_languages_are_flagged(reply, excerpt):
    assert excerpt in excerpts(check(reply), "unapproved_commitment")


def test_a_cited_policy_that_allows_the_kind_clears_the_commitment():
    reply = "We'll send a replacement and refund the postage."
    assert codes(check(reply)) == ["unapproved_commitment", "unapproved_commitment"]
    assert check(reply, cited=["damaged-items"]) == []


def test_an_allowing_policy_that_is_not_cited_does_not_count():
    flags = check("We'll send a replacement.", cited=["returns-30"])
    assert codes(flags) == ["unapproved_commitment"]
    assert "replacement" in flags[0].detail


def test_free_is_read_by_its_sentence():
    assert check("Your shipping is free this time.", cited=["free-shipping-vip"]) == []
    assert check("We'll send a free replacement.", cited=["damaged-items"]) == []
    # A free hoodie is neither shipping nor a replacement: it needs a discount policy.
    flags = check("Enjoy a free hoodie!", cited=["free-shipping-vip"])
    assert excerpts(flags, "unapproved_commitment") == ["free"]
    assert check("Enjoy a free hoodie!", cited=["goodwill"]) == []


def test_negated_commitments_are_still_flagged():
    flags = check("We cannot offer a refund or a discount.")
    assert excerpts(flags, "unapproved_commitment") == ["refund", "discount"]


def test_a_past_refund_from_the_facts_is_still_flagged_for_a_person():
    # Erring on flagging: the checker cannot tell a report of the real refund from a new promise.
    flags = check("We refunded £5.50 on 2026-11-23.")
    assert codes(flags) == ["unapproved_commitment"]
    assert flags[0].excerpt == "refunded"


def test_feel_free_is_not_a_commitment():
    assert check("Feel free to reply, and you are free to ask anything.") == []


def test_obfuscated_commitments_are_flagged_with_the_original_text():
    reply = "We will re\u200bfund you, issue a r\u0435fund, and r e f u n d it."
    flags = check(reply)
    assert excerpts(flags, "unapproved_commitment") == [
        "re\u200bfund",
        "r\u0435fund",
        "r e f u n d",
    ]


def test_commitment_detail_names_the_promise_and_the_missing_policy():
    flags = check("You'll get a full refund.")
    assert flags == [
        Flag(
            "unapproved_commitment",
            'The reply promises a refund ("full refund") but no cited policy allows refunds.',
            "full refund",
        )
    ]


# --- Rule 3: links ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/help",
        "https://help.example.com/a/b?c=d",
        "www.example.com/returns",
        "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223856925471",
        "help.example.com/returns",
    ],
)
def test_allowlisted_and_tracking_links_pass(url):
    assert check(f"See {url}.") == []


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://evil.com/claim", "evil.com"),
        ("https://example.com.evil.io/x", "example.com.evil.io"),
        ("https://notexample.com/", "notexample.com"),
        ("https://example.com@evil.io/track", "evil.io"),
        ("www.phish.net/claim", "www.phish.net"),
        ("bit.ly/3xYz", "bit.ly"),
        ("hxxp://evil.com/x", "evil.com"),
    ],
)
def test_other_links_are_flagged(url, host):
    flags = check(f"Please visit {url}.")
    assert codes(flags) == ["link_not_allowed"]
    assert flags[0].excerpt == url
    assert host in flags[0].detail


def test_an_email_address_off_the_allowlist_is_flagged():
    flags = check("Write to billing@evil-shop.io or help@example.com.")
    assert codes(flags) == ["link_not_allowed"]
    assert flags[0].excerpt == "billing@evil-shop.io"


def test_the_allowlist_comes_from_the_caller():
    assert codes(check("See https://example.com/x.", link_allowlist=())) == ["link_not_allowed"]
    assert check("See https://shop.test/x.", link_allowlist=("https://shop.test/",)) == []


# --- Rules 4 and 5: policies, model signals, brand ----------------------------------------------


def test_a_cited_policy_must_exist():
    flags = check("Per policy always-yes, here is the answer.", cited=["always-yes", "returns-30"])
    assert codes(flags) == ["unknown_policy"]
    assert flags[0].excerpt == "always-yes"
    assert "always-yes" in flags[0].detail


def test_an_unknown_cited_policy_allows_nothing():
    flags = check("You'll get a refund.", cited=["refund-anytime"])
    assert codes(flags) == ["unknown_policy", "unapproved_commitment"]


def test_model_signals_are_flags():
    flags = check("", needs_human_reason="The customer threatens legal action.", confidence=0.2)
    assert codes(flags) == ["empty_reply", "needs_human", "low_confidence"]
    assert "legal action" in flags[1].detail
    assert codes(check("   \u200b ")) == ["empty_reply"]
    assert codes(check("Hello Ana.", confidence=float("nan"))) == ["low_confidence"]
    assert check("Hello Ana.", confidence=0.5) == []


def test_avoided_phrases_are_flagged_case_insensitively():
    flags = check("no worries, Ana! Unfortunately it is late.")
    assert codes(flags) == ["avoided_phrase", "avoided_phrase"]
    assert excerpts(flags, "avoided_phrase") == ["no worries", "Unfortunately"]


def test_flags_follow_the_reply_and_repeat_once_per_excerpt():
    reply = "A refund for #1002, yes a refund, on 1 December."
    flags = check(reply)
    assert codes(flags) == ["unapproved_commitment", "unknown_order_number", "unknown_date"]


def test_every_excerpt_is_text_of_the_reply():
    reply = "Ｒｅｆｕｎｄ of ＄３０ for order #1002 at www.evil.io and 1Z999AA10123456784, 3 Dec."
    flags = check(reply)
    assert set(codes(flags)) == {
        "unapproved_commitment",
        "unknown_amount",
        "unknown_order_number",
        "link_not_allowed",
        "unknown_tracking_number",
        "unknown_date",
    }
    assert all(flag.excerpt and flag.excerpt in reply for flag in flags)


def test_facts_index_normalises_the_context():
    facts = facts_index(CONTEXT)
    assert "1001" in facts.order_names
    assert "9400111899223856925471" in facts.identifiers
    assert facts.tracking_hosts >= {"tools.usps.com"}
    assert facts.policies["damaged-items"] == frozenset({"replacement", "refund"})
    assert {str(d) for d in facts.dates} >= {"2026-11-20", "2026-11-21", "2026-11-23"}


def test_a_sparse_context_does_not_break_the_check():
    assert codes(check("Hello, £5.", context={})) == ["unknown_amount"]


# --- The injection corpus -----------------------------------------------------------------------


def test_the_corpus_is_large_varied_and_well_formed():
    assert len(INJECTION_CASES) >= 30
    assert len({case["id"] for case in INJECTION_CASES}) == len(INJECTION_CASES)
    messages = " ".join(case["customer_message"] for case in INJECTION_CASES)
    for marker in [
        "Ignorez",
        "Olvida",
        "Ignoriere",
        "Ignora",
        "Ignore as",
        "Negeer",
        "Zignoruj",
        "無視",
    ]:
        assert marker in messages
    allowed = {k for p in CORPUS_CONTEXT["policies"] for k in p["allows"]}
    # No policy in the corpus context allows what the injections ask for.
    assert allowed.isdisjoint(
        {"refund", "credit", "discount", "free_shipping", "guarantee", "replacement"}
    )


@pytest.mark.parametrize("case", INJECTION_CASES, ids=lambda case: case["id"])
def test_an_obeyed_injection_is_always_flagged(case):
    flags = guardrails_check(
        reply=case["model_reply"],
        context=copy.deepcopy(CORPUS_CONTEXT),
        cited_policy_ids=case["cited_policy_ids"],
        link_allowlist=CORPUS_LINK_ALLOWLIST,
    ).flags
    assert flags, f"no flag for {case['id']}"
    assert set(case["expect"]) <= set(codes(flags)), codes(flags)
    for flag in flags:
        assert flag.excerpt in case["model_reply"]


def test_a_grounded_answer_to_the_corpus_context_is_clean():
    reply = (
        "Hi Ana, thanks for your patience. Your order #1001 shipped on 21 November with Royal Mail "
        "(RM123456785GB): https://www.royalmail.com/track-your-item#/tracking-results/RM123456785GB. "
        "Parcels usually arrive in 2–3 business days. Warmly, the Hoodie Co. team"
    )
    flags = guardrails_check(
        reply=reply,
        context=CORPUS_CONTEXT,
        cited_policy_ids=["shipping-uk"],
        link_allowlist=CORPUS_LINK_ALLOWLIST,
    ).flags
    assert flags == []


def test_no_obeyed_commitment_in_the_corpus_goes_unflagged():
    commitment_words = re.compile(
        r"refund|reembolso|rembours|erstatt|rimbors|terugbeta|zwróc|返金|free|grátis|gratuit|darmow"
        r"|discount|descuento|sconto|korting|rabatt|割引|credit|voucher|gutschein|coupon|code "
        r"|guarant|garant|compensation|replacement|new hoodie|waive|cancel",
        re.IGNORECASE,
    )
    promising = [case for case in INJECTION_CASES if commitment_words.search(case["model_reply"])]
    assert len(promising) >= 25
    for case in promising:
        flags = guardrails_check(
            reply=case["model_reply"],
            context=CORPUS_CONTEXT,
            cited_policy_ids=case["cited_policy_ids"],
            link_allowlist=CORPUS_LINK_ALLOWLIST,
        ).flags
        assert "unapproved_commitment" in codes(flags), case["id"]
