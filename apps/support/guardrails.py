"""Deterministic checks on a drafted reply, run after the model and before an agent sees the draft.

Every order number, tracking number, amount and date in the reply must be a fact of the context the
drafter was given; commitments (refunds, credit, discounts, "free", guarantees…) need a cited policy
that allows them; links go only to allowed hosts; cited policies must exist. Pure Python (no models,
no network), so the same check runs on the model's reply, on an agent's edit and in the tests.

It errs on flagging: a negated promise ("we cannot refund") is still flagged, because a person
reviews every flag and a missed promise costs more than an acknowledged false alarm.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from itertools import groupby
from urllib.parse import urlsplit

LOW_CONFIDENCE = 0.5

FLAG_CODES = (
    "empty_reply",
    "needs_human",
    "low_confidence",
    "unknown_policy",
    "unknown_order_number",
    "unknown_tracking_number",
    "unknown_amount",
    "unknown_date",
    "unapproved_commitment",
    "link_not_allowed",
    "avoided_phrase",
)

COMMITMENT_KINDS = (
    "refund",
    "return",
    "exchange",
    "free_shipping",
    "discount",
    "credit",
    "guarantee",
    "replacement",
    "cancellation",
)


@dataclass(frozen=True)
class Flag:
    code: str
    detail: str
    excerpt: str = ""


@dataclass(frozen=True)
class Facts:
    """What the reply may state, normalised for comparison."""

    order_names: frozenset[str]  # "1001" and "#1001" forms, lower-case
    identifiers: frozenset[str]  # tracking numbers and SKUs, alphanumerics only, lower-case
    amounts: tuple[tuple[Decimal, frozenset[str] | None], ...]  # (value, currencies or None)
    numbers: frozenset[
        Decimal
    ]  # bare numbers in policies ("30 days"): facts only without a currency
    dates: frozenset[date]
    # (month, day) of every fact date, and of year-less dates in policies
    month_days: frozenset[tuple[int, int]]
    tracking_urls: frozenset[str]
    tracking_hosts: frozenset[str]
    policies: dict[str, frozenset[str]]  # policy id -> kinds it allows
    avoid_phrases: tuple[str, ...]


# ---------------------------------------------------------------------------------------------
# Text folding: match on a canonical form, quote excerpts from the original.

# Invisible characters a model (or an injected instruction) can use to split a word past a regex.
_INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
# Cyrillic and Greek look-alikes of Latin letters ("rеfund" with a Cyrillic е).
_HOMOGLYPHS = dict(
    zip(
        "аеорсхуіјѕԁһӏАВЕКМНОРСТХІЈЅοαρνκτιΑΒΕΗΙΚΜΝΟΡΤΧΥΖ",
        "aeopcxyijsdhlABEKMHOPCTXIJSoapvktiABEHIKMNOPTXYZ",
        strict=True,
    )
)
_SPECIAL = dict(
    zip(
        "ßẞłŁøØæÆœŒđı",
        ["ss", "SS", "l", "L", "o", "O", "ae", "AE", "oe", "OE", "d", "i"],
        strict=True,
    )
)
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch in _INVISIBLE:
        return ""
    if ch in _HOMOGLYPHS:
        return _HOMOGLYPHS[ch]
    if ch in _DASHES:
        return "-"
    if "\u0300" <= ch <= "\u036f":  # a stray combining accent
        return ""
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        if c in _SPECIAL:
            out.append(_SPECIAL[c])
            continue
        decomposed = unicodedata.normalize("NFD", c)
        # Strip accents from Latin letters only: Japanese kana decompose too, and must not.
        if len(decomposed) > 1 and ord(decomposed[0]) < 0x250:
            out.append(
                decomposed[0] + "".join(x for x in decomposed[1:] if not unicodedata.combining(x))
            )
        else:
            out.append(c)
    return "".join(out)


@dataclass(frozen=True)
class _Text:
    original: str
    folded: str
    origin: tuple[int, ...]  # for each folded character, its index in the original

    def excerpt(self, start: int, end: int) -> str:
        if start >= end or start >= len(self.origin):
            return ""
        return self.original[self.origin[start] : self.origin[end - 1] + 1]


def _fold(text: str) -> _Text:
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for c in _fold_char(ch):
            chars.append(c)
            origin.append(i)
    return _Text(text, "".join(chars), tuple(origin))


def _lower(text: str) -> str:
    """Lower-case without changing the length, so indexes still map to the original."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


class _Claimed:
    """Which characters earlier matches took: overlap checks in linear time, whatever the reply."""

    def __init__(self, length: int) -> None:
        self.taken = bytearray(length)

    def overlaps(self, start: int, end: int) -> bool:
        return any(self.taken[start:end])

    def claim(self, start: int, end: int) -> None:
        self.taken[start:end] = b"\x01" * (end - start)


