"""Claims, not phrases: every fact a reply states and every action it promises, verified against
the order's facts and the brand's policies (with their conditions). What cannot be verified is a flag.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

import dateparser
import phonenumbers
from dateparser.search import search_dates
from text_to_num import alpha2digit
from urlextract import URLExtract

from apps.support.guardrails.facts import Facts, Policy
from apps.support.guardrails.lexicon import lexicons
from apps.support.guardrails.patterns import (
    AMOUNT,
    BARE_DOMAIN,
    DIGIT_GROUPS,
    EMAIL,
    ORDER_HASH,
    ORDER_WORD,
    TRACKING_TOKEN,
    TRAILING,
    URL,
    Claimed,
    bare_host,
    currencies_of,
    dates_in,
    decimal_of,
    host_of,
    identifier,
    masked,
)
from apps.support.guardrails.text import Text, fold, lower

# What a policy must allow for each promised action (the brand guide's "allows" words).
ACTION_ALLOWS = {
    "refund": {"refund"},
    "replace": {"replacement", "exchange"},
    "send": {"replacement", "free_item"},
    "cover_cost": {"free_shipping", "free_return"},
    "discount": {"discount"},
    "credit": {"credit"},
    "return": {"return", "exchange"},
    "cancel": {"cancellation"},
    "guarantee": {"guarantee"},
    "deliver_by": {"guarantee"},
}
ACTION_LABELS = {
    "refund": "a refund",
    "replace": "a replacement",
    "send": "something sent for free",
    "cover_cost": "to cover a cost",
    "discount": "a discount",
    "credit": "credit or compensation",
    "return": "a return",
    "cancel": "a cancellation",
    "guarantee": "a guarantee",
    "deliver_by": "delivery by a day",
}
REGION = {"en": "GB", "de": "DE", "es": "ES", "fr": "FR", "ja": "JP"}
TEXT2NUM = {"en", "de", "es", "fr"}
_SENTENCE_END = re.compile(r"[.!?\n。！？]")
_JSON_OBJECT = re.compile(r"[{\[]\s*\"[\w\s-]{1,40}\"\s*:")
_FENCE_TAG = re.compile(
    r"</?\s*(?:order_facts|customer_message|thread|message|system|tool)\b[^>]*>", re.I
)
_CURRENCY_HINT = re.compile(
    r"[$£€¥₹₩円]|\b(?:USD|EUR|GBP|JPY|dollars?|euros?|pounds?|libras?|livres?|pfund|cents?|pence|yen|centimes?|centimos?)\b",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(
    r"\b([A-Z][a-z]{1,20}(?:-[A-Z][a-z]+)?)\s+([A-Z][a-z]{1,20}(?:-[A-Z][a-z]+)?)\b"
)
_GREETED = re.compile(r"\s*,?\s*([A-Z][\w'-]{1,30})")
_POSTCODE = re.compile(
    r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b"  # UK
    r"|\b\d{5}\s+[A-Z][a-z]{2,}\b"  # DE / FR / ES: postcode and town
    r"|〒\s?\d{3}-\d{4}"
)
# dateparser's finds that name a month (numeric dates are the patterns' job: they need a year)
_EXPLICIT_DATE = re.compile(r"\d.*[^\W\d_]{3}|[^\W\d_]{3}.*\d|\d\s*月", re.DOTALL)
_BARE_NUMBER = re.compile(r"(?<![\w.,/#-])\d{4,8}(?![\w.,/-]|[.,]\d)")
_NOT_NAMES = frozenset(
    [
        # capitalised pairs in replies that are no person: days, months, seasons, service words
        *[
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
            "january",
            "february",
            "march",
            "april",
        ],
        *[
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
            "christmas",
            "easter",
            "black",
        ],
        *[
            "cyber",
            "boxing",
            "new",
            "year",
            "eve",
            "day",
            "united",
            "kingdom",
            "states",
            "customer",
            "service",
            "care",
            "express",
        ],
        *[
            "standard",
            "next",
            "first",
            "class",
            "priority",
            "tracked",
            "signed",
            "post",
            "office",
            "returns",
            "policy",
        ],
        "there",
        "team",
        "all",
        "everyone",
        "again",
        "friend",
        "customer",
        "customers",
        "sir",
        "madam",
        "hello",
        "thanks",
        "thank",
        "the",
        "our",
        "your",
        "this",
        "that",
        "good",
        "kind",
        "best",
        "warm",
        "warmly",
        "regards",
        "happy",
        "sorry",
        "great",
        "please",
    ]
)


@dataclass(frozen=True)
class Flag:
    code: str
    detail: str
    excerpt: str = ""


@dataclass(frozen=True)
class Claim:
    """One thing the reply states or promises, and the fact or policy that backs it (or not)."""

    kind: str  # amount | date | order | tracking | link | personal | promise
    excerpt: str
    verified: bool
    source: str = ""  # the fact or policy that verifies it
    flag: Flag | None = None
    at: int = 0


@dataclass(frozen=True)
class Review:
    flags: list[Flag]
    claims: list[Claim]
    languages: tuple[str, ...] = ()

    @property
    def all_verified(self) -> bool:
        return all(claim.verified for claim in self.claims)


@cache
def _url_extractor() -> URLExtract:
    # The TLD list bundled with the package, never refreshed from the network.
    return URLExtract(cache_dns=False, extract_localhost=False)


class _Sentences:
    def __init__(self, text: str) -> None:
        self.text = text
        self.ends = [m.start() for m in _SENTENCE_END.finditer(text)]

    def around(self, at: int) -> tuple[int, int]:
        index = bisect_right(self.ends, at)
        left = self.ends[index - 1] + 1 if index else 0
        right = self.ends[index] if index < len(self.ends) else len(self.text)
        return left, right

    def all(self) -> list[tuple[int, str]]:
        starts = [0] + [e + 1 for e in self.ends]
        return [
            (s, self.text[s:e]) for s, e in zip(starts, [*self.ends, len(self.text)], strict=True)
        ]


class _Checker:
    def __init__(
        self, *, text: Text, facts: Facts, link_allowlist: Sequence[str], languages, cited
    ):
        self.text = text
        self.cited = frozenset(cited)
        self.facts = facts
        self.allowlist = [bare_host(entry) for entry in link_allowlist if bare_host(entry)]
        self.lower = lower(text.folded)
        self.sentences = _Sentences(self.lower)
        self.claims: list[Claim] = []
        self.languages = languages
        self.lexicons = list(lexicons().values())  # every lexicon: a reply may mix languages
        self.taken = Claimed(len(text.folded))

    # -- helpers --
    def claim(
        self, kind: str, start: int, end: int, *, source: str = "", code: str = "", detail: str = ""
    ) -> None:
        excerpt = self.text.excerpt(start, end)
        flag = Flag(code, detail.format(excerpt=excerpt), excerpt) if code else None
        self.claims.append(Claim(kind, excerpt, flag is None, source, flag, start))

    def _allowed(self, host: str) -> bool:
        bare = host.removeprefix("www.")
        return any(bare == a or bare.endswith("." + a) for a in self.allowlist)

    # -- links and personal data --
    def links(self) -> str:
        folded = self.text.folded
        spans: list[tuple[int, int]] = []
        found: list[tuple[int, int]] = []
        claimed = Claimed(len(folded))
        for pattern in (URL, BARE_DOMAIN):
            for m in pattern.finditer(folded):
                start, end = m.span()
                while end > start and folded[end - 1] in TRAILING:
                    end -= 1
                if not claimed.overlaps(start, end):
                    claimed.claim(start, end)
                    found.append((start, end))
        # Hosts under any TLD, scheme or not (urlextract's bundled list).
        for _url, (start, end) in _url_extractor().find_urls(folded, get_indices=True):
            if not claimed.overlaps(start, end) and not EMAIL.match(folded, max(0, start - 64)):
                if "@" in folded[max(0, start - 1) : start]:
                    continue
                claimed.claim(start, end)
                found.append((start, end))
        for start, end in found:
            url = folded[start:end]
            host = host_of(url)
            if url.rstrip("/").lower() in self.facts.tracking_urls:
                self.claim("link", start, end, source="the order's tracking link")
                spans.append((start, end))
            elif host in self.facts.tracking_hosts:
                # A carrier's own site: the number inside it is still checked below.
                self.claim("link", start, end, source=f"the carrier's site ({host})")
            elif self._allowed(host):
                self.claim("link", start, end, source=f"{host} is on the link allow-list")
                spans.append((start, end))
            else:
                self.claim(
                    "link",
                    start,
                    end,
                    code="link_not_allowed",
                    detail=f"The reply links to {host or 'an unreadable address'}, which is neither "
                    "on the allow-list nor the carrier's tracking page for this order.",
                )
                spans.append((start, end))
        for m in EMAIL.finditer(folded):
            if claimed.overlaps(*m.span()):
                continue
            host = m[1].lower()
            if self._allowed(host):
                self.claim("personal", *m.span(), source=f"{host} is on the allow-list")
            else:
                self.claim(
                    "personal",
                    *m.span(),
                    code="personal_data",
                    detail=f"The reply gives an email address at {host}: not ours, and not a fact of this order.",
                )
            spans.append(m.span())
        return masked(folded, spans)

    def personal(self, scan: str) -> str:
        spans = []
        region = REGION.get(self.languages[0] if self.languages else "en", "GB")
        for match in phonenumbers.PhoneNumberMatcher(
            scan, region, leniency=phonenumbers.Leniency.VALID
        ):
            digits = re.sub(r"\D", "", match.raw_string)
            if (
                digits in self.facts.order_numbers
                or identifier(match.raw_string) in self.facts.identifiers
            ):
                continue
            spans.append((match.start, match.end))
            self.claim(
                "personal",
                match.start,
                match.end,
                code="personal_data",
                detail='The reply gives a phone number ("{excerpt}") that is not a fact of this order.',
            )
        original_case = self.text.folded
        customer = self.facts.customer_first_name.lower()
        for lexicon in self.lexicons:
            for pattern in lexicon.greetings:
                for m in pattern.finditer(self.lower):
                    name = _GREETED.match(original_case, m.end())
                    if lexicon.language == "ja":
                        # 田中様: the name stands before the honorific
                        before = re.search(
                            r"([^\s、。,]{1,8})$", original_case[max(0, m.start() - 8) : m.start()]
                        )
                        latin = before and re.fullmatch(r"[A-Za-z]+", before[1])
                        if latin and customer and before[1].lower() != customer:
                            self.claim(
                                "personal",
                                m.start() - len(before[1]),
                                m.end(),
                                code="personal_data",
                                detail=f'The reply addresses "{{excerpt}}", not this ticket\'s customer ({self.facts.customer_first_name}).',
                            )
                        continue
                    if not name:
                        continue
                    word = name[1].lower()
                    if word in _NOT_NAMES or word == customer or word in self.facts.known_words:
                        continue
                    if customer or len(word) > 2:
                        self.claim(
                            "personal",
                            name.start(1),
                            name.end(1),
                            code="personal_data",
                            detail="The reply addresses {excerpt}, not this ticket's customer"
                            + (f" ({self.facts.customer_first_name})." if customer else "."),
                        )
            for pattern in lexicon.honorifics:
                for m in pattern.finditer(self.lower):
                    name = _GREETED.match(original_case, m.end())
                    if (
                        name
                        and name[1].lower() != customer
                        and name[1].lower() not in self.facts.known_words
                    ):
                        self.claim(
                            "personal",
                            m.start(),
                            name.end(1),
                            code="personal_data",
                            detail='The reply names "{excerpt}", who is not this ticket\'s customer.',
                        )
            for pattern in lexicon.street:
                for m in pattern.finditer(original_case):
                    spans.append(m.span())
                    self.claim(
                        "personal",
                        *m.span(),
                        code="personal_data",
                        detail='The reply gives an address ("{excerpt}"): addresses are not in the facts the reply may use.',
                    )
        for m in _POSTCODE.finditer(original_case):
            spans.append(m.span())
            self.claim(
                "personal",
                *m.span(),
                code="personal_data",
                detail='The reply gives a postcode ("{excerpt}"): addresses are not in the facts the reply may use.',
            )
        # A first and last name that is no fact of this order ("John Miller's parcel"); not in
        # German, where every noun is capitalised (its names are caught by Herr/Frau and greetings).
        bigrams = () if "de" in self.languages else _CAPITALISED.finditer(original_case)
        for m in bigrams:
            first, last = m[1].lower(), m[2].lower()
            left, _right = self.sentences.around(m.start())
            at_start = not original_case[left : m.start()].strip(" \t\"'(-*")
            words = {first, last}
            if (
                at_start
                or words & self.facts.known_words
                or words & _NOT_NAMES
                or first == customer
            ):
                continue
            if _name_like(first) and _name_like(last):
                self.claim(
                    "personal",
                    *m.span(),
                    code="personal_data",
                    detail='The reply names "{excerpt}", who is not this ticket\'s customer.',
                )
        return masked(scan, spans)

    # -- facts --
    def dates(self, scan: str) -> str:
        spans = []
        facts = self.facts
        for start, end, candidates in dates_in(scan):
            spans.append((start, end))
            self._date_claim(start, end, candidates)
        scan = masked(scan, spans)
        # dateparser finds what the patterns miss: "3 de ene.", "12. Dez.", "5 déc.".
        languages = [code for code in self.languages if code in lexicons()] or ["en"]
        settings = {"RETURN_AS_TIMEZONE_AWARE": False, "PREFER_DATES_FROM": "future"}
        if facts.as_of:
            # dateparser's base is a naive calendar day, like the dates it returns
            settings["RELATIVE_BASE"] = datetime(  # noqa: DTZ001
                facts.as_of.year, facts.as_of.month, facts.as_of.day
            )
        try:
            hits = (
                search_dates(
                    scan, languages=list(dict.fromkeys([*languages, "en"])), settings=settings
                )
                or []
            )
        except (ValueError, OverflowError, TypeError):
            hits = []
        position = 0
        for phrase, when in hits:
            at = scan.find(phrase, position)
            if at < 0:
                continue
            position = at + len(phrase)
            stripped = phrase.strip()
            if not _EXPLICIT_DATE.search(stripped) or re.fullmatch(r"[\d\s.,:/-]+", stripped):
                continue
            if AMOUNT.fullmatch(stripped) or re.search(r"\d{1,2}:\d{2}", stripped):
                continue
            if not _absolute(stripped, languages):
                continue  # "in 2-3 days", "30 days of": a duration, not a date
            has_year = bool(re.search(r"\b\d{4}\b|'\d{2}\b", stripped))
            candidates = {((when.year if has_year else None), when.month, when.day)}
            spans.append((at, at + len(phrase)))
            self._date_claim(at, at + len(phrase), candidates)
        return masked(scan, spans)

    def _date_claim(self, start, end, candidates) -> None:
        facts = self.facts
        for y, m, d in candidates:
            source = facts.dates.get(date(y, m, d)) if y else facts.month_days.get((m, d))
            if source:
                self.claim("date", start, end, source=source)
                return
        self.claim(
            "date",
            start,
            end,
            code="unknown_date",
            detail='The reply states a date ("{excerpt}") that is not one of this order\'s dates or a date in a policy.',
        )

    def references(self, scan: str) -> str:
        facts = self.facts
        spans = []
        # Tracking numbers first: "Reference: 9400 1118 9922…" is one number, not order 9400.
        for pattern in (DIGIT_GROUPS, TRACKING_TOKEN):
            for m in pattern.finditer(scan):
                token = identifier(m.group())
                if sum(c.isdigit() for c in token) < 6:
                    continue
                spans.append(m.span())
                if token in facts.identifiers:
                    self.claim("tracking", *m.span(), source=facts.identifiers[token])
                else:
                    self.claim(
                        "tracking",
                        *m.span(),
                        code="unknown_tracking_number",
                        detail='The reply gives a tracking or reference number ("{excerpt}") that is not in this order\'s shipments.',
                    )
            scan = masked(scan, spans)
        spans = []
        order_word_res = [ORDER_WORD] + [
            re.compile(
                rf"(?:{p.pattern})\s*(?:(?:number|no|nr|n°|num|numero|nummer|番号)\.?\s*)?[:#]?\s*(\d{{3,8}})\b",
                re.I,
            )
            for lexicon in self.lexicons
            for p in lexicon.order_words
        ]
        for pattern in (*order_word_res, ORDER_HASH):
            for m in pattern.finditer(scan):
                s, e = m.start(), m.end(1)
                if any(a < e and s < b for a, b in spans):
                    continue
                spans.append((s, e))
                self._order_claim(m[1], s, e)
        return masked(scan, spans)

    def _order_claim(self, digits: str, start: int, end: int) -> None:
        if digits in self.facts.order_numbers:
            self.claim("order", start, end, source=f"the ticket's order {self.facts.order_name}")
            return
        linked = (
            f"the linked order is {self.facts.order_name}"
            if self.facts.order_name
            else "no order is linked to this ticket"
        )
        self.claim(
            "order",
            start,
            end,
            code="unknown_order_number",
            detail=f'The reply mentions order "{{excerpt}}", but {linked}.',
        )

    def amounts(self, scan: str) -> str:
        spans = []
        for m in AMOUNT.finditer(scan):
            value = decimal_of(m["n1"] or m["n2"] or m["n3"])
            currencies = currencies_of(m["pre"] or m["post"])
            spans.append(m.span())
            self._amount_claim(value, currencies, *m.span())
        # Amounts in words ("forty-five pounds", "fünfundvierzig Euro"): per sentence, through text2num.
        for start, sentence in _Sentences(scan).all():
            if not _CURRENCY_HINT.search(sentence) or not re.search(r"[^\W\d_]{3}", sentence):
                continue
            digits_before = {
                decimal_of(x["n1"] or x["n2"] or x["n3"]) for x in AMOUNT.finditer(sentence)
            }
            original = self.text.excerpt(start, start + len(sentence))
            for language in [c for c in self.languages if c in TEXT2NUM] or sorted(TEXT2NUM):
                try:
                    converted = alpha2digit(original, language)
                except (ValueError, TypeError):
                    continue
                for m in AMOUNT.finditer(converted):
                    value = decimal_of(m["n1"] or m["n2"] or m["n3"])
                    if value in digits_before or value is None:
                        continue
                    digits_before.add(value)
                    end = start + len(sentence.rstrip())
                    left = start + len(sentence) - len(sentence.lstrip())
                    self._amount_claim(
                        value, currencies_of(m["pre"] or m["post"]), left, end, words=m.group()
                    )
        return masked(scan, spans)

    def _amount_claim(self, value, currencies, start, end, words: str = "") -> None:
        for fact, fact_currencies, source in self.facts.amounts:
            if value == fact and (
                currencies is None or fact_currencies is None or currencies & fact_currencies
            ):
                self.claim("amount", start, end, source=source)
                return
        if value is not None and currencies is None and value in self.facts.numbers:
            self.claim("amount", start, end, source=self.facts.numbers[value])
            return
        said = f" (read as {words})" if words else ""
        self.claim(
            "amount",
            start,
            end,
            code="unknown_amount",
            detail='The reply states an amount ("{excerpt}")'
            + said
            + " that is not the order total, a refund on the order or a figure in a policy.",
        )

    def bare_numbers(self, scan: str) -> None:
        """Another order referred to by its number alone ("your parcel 1002 is on its way")."""
        for m in _BARE_NUMBER.finditer(scan):
            number = m.group()
            if 1990 <= int(number) <= 2099:
                continue  # a year
            if number in self.facts.order_numbers:
                self.claim("order", *m.span(), source=f"the ticket's order {self.facts.order_name}")
            elif decimal_of(number) in self.facts.numbers or any(
                number in key for key in self.facts.identifiers
            ):
                continue
            else:
                self._order_claim(number, *m.span())

    # -- promises --
    def promises(self) -> None:
        facts = self.facts
        seen: set[tuple[int, str]] = set()
        for lexicon in self.lexicons:
            for kind, patterns in lexicon.actions.items():
                if kind == "deliver_by":
                    continue
                for pattern in patterns:
                    for m in pattern.finditer(self.lower):
                        left, right = self.sentences.around(m.start())
                        if (left, kind) in seen:
                            continue
                        seen.add((left, kind))
                        self._promise(kind, m.start(), m.end(), self.lower[left:right])
        # A delivery day with no date in the facts: "by Friday", "tomorrow", "morgen".
        for start, sentence in self.sentences.all():
            for lexicon in self.lexicons:
                relative = next(
                    (m for p in lexicon.relative_days for m in [p.search(sentence)] if m), None
                )
                if relative is None:
                    continue
                if not any(p.search(sentence) for p in lexicon.actions.get("deliver_by", ())):
                    continue
                phrase = relative.group()
                policy = next((p for p in facts.policies.values() if phrase in p.text), None)
                # "innerhalb von 30 Tagen" restates a policy's "within 30 days" in another language.
                figures = [decimal_of(n) for n in re.findall(r"\d+", phrase)]
                s, e = start + relative.start(), start + relative.end()
                if policy is not None:
                    self.claim("date", s, e, source=f'policy "{policy.id}" says "{phrase}"')
                elif figures and all(f in facts.numbers for f in figures):
                    self.claim("date", s, e, source=facts.numbers[figures[0]])
                else:
                    self.claim(
                        "date",
                        s,
                        e,
                        code="unknown_date",
                        detail='The reply promises delivery "{excerpt}": no date in this order\'s facts supports it.',
                    )
                break

    def _promise(self, kind: str, start: int, end: int, sentence: str) -> None:
        verified, said = promise_verify(
            kind=kind, facts=self.facts, sentence=sentence, cited=self.cited
        )
        if verified:
            self.claim("promise", start, end, source=said)
        else:
            self.claim("promise", start, end, code="unapproved_commitment", detail=said)

    # -- our internals recited --
    def internals(self) -> None:
        for m in _FENCE_TAG.finditer(self.text.folded):
            self.claim(
                "internal",
                *m.span(),
                code="internal_text",
                detail='The reply contains prompt markup ("{excerpt}").',
            )
        for m in _JSON_OBJECT.finditer(self.text.folded):
            self.claim(
                "internal",
                m.start(),
                min(len(self.text.folded), m.end() + 40),
                code="internal_text",
                detail="The reply contains structured data (a tool call or JSON): replies are plain text for a customer.",
            )
            break
        for lexicon in self.lexicons:
            for pattern in lexicon.internal:
                for m in pattern.finditer(self.lower):
                    self.claim(
                        "internal",
                        *m.span(),
                        code="internal_text",
                        detail='The reply talks about our instructions or internal guide ("{excerpt}").',
                    )
        from apps.support.prompts import SYSTEM  # the drafting prompt is one of our internals

        words = re.findall(r"\w+", self.lower)
        shingles = {" ".join(words[i : i + 6]) for i in range(max(0, len(words) - 5))}
        for internal in (SYSTEM, *self.facts.internal_texts):
            theirs = re.findall(r"\w+", lower(fold(internal)[0].folded))
            for i in range(max(0, len(theirs) - 5)):
                shingle = " ".join(theirs[i : i + 6])
                if "{" in internal and "_" in shingle:
                    continue
                if shingle in shingles:
                    at = self.lower.find(theirs[i])
                    self.claim(
                        "internal",
                        max(at, 0),
                        max(at, 0) + len(shingle),
                        code="internal_text",
                        detail=f'The reply recites our instructions or brand guide ("…{shingle}…").',
                    )
                    return


_CONDITION_LABELS = {
    "delivered": "the order delivered",
    "returned": "the item returned",
    "within_days": "delivery within {days} days",
}


def _unmet(policy: Policy, facts: Facts) -> list[str]:
    """The policy's conditions this order does not meet: "delivered", "returned", "within_days"."""
    missing = []
    if (policy.delivered or policy.within_days is not None) and facts.delivered_on is None:
        missing.append("delivered")
    if policy.returned and not facts.returned:
        missing.append("returned")
    late = facts.delivered_on and facts.as_of and policy.within_days is not None
    if late and (facts.as_of - facts.delivered_on).days > policy.within_days:
        missing.append("within_days")
    return missing