def _masked(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


# ---------------------------------------------------------------------------------------------
# Dates

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan janvier enero januar janner gennaio janeiro januari stycznia",
        "february feb fevrier febrero februar febbraio fevereiro februari lutego",
        "march mar mars marzo marz maerz marco maart marca",
        "april apr avril abril aprile kwietnia",
        "may mai mayo maggio maio mei maja",
        "june jun juin junio juni giugno junho czerwca",
        "july jul juillet julio juli luglio julho lipca",
        "august aug aout agosto augustus sierpnia",
        "september sep sept septembre septiembre setiembre settembre setembro wrzesnia",
        "october oct octobre octubre oktober ottobre outubro pazdziernika",
        "november nov novembre noviembre novembro listopada",
        "december dec decembre diciembre dezember dicembre dezembro grudnia",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number
# "marco" (pt, unaccented) is also a common name and word: only as a day-first month.
_MONTH_FIRST_EXCLUDED = frozenset({"marco", "mai", "mar"})
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))

_ISO_DATE = re.compile(r"(?<![\d.])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d])")
_NUMERIC_DATE = re.compile(r"(?<![\d.])(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?![\d])")
_DAY_MONTH = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th|er|e|o|\.)?\s+(?:de\s+|of\s+)?({_MONTH})\b"
    rf"(?:\.?,?\s+(?:de\s+)?(\d{{4}})(?!\d))?",
    re.IGNORECASE,
)
_MONTH_DAY = re.compile(
    rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?!\d)(?:,?\s+(\d{{4}})(?!\d))?",
    re.IGNORECASE,
)
_JA_DATE = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*日")


def _ymd(year: int | None, month: int, day: int) -> tuple[int | None, int, int] | None:
    try:
        date(year or 2000, month, day)  # 2000 is a leap year: 29 February stays valid
    except ValueError:
        return None
    return (year, month, day)


def _year(text: str | None) -> int | None:
    if not text:
        return None
    value = int(text)
    return value + 2000 if value < 100 else value


def _dates_in(text: str) -> list[tuple[int, int, set[tuple[int | None, int, int]]]]:
    """Every explicit date: (start, end, candidate (year, month, day) readings)."""
    found: list[tuple[int, int, set]] = []
    claimed = _Claimed(len(text))

    def add(match: re.Match, candidates: Iterable) -> None:
        start, end = match.span()
        if claimed.overlaps(start, end):
            return
        claimed.claim(start, end)
        found.append((start, end, {c for c in candidates if c}))

    for m in _ISO_DATE.finditer(text):
        add(m, [_ymd(int(m[1]), int(m[2]), int(m[3]))])
    for m in _NUMERIC_DATE.finditer(text):
        a, b, year = int(m[1]), int(m[2]), _year(m[3])
        # Day-first (Europe) or month-first (US): either reading may be the fact.
        add(m, [_ymd(year, b, a), _ymd(year, a, b)])
    for m in _JA_DATE.finditer(text):
        add(m, [_ymd(_year(m[1]), int(m[2]), int(m[3]))])
    for m in _DAY_MONTH.finditer(text):
        add(m, [_ymd(_year(m[3]), _MONTHS[m[2].lower()], int(m[1]))])
    for m in _MONTH_DAY.finditer(text):
        if m[1].lower() in _MONTH_FIRST_EXCLUDED:
            continue
        add(m, [_ymd(_year(m[3]), _MONTHS[m[1].lower()], int(m[2]))])
    return found


def _fact_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


# ---------------------------------------------------------------------------------------------
# Amounts

_DOLLARS = frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"})
_CURRENCY_MARKS: dict[str, frozenset[str]] = {
    "$": _DOLLARS,
    "us$": frozenset({"USD"}),
    "c$": frozenset({"CAD"}),
    "a$": frozenset({"AUD"}),
    "nz$": frozenset({"NZD"}),
    "r$": frozenset({"BRL"}),
    "£": frozenset({"GBP"}),
    "€": frozenset({"EUR"}),
    "¥": frozenset({"JPY", "CNY"}),
    "円": frozenset({"JPY"}),
    "₹": frozenset({"INR"}),
    "₩": frozenset({"KRW"}),
    "zl": frozenset({"PLN"}),
    "kr": frozenset({"SEK", "NOK", "DKK"}),
    "dollar": _DOLLARS,
    "dollars": _DOLLARS,
    "euro": frozenset({"EUR"}),
    "euros": frozenset({"EUR"}),
    "pound": frozenset({"GBP"}),
    "pounds": frozenset({"GBP"}),
    "sterling": frozenset({"GBP"}),
    "libras": frozenset({"GBP"}),
    "yen": frozenset({"JPY"}),
    "zloty": frozenset({"PLN"}),
    "zlotych": frozenset({"PLN"}),
    "zlote": frozenset({"PLN"}),
}
_CODE_NAMES = (
    "USD|EUR|GBP|CAD|AUD|NZD|JPY|CNY|CHF|PLN|SEK|NOK|DKK|BRL|MXN|INR|HKD|SGD|KRW|CZK|HUF|ZAR"
)
_CODES = frozenset(_CODE_NAMES.split("|"))
_NUM = r"\d{1,3}(?:[.,']\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_SYMBOL = r"US\$|C\$|A\$|NZ\$|R\$|[$£€¥₹₩]"
_CODE = rf"\b(?:{_CODE_NAMES})\b"
_WORD = r"\b(?:dollars?|euros?|pounds?|sterling|libras|yen|zloty|zlotych|zlote|zl|kr)\b"
_AMOUNT = re.compile(
    rf"(?P<pre>{_SYMBOL}|{_CODE})\s?-?(?P<n1>{_NUM})(?![\d])"
    rf"|(?<![\d.,])(?P<n2>{_NUM})\s?(?P<post>[$£€¥₹₩円]|{_CODE}|{_WORD})"
    rf"|(?<![\d.,])(?P<n3>\d+[.,]\d{{2}})(?![.,]?\d)",
    re.IGNORECASE,
)
_ANY_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _decimal(text: str) -> Decimal | None:
    s = text.replace("'", "")
    if "," in s and "." in s:
        s = (
            s.replace(".", "").replace(",", ".")
            if s.rfind(",") > s.rfind(".")
            else s.replace(",", "")
        )
    else:
        for sep in ",.":
            if sep in s:
                parts = s.split(sep)
                if len(parts) == 2 and len(parts[1]) in (1, 2):
                    s = parts[0] + "." + parts[1]
                else:  # thousands separators
                    s = s.replace(sep, "")
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def _currencies(mark: str | None) -> frozenset[str] | None:
    if not mark:
        return None
    mark = mark.strip()
    if mark.upper() in _CODES:
        return frozenset({mark.upper()})
    return _CURRENCY_MARKS.get(mark.lower())


# ---------------------------------------------------------------------------------------------
# Order numbers, tracking numbers, links

_ORDER_HASH = re.compile(r"(?<![&\w])#\s?(\d+)\b")
_ORDER_WORD = re.compile(
    r"(?:\b(?:order|orders|orden|commande|pedido|bestellung|bestellnummer|ordine|encomenda|bestelling"
    r"|zamowienie|zamowienia|zamowieniu)|注文)"
    r"\s*(?:(?:number|numero|nummer|numer|num|no|nr|n°|n|番号)\.?\s*)?[:#]?\s*(\d{3,})\b",
    re.IGNORECASE,
)
_TRACKING_TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{10,}(?![A-Za-z0-9])")
_DIGIT_GROUPS = re.compile(r"(?<![\d])\d{4}(?:[ -]\d{4}){2,}(?:[ -]\d{1,4})?(?![\d])")

_URL = re.compile(r"(?:\b(?:https?|hxxps?)://|\bwww\.)[^\s<>\"'`\]\[(){}|\\^]+", re.IGNORECASE)
_TLDS = (
    "com|net|org|info|biz|io|shop|store|online|site|xyz|top|app|link|ly|ru|cn|uk|eu|nl|pl|pt|jp|"
    "fr|de|es|ca|au|click|support|help|live|cc|tk"
)
_BARE_DOMAIN = re.compile(
    rf"(?<![@\w.\-/])(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:{_TLDS})\b(?:/[^\s<>\"'`\]\[(){{}}]*)?",
    re.IGNORECASE,
)
_EMAIL = re.compile(
    r"(?<![\w.+\-])[\w.+\-]+@((?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+[a-z]{2,})\b", re.IGNORECASE
)
_TRAILING = ".,;:!?)]}'\"»>*_"


def _host_of(url: str) -> str:
    if "://" not in url:
        url = "http://" + url
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".").lower()


def _bare_host(entry: str) -> str:
    host = _host_of(entry.strip()) if entry.strip() else ""
    return host.removeprefix("www.")