def _stated(condition: str, policy: Policy, sentence: str) -> bool:
    """Whether the sentence states this condition itself ("once it has arrived", "within 30 days")."""
    for lexicon in lexicons().values():
        if condition == "delivered":
            patterns = (*lexicon.conditions.get("delivered", ()), *lexicon.actions["deliver_by"])
            if any(p.search(sentence) for p in patterns):
                return True
        elif condition == "returned":
            if any(p.search(sentence) for p in lexicon.conditions.get("returned", ())):
                return True
        else:
            for pattern in lexicon.conditions.get("within_days", ()):
                found = pattern.search(sentence)
                if found and int(found[1]) <= (policy.within_days or 0):
                    return True
    return False


def promise_verify(
    *, kind: str, facts: Facts, sentence: str = "", cited: frozenset[str] = frozenset()
) -> tuple[bool, str]:
    """(verified, the policy that allows it or why not).

    A promise needs a policy that allows its kind. A flat promise ("we'll refund you") needs the
    draft to cite it and the order to meet its conditions (delivered, returned, within N days). A
    conditional sentence ("if it arrives damaged, …", "unworn items can be returned within 30 days
    of delivery") may instead state each condition the order does not meet yet.
    """
    label = ACTION_LABELS.get(kind, kind)
    allowing = [p for p in facts.policies.values() if p.allows & ACTION_ALLOWS.get(kind, set())]
    if not allowing:
        return (
            False,
            f'The reply promises {label} ("{{excerpt}}") but no policy in the brand guide allows it.',
        )
    conditional = any(p.search(sentence) for lex in lexicons().values() for p in lex.conditional)
    unmet = []
    for policy in allowing:
        missing = _unmet(policy, facts)
        labels = [_CONDITION_LABELS[m].format(days=policy.within_days) for m in missing]
        if conditional and all(_stated(m, policy, sentence) for m in missing):
            return True, f'policy "{policy.id}" allows {label}, and the reply states its conditions'
        if policy.id not in cited:
            unmet.append(f'"{policy.id}" would allow it but the draft does not cite it')
        elif not missing:
            return True, f'policy "{policy.id}" (cited) allows {label}'
        else:
            unmet.append(f'"{policy.id}" needs {", ".join(labels)}')
    return False, (
        f'The reply promises {label} ("{{excerpt}}") without a policy that covers it: '
        f"{'; '.join(unmet)}."
    )


def _absolute(phrase: str, languages: list[str]) -> bool:
    """A date that stays the same whatever today is (a relative one moves with its base)."""
    readings = set()
    for base in (datetime(2020, 1, 15), datetime(2020, 7, 10)):  # noqa: DTZ001 - calendar days
        settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "current_period"}
        when = dateparser.parse(phrase, languages=languages, settings=settings)
        if when is None:
            return False
        readings.add((when.month, when.day))
    return len(readings) == 1


def _name_like(word: str) -> bool:
    return len(word) >= 2 and word.isalpha()


def claims_check(
    *,
    text: Text,
    facts: Facts,
    link_allowlist: Sequence[str],
    languages: Sequence[str],
    cited: Sequence[str] = (),
) -> list[Claim]:
    checker = _Checker(
        text=text,
        facts=facts,
        link_allowlist=link_allowlist,
        languages=list(languages),
        cited=cited,
    )
    scan = checker.links()
    scan = checker.personal(scan)
    scan = checker.dates(scan)
    scan = checker.references(scan)
    scan = checker.amounts(scan)
    checker.bare_numbers(scan)
    checker.promises()
    checker.internals()
    return sorted(checker.claims, key=lambda c: c.at)