def _identifier(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


# ---------------------------------------------------------------------------------------------
# Commitments


@dataclass(frozen=True)
class _Commitment:
    kinds: tuple[str, ...]  # any of them, allowed by a cited policy, allows the phrase
    label: str  # "a refund": what the reply promises, for the agent
    pattern: re.Pattern


def _c(kinds: str, label: str, *patterns: str) -> list[_Commitment]:
    return [
        _Commitment(tuple(kinds.split()), label, re.compile(p, re.IGNORECASE)) for p in patterns
    ]


_GENERIC_FREE = "free"  # resolved per sentence, see _free_kinds
_COMMITMENTS: list[_Commitment] = [
    *_c(
        "refund",
        "a refund",
        r"\b(?:(?:full|partial)\s+)?refund(?:s|ed|ing|able)?\b",
        r"\breimburs\w*",
        r"\bmoney[\s-]+back\b",
        r"\bpay\s+you\s+back\b",
        r"\brembours\w*",  # fr
        r"\breembols\w*",  # es, pt
        r"\bdevoluc\w*\s+(?:del|do|de|da)\s+(?:su\s+|tu\s+|seu\s+|vostro\s+)?(?:dinero|dinheiro)\b",
        r"\b(?:devolver|devolvemos|devolveremos|devolvere)\w*\s+(?:el|o|su|tu|seu)?\s*(?:dinero|dinheiro)\b",
        r"\bdinheiro\s+de\s+volta\b",
        r"\b(?:rueck|ruck|zuruck|zurueck)?erstatt\w*",  # de
        r"\bgeld\s+(?:zuruck|zurueck|terug)\b",  # de, nl
        r"\brimbors\w*",  # it
        r"\brestitu\w*",  # nl restitutie, it restituire, fr restitution
        r"\bterugbeta\w*",  # nl
        r"\bzwrot\w*\s+(?:pieniedzy|kosztow|srodkow|platnosci)\b",  # pl
        r"\bzwroc\w*",  # pl "zwrócimy": we will return (the money)
        r"返金|払い戻し|払戻",  # ja
    ),
    *_c(
        "credit",
        "credit",
        r"\b(?:store|account|shop|in-store)\s+credit\b",
        r"\bcredit(?:s|ed|ing)?\b(?!\s*cards?)",
        r"\bgift\s*cards?\b",
        r"\bbon\s+(?:d'achat|cadeau|podarunkowy)\b",
        r"\bun\s+avoir\b",
        r"\bcredito\b",  # es, it, pt
        r"\bsaldo\s+a\s+(?:favor|favore)\b",
        r"\bguthaben\b",
        r"\bgutschrift\w*",
        r"\btegoed\w*",
        r"\b(?:waarde|cadeau)bon\w*",
        r"\bbuon[oi]\s+(?:regalo|acquisto)\b",
        r"\bvale[\s-]+(?:presente|compra)\b",
        r"ポイント|商品券|ギフトカード",
    ),
    *_c(
        "discount credit",
        "a voucher",
        r"\bvouchers?\b",
        r"\bgutschein\w*",
        r"\bbon\s+de\s+reduction\b",
    ),
    *_c(
        "discount",
        "a discount",
        r"\bdiscount\w*",
        r"\bcoupons?\b",
        r"\bpromo(?:tional)?\s*codes?\b",
        r"\bcode\s+promo\b",
        r"\b(?:use|apply|enter|with)\s+(?:the\s+)?(?:code|codigo|rabattcode|kortingscode)\s+[A-Z0-9\-]{4,}\b",
        r"(?<![\d.,])\d+(?:[.,]\d+)?\s?%\s*(?:off\b|de\s+(?:reduction|remise|descuento|desconto)\b|di\s+sconto\b|rabatt|korting|taniej|znizk\w*|オフ|引き)",
        r"\b(?:percent|per\s+cent)\s+off\b",
        r"\bprice\s+(?:match|adjustment)\w*",
        r"\b(?:reduction|remise|rabais)s?\b",  # fr
        r"\bdescuento\w*",  # es
        r"\brabatt\w*",  # de
        r"\bscont[oi]\w*",  # it
        r"\bdesconto\w*",  # pt
        r"\bkorting\w*",  # nl
        r"\brabat\w*",  # pl
        r"\bznizk\w*",  # pl
        r"\bcupo(?:n|nes|m|ns)\b",  # es, pt
        r"割引|値引|クーポン",
    ),
    *_c(
        "free_shipping",
        "free shipping",
        r"\bfree\s+(?:standard\s+|express\s+|next[\s-]day\s+|upgraded\s+)?(?:shipping|delivery|postage|returns?|return\s+shipping)\b",
        r"\b(?:free|upgrade\w*)\s+(?:to\s+)?(?:express|next[\s-]day|priority)\s+(?:shipping|delivery)\b",
        r"\bversandkostenfrei\b",
        r"\bfrais\s+de\s+port\s+offerts?\b",
        r"送料無料",
    ),
    *_c(
        _GENERIC_FREE,
        "something for free",
        r"(?<!feel\s)(?<!-)\bfree\b(?!\s+to\b)(?!-)",
        r"\bcomplimentary\b",
        r"\bat\s+no\s+(?:extra\s+|additional\s+)?(?:cost|charge)\b",
        r"\bno\s+(?:extra\s+|additional\s+)?charge\b",
        r"\bon\s+the\s+house\b",
        r"\b(?:it'?s|that'?s|is|are|be)\s+on\s+us\b",
        r"\bgratuit\w*",  # fr, it, es, pt
        r"\bgratis\b",  # es, nl, it, pt
        r"\boffert[se]?\b",  # fr
        r"\bsans\s+frais\b",
        r"\bsin\s+(?:coste|costo|cargo)\b",
        r"\bkostenlos\w*",
        r"\bkostenfrei\w*",
        r"\bgebuhrenfrei\w*",
        r"\bumsonst\b",
        r"\bsenza\s+(?:costi|spese)\b",
        r"\bomaggio\b",
        r"\bsem\s+(?:custo|encargos|custos)\b",
        r"\bkosteloos\b",
        r"\bdarmow\w*",  # pl
        r"\bbezplatn\w*",  # pl
        r"無料|タダ",
    ),
    *_c(
        "guarantee",
        "a guarantee",
        r"\bguarant\w*",
        r"\bwarrant(?:y|ies|ee|eed)\b",
        r"\bpromis\w*",
        r"\bgaran[tz]\w*",  # fr, es, de, it, pt, nl
        r"\bgwaran\w*",  # pl
        r"\bpromet\w*",  # fr, es, it, pt
        r"\bversprech\w*|\bversproch\w*",  # de
        r"\bbelo(?:of|ven|ofd)\w*",  # nl
        r"\bobiecu\w*",  # pl
        r"保証|約束",
    ),
    *_c(
        "guarantee",
        "a delivery day",
        r"\b(?:arrive|be\s+delivered|be\s+there|reach\s+you|deliver(?:ed)?|get\s+to\s+you)\s+(?:(?:by|on|before)\s+)?"
        r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|tonight|the\s+weekend)\b",
    ),
    *_c(
        "replacement",
        "a replacement",
        r"\breplac(?:e|es|ed|ing|ement|ements)\b",
        r"\b(?:re-?ship|re-?send)\w*",
        r"\bsend\s+(?:you\s+)?(?:a\s+)?(?:brand\s+)?(?:new|another)\s+(?:one|item|pair|unit|\w+)\b",
        r"\bremplac\w*",  # fr
        r"\breemplaz\w*|\bsustitu\w*",  # es
        r"\breenvi\w*",  # es, pt
        r"\bersatz\w*|\bersetz\w*",  # de
        r"\bsostitu\w*|\brispedi\w*",  # it
        r"\bsubstitu\w*",  # pt
        r"\bvervang\w*",  # nl
        r"再送|代替品",
    ),
    *_c(
        "replacement exchange",
        "an exchange or replacement",
        r"\bwymian\w*|\bwymien\w*",  # pl
        r"交換",
    ),
    *_c(
        "exchange",
        "an exchange",
        r"\bexchang\w*",
        r"\bswap\w*",
        r"\bechang\w*",  # fr
        r"\bcambi(?:o|ar|amos|aremos|are|eremo|iamo)\b",  # es, it
        r"\bumtausch\w*|\bumzutauschen\b",  # de
        r"\btroca\w*|\btrocar\b",  # pt
        r"\b(?:om)?ruil\w*",  # nl
    ),
    *_c(
        "return",
        "a return",
        r"\breturn\s+label\b",
        r"\bprepaid\s+return\w*",
        r"\b(?:accept|approve|process)\w*\s+(?:your|the|this)\s+return\b",
        r"\byou\s+(?:can|may)\s+(?:still\s+)?return\b",
        r"\bsend\s+(?:it|them)\s+back\b",
        r"\betiquette\s+de\s+retour\b",
        r"\betiqueta\s+de\s+devoluc\w*",
        r"\bretour(?:label|etikett)\w*",
        r"\bretoure\w*",
        r"返品",
    ),
    *_c(
        "cancellation",
        "a cancellation",
        r"\bcancel\w*",  # en, es, pt
        r"\ban+ul(?:er|ons|ation|ee|e|are|iamo|ato|eren|eer|eerd|owac|ujemy|owalismy)\w*",  # fr, it, nl, pl
        r"\bstorn\w*",  # de
        r"キャンセル|取り消し|取消",
    ),
    *_c(
        "refund credit",
        "compensation",
        r"\bcompens\w*",  # en, fr, es, it, pt, nl
        r"\bdedommag\w*|\bindemni\w*",
        r"\bentschadig\w*|\bkulanz\w*",
        r"\brisarci\w*",
        r"\bvergoed\w*",
        r"\brekompens\w*|\bodszkodow\w*",
        r"\bgoodwill\b",
        r"\bmake\s+it\s+up\s+to\s+you\b",
        r"補償|お詫びの品",
    ),
    *_c(
        "discount free_shipping",
        "to waive a charge",
        r"\bwaiv\w*",
        r"\b(?:we(?:'ll|\s+will)?|i(?:'ll|\s+will)?)\s+(?:cover|pay\s+for)\s+(?:the\s+)?(?:cost|shipping|postage|return|fee)\w*",
    ),
]
_SHIPPING_WORDS = re.compile(
    r"\b(?:shipping|delivery|postage|returns?|livraison|envoi|port|envio|entrega|versand\w*|lieferung|"
    r"spedizion\w*|consegna|frete|portes|verzend\w*|bezorg\w*|wysylk\w*|dostaw\w*)\b|送料|配送",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?\n。！？]")
# Letters spaced out to slip past a word match: "r e f u n d", "f.r.e.e".
_SPACED_LETTERS = re.compile(r"(?<![^\W\d_])(?:[^\W\d_][\s.\-_*·]{1,2}){3,}[^\W\d_](?![^\W\d_])")

_KIND_PLURALS = {
    "refund": "refunds",
    "return": "returns",
    "exchange": "exchanges",
    "free_shipping": "free shipping",
    "discount": "discounts",
    "credit": "credit",
    "guarantee": "guarantees",
    "replacement": "replacements",
    "cancellation": "cancellations",
}


class _Sentences:
    """The sentence around a match, found by bisection; "free" is read once per sentence."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.ends = [m.start() for m in _SENTENCE_END.finditer(text)]
        self.kinds: dict[int, tuple[str, ...]] = {}

    def free_kinds(self, start: int) -> tuple[str, ...]:
        """What "free" promises depends on its sentence: free shipping, a free replacement, else a discount."""
        index = bisect_right(self.ends, start)
        if index not in self.kinds:
            left = self.ends[index - 1] + 1 if index else 0
            right = self.ends[index] if index < len(self.ends) else len(self.text)
            sentence = self.text[left:right]
            kinds: set[str] = set()
            if _SHIPPING_WORDS.search(sentence):
                kinds.add("free_shipping")
            for commitment in _COMMITMENTS:
                if commitment.kinds != (_GENERIC_FREE,) and commitment.pattern.search(sentence):
                    kinds.update(commitment.kinds)
            self.kinds[index] = tuple(sorted(kinds)) or ("discount",)
        return self.kinds[index]


# ---------------------------------------------------------------------------------------------
# Facts


def facts_index(context: dict) -> Facts:
    """Index the drafter's context into comparable facts (order ids, amounts as Decimal, dates…)."""
    context = context or {}
    order = context.get("order") or {}
    policies = [p for p in (context.get("policies") or []) if isinstance(p, dict)]
    currency = frozenset({str(order["currency"]).upper()}) if order.get("currency") else None

    names: set[str] = set()
    if order.get("name"):
        name = str(order["name"]).strip().lower()
        names |= {name, name.lstrip("#"), re.sub(r"\D", "", name)}
    names.discard("")

    identifiers: set[str] = set()
    tracking_urls: set[str] = set()
    tracking_hosts: set[str] = set()
    dates: set[date] = set()
    month_days: set[tuple[int, int]] = set()
    amounts: list[tuple[Decimal, frozenset[str] | None]] = []
    numbers: set[Decimal] = set()

    def add_date(value) -> None:
        if parsed := _fact_date(value):
            dates.add(parsed)
            month_days.add((parsed.month, parsed.day))

    def add_amount(value, currencies: frozenset[str] | None) -> None:
        parsed = _decimal(str(value)) if value not in (None, "") else None
        if parsed is not None:
            amounts.append((parsed, currencies))

    add_date(order.get("placed_at"))
    add_amount(order.get("total"), currency)
    for item in order.get("items") or []:
        if item.get("sku"):
            identifiers.add(_identifier(str(item["sku"])))
    for shipment in order.get("shipments") or []:
        if shipment.get("tracking_number"):
            identifiers.add(_identifier(str(shipment["tracking_number"])))
        if url := (shipment.get("tracking_url") or "").strip():
            tracking_urls.add(url.rstrip("/").lower())
            if host := _host_of(url):
                tracking_hosts |= {host, host.removeprefix("www.")}
        add_date(shipment.get("shipped_at"))
        add_date(shipment.get("delivered_at"))
    for refund in order.get("refunds") or []:
        add_amount(refund.get("amount"), currency)
        add_date(refund.get("date"))
    identifiers.discard("")

    allows: dict[str, frozenset[str]] = {}
    for policy in policies:
        if policy.get("id"):
            allows[str(policy["id"])] = frozenset(str(k) for k in policy.get("allows") or ())
        # Numbers and dates inside policy texts ("30 days", "orders over £50") count as facts.
        text = _fold(f"{policy.get('title') or ''}\n{policy.get('text') or ''}").folded
        for _start, _end, candidates in _dates_in(text):
            for year, month, day in candidates:
                month_days.add((month, day))
                if year:
                    dates.add(date(year, month, day))
        for m in _AMOUNT.finditer(text):
            add_amount(m["n1"] or m["n2"] or m["n3"], _currencies(m["pre"] or m["post"]))
        for m in _ANY_NUMBER.finditer(text):
            if (number := _decimal(m.group())) is not None:
                numbers.add(number)

    brand = context.get("brand") or {}
    avoid = tuple(str(p) for p in (brand.get("avoid_phrases") or ()) if str(p).strip())
    return Facts(
        order_names=frozenset(names),
        identifiers=frozenset(identifiers),
        amounts=tuple(amounts),
        numbers=frozenset(numbers),
        dates=frozenset(dates),
        month_days=frozenset(month_days),
        tracking_urls=frozenset(tracking_urls),
        tracking_hosts=frozenset(tracking_hosts),
        policies=allows,
        avoid_phrases=avoid,
    )


# ---------------------------------------------------------------------------------------------
# The check


def guardrails_check(
    *,
    reply: str,
    context: dict,
    cited_policy_ids: Sequence[str],
    needs_human_reason: str = "",
    confidence: float = 1.0,
    link_allowlist: Sequence[str] = (),
) -> list[Flag]:
    """Flags for the agent, in the order: model signals, policies, then the reply's text in reading order."""
    facts = facts_index(context)
    text = _fold(reply or "")
    flags: list[Flag] = []

    if not text.folded.strip():
        flags.append(Flag("empty_reply", "The reply is empty: write this one yourself."))
    if (needs_human_reason or "").strip():
        flags.append(
            Flag("needs_human", f"The model asks for a person: {needs_human_reason.strip()}")
        )
    confidence = float(confidence) if confidence is not None else 0.0
    if not confidence >= LOW_CONFIDENCE:  # NaN is low too
        flags.append(
            Flag(
                "low_confidence",
                f"The model is unsure of this draft (confidence {confidence:.2f}, below {LOW_CONFIDENCE}).",
            )
        )

    cited = [str(pid) for pid in cited_policy_ids or ()]
    for pid in dict.fromkeys(cited):
        if pid not in facts.policies:
            needle = _lower(_fold(pid).folded)
            at = _lower(text.folded).find(needle) if needle else -1
            excerpt = text.excerpt(at, at + len(needle)) if at >= 0 else ""
            flags.append(
                Flag(
                    "unknown_policy",
                    f'The reply cites policy "{pid}", which is not in the brand guide.',
                    excerpt,
                )
            )
    allowed = frozenset().union(*(facts.policies[pid] for pid in cited if pid in facts.policies))

    located: list[tuple[int, Flag]] = []
    if text.folded.strip():
        masked = _link_flags(text, facts, link_allowlist, located)
        _fact_flags(text, masked, facts, located)
        _commitment_flags(text, allowed, located)
        _avoided_phrase_flags(text, facts, located)

    seen: set[tuple[str, str]] = set()
    for _position, flag in sorted(located, key=lambda pair: pair[0]):
        key = (flag.code, flag.excerpt.lower())
        if key not in seen:
            seen.add(key)
            flags.append(flag)
    return flags


def _found(located: list, at: int, code: str, detail: str, excerpt: str) -> None:
    located.append((at, Flag(code, detail, excerpt)))


def _allowlisted(host: str, allowlist: Iterable[str]) -> bool:
    bare = host.removeprefix("www.")
    for entry in allowlist:
        allowed = _bare_host(entry)
        if allowed and (bare == allowed or bare.endswith("." + allowed)):
            return True
    return False


def _link_flags(text: _Text, facts: Facts, allowlist: Sequence[str], located: list) -> str:
    """Flag links to hosts off the allow-list; return the text with links masked for the fact scan.

    Links to a carrier's tracking site stay visible to the fact scan unless they are exactly the
    order's tracking URL: an invented tracking number hides well inside a real carrier's link.
    """
    folded = text.folded
    spans: list[tuple[int, int]] = []
    links: list[tuple[int, int, str]] = []
    claimed = _Claimed(len(folded))
    for pattern in (_URL, _BARE_DOMAIN):
        for m in pattern.finditer(folded):
            start, end = m.span()
            while end > start and folded[end - 1] in _TRAILING:
                end -= 1
            if claimed.overlaps(start, end):
                continue
            claimed.claim(start, end)
            links.append((start, end, folded[start:end]))
    for start, end, url in links:
        host = _host_of(re.sub(r"^hxxp", "http", url, flags=re.IGNORECASE))
        exact_tracking = url.rstrip("/").lower() in facts.tracking_urls
        if (
            not exact_tracking
            and host not in facts.tracking_hosts
            and not _allowlisted(host, allowlist)
        ):
            excerpt = text.excerpt(start, end)
            _found(
                located,
                start,
                "link_not_allowed",
                f"The reply links to {host or 'an unreadable address'}, which is neither on the "
                "allow-list nor the carrier's tracking page for this order.",
                excerpt,
            )
        if exact_tracking or host not in facts.tracking_hosts:
            spans.append((start, end))
    for m in _EMAIL.finditer(folded):
        if claimed.overlaps(*m.span()):
            continue  # "https://example.com@evil.io" is a link, already judged by its real host
        host = m[1].lower()
        if not _allowlisted(host, allowlist):
            _found(
                located,
                m.start(),
                "link_not_allowed",
                f"The reply gives an email address at {host}, which is not on the allow-list.",
                text.excerpt(*m.span()),
            )
        spans.append(m.span())
    return _masked(folded, spans)


def _fact_flags(text: _Text, masked: str, facts: Facts, located: list) -> None:
    """Every explicit date, order number, tracking number and amount must be a fact of the context."""
    spans: list[tuple[int, int]] = []

    for start, end, candidates in _dates_in(masked):
        spans.append((start, end))
        known = any(
            (date(y, m, d) in facts.dates) if y else ((m, d) in facts.month_days)
            for y, m, d in candidates
        )
        if not known:
            excerpt = text.excerpt(start, end)
            _found(
                located,
                start,
                "unknown_date",
                f'The reply states a date ("{excerpt}") that is not one of this order\'s dates '
                "or a date in a policy.",
                excerpt,
            )
    masked = _masked(masked, spans)

    spans = []
    order_name = next(iter(sorted(facts.order_names, key=len, reverse=True)), "")
    for pattern in (_ORDER_WORD, _ORDER_HASH):
        for m in pattern.finditer(masked):
            spans.append(m.span())
            if m[1].lower() in facts.order_names:
                continue
            excerpt = text.excerpt(*m.span())
            linked = (
                f"the linked order is {order_name}"
                if order_name
                else "no order is linked to this ticket"
            )
            _found(
                located,
                m.start(),
                "unknown_order_number",
                f'The reply mentions order "{excerpt}", but {linked}.',
                excerpt,
            )
        masked = _masked(masked, spans)

    spans = []
    for pattern in (_DIGIT_GROUPS, _TRACKING_TOKEN):
        for m in pattern.finditer(masked):
            token = _identifier(m.group())
            if sum(c.isdigit() for c in token) < 6:
                continue
            spans.append(m.span())
            if token in facts.identifiers:
                continue
            excerpt = text.excerpt(*m.span())
            _found(
                located,
                m.start(),
                "unknown_tracking_number",
                f'The reply gives a tracking or reference number ("{excerpt}") that is not in '
                "this order's shipments.",
                excerpt,
            )
        masked = _masked(masked, spans)

    for m in _AMOUNT.finditer(masked):
        number = m["n1"] or m["n2"] or m["n3"]
        value = _decimal(number)
        currencies = _currencies(m["pre"] or m["post"])
        known = value is not None and (
            any(
                value == fact and (currencies is None or fact_cur is None or currencies & fact_cur)
                for fact, fact_cur in facts.amounts
            )
            # "30 days" in a policy makes "30.00" a fact, not "$30"
            or (currencies is None and value in facts.numbers)
        )
        if known:
            continue
        excerpt = text.excerpt(*m.span())
        _found(
            located,
            m.start(),
            "unknown_amount",
            f'The reply states an amount ("{excerpt}") that is not the order total, a refund on '
            "the order or a figure in a policy.",
            excerpt,
        )


def _outermost(matches: list[tuple[int, int, _Commitment]]) -> list[tuple[int, int, _Commitment]]:
    """Drop a match inside a longer one ("credit" in "store credit"), in one sweep."""
    kept = []
    furthest = -1  # the furthest end of the matches that start strictly before this one
    ordered = sorted(matches, key=lambda m: (m[0], -m[1]))
    for _start, group in groupby(ordered, key=lambda m: m[0]):
        group = list(group)
        longest = group[0][1]
        for match in group:
            if furthest < match[1] and not (match[1] < longest):
                kept.append(match)
        furthest = max(furthest, longest)
    return kept


def _commitment_flags(text: _Text, allowed: frozenset[str], located: list) -> None:
    folded = text.folded
    matches: list[tuple[int, int, _Commitment]] = []
    for commitment in _COMMITMENTS:
        for m in commitment.pattern.finditer(folded):
            matches.append((m.start(), m.end(), commitment))
    for m in _SPACED_LETTERS.finditer(folded):
        squashed = re.sub(r"[^\w]|_", "", m.group())
        for commitment in _COMMITMENTS:
            if commitment.pattern.search(squashed):
                matches.append((m.start(), m.end(), commitment))
                break
    sentences = _Sentences(folded)
    for start, end, commitment in _outermost(matches):
        is_free = commitment.kinds == (_GENERIC_FREE,)
        kinds = sentences.free_kinds(start) if is_free else commitment.kinds
        if allowed.intersection(kinds):
            continue
        excerpt = text.excerpt(start, end)
        needed = " or ".join(_KIND_PLURALS.get(k, k) for k in kinds)
        _found(
            located,
            start,
            "unapproved_commitment",
            f'The reply promises {commitment.label} ("{excerpt}") but no cited policy allows {needed}.',
            excerpt,
        )


def _avoided_phrase_flags(text: _Text, facts: Facts, located: list) -> None:
    lowered = _lower(text.folded)
    for phrase in facts.avoid_phrases:
        needle = _lower(_fold(phrase).folded).strip()
        at = lowered.find(needle)
        if needle and at >= 0:
            excerpt = text.excerpt(at, at + len(needle))
            _found(
                located,
                at,
                "avoided_phrase",
                f'The reply uses "{phrase}", which the brand guide says to avoid.',
                excerpt,
            )
