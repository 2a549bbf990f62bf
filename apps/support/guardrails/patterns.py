"""The shapes of facts in text: dates, amounts with their currency, order and tracking numbers, links.

Regular expressions over the folded reply (text.py); dateparser adds the dates these miss (abbreviated
month names in other languages), text2num the amounts written in words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit


class Claimed:
    """Which characters earlier matches took: overlap checks in linear time, whatever the reply."""

    def __init__(self, length: int) -> None:
        self.taken = bytearray(length)

    def overlaps(self, start: int, end: int) -> bool:
        return any(self.taken[start:end])

    def claim(self, start: int, end: int) -> None:
        self.taken[start:end] = b"\x01" * (end - start)


def masked(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


# ---------------------------------------------------------------------------------------------
# Dates

MONTHS: dict[str, int] = {}
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
        MONTHS[_name] = _number
# "marco" (pt, unaccented) is also a common name and word: only as a day-first month.
_MONTH_FIRST_EXCLUDED = frozenset({"marco", "mai", "mar"})
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))

_ISO_DATE = re.compile(r"(?<![\d.])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d])")
_NUMERIC_DATE = re.compile(r"(?<![\d.])(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?![\d])")
# "28/11" without a year (a slash only: "1.5" is a number, "2-3" a range)
_SHORT_DATE = re.compile(r"(?<![\d/.])(\d{1,2})/(\d{1,2})(?![\d/])")
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


def dates_in(text: str) -> list[tuple[int, int, set[tuple[int | None, int, int]]]]:
    """Every explicit date: (start, end, candidate (year, month, day) readings)."""
    found: list[tuple[int, int, set]] = []
    claimed = Claimed(len(text))

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
    for m in _SHORT_DATE.finditer(text):
        a, b = int(m[1]), int(m[2])
        if readings := [r for r in (_ymd(None, b, a), _ymd(None, a, b)) if r]:
            add(m, readings)
    for m in _JA_DATE.finditer(text):
        add(m, [_ymd(_year(m[1]), int(m[2]), int(m[3]))])
    for m in _DAY_MONTH.finditer(text):
        add(m, [_ymd(_year(m[3]), MONTHS[m[2].lower()], int(m[1]))])
    for m in _MONTH_DAY.finditer(text):
        if m[1].lower() in _MONTH_FIRST_EXCLUDED:
            continue
        add(m, [_ymd(_year(m[3]), MONTHS[m[1].lower()], int(m[2]))])
    return found


def fact_date(value) -> date | None:
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
    "livres": frozenset({"GBP"}),
    "pfund": frozenset({"GBP"}),
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
_WORD = (
    r"\b(?:dollars?|euros?|pounds?|sterling|libras|livres|pfund|yen|zloty|zlotych|zlote|zl|kr)\b"
)
AMOUNT = re.compile(
    rf"(?P<pre>{_SYMBOL}|{_CODE})\s?-?(?P<n1>{_NUM})(?![\d])"
    rf"|(?<![\d.,])(?P<n2>{_NUM})\s?(?P<post>[$£€¥₹₩円]|{_CODE}|{_WORD})"
    rf"|(?<![\d.,])(?P<n3>\d+[.,]\d{{2}})(?![.,]?\d)",
    re.IGNORECASE,
)
ANY_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def decimal_of(text: str) -> Decimal | None:
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


def currencies_of(mark: str | None) -> frozenset[str] | None:
    if not mark:
        return None
    mark = mark.strip()
    if mark.upper() in _CODES:
        return frozenset({mark.upper()})
    return _CURRENCY_MARKS.get(mark.lower())


# ---------------------------------------------------------------------------------------------
# Order numbers, tracking numbers, links

ORDER_HASH = re.compile(r"(?<![&\w])#\s?(\d+)\b")
ORDER_WORD = re.compile(
    r"(?:\b(?:order|orders|orden|commande|pedido|bestellung|bestellnummer|ordine|encomenda|bestelling"
    r"|zamowienie|zamowienia|zamowieniu)|注文)"
    r"\s*(?:(?:number|numero|nummer|numer|num|no|nr|n°|n|番号)\.?\s*)?[:#]?\s*(\d{3,})\b",
    re.IGNORECASE,
)
TRACKING_TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{10,}(?![A-Za-z0-9])")
DIGIT_GROUPS = re.compile(r"(?<![\d])\d{4}(?:[ -]\d{4}){2,}(?:[ -]\d{1,4})?(?![\d])")

# With a scheme, "www.", or scheme-less "//host/path" (a browser opens it on the page's scheme).
URL = re.compile(
    r"(?:\b(?:https?|ftp)://|(?<![:\w/])//(?=[a-z0-9-]+\.[a-z0-9.-]+)|\bwww\.)[^\s<>\"'`\]\[(){}|\\^]+",
    re.IGNORECASE,
)
_TLDS = (
    "com|net|org|info|biz|io|shop|store|online|site|xyz|top|app|link|ly|ru|cn|uk|eu|nl|pl|pt|jp|"
    "fr|de|es|ca|au|click|support|help|live|cc|tk"
)
BARE_DOMAIN = re.compile(
    rf"(?<![@\w.\-/])(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:{_TLDS})\b(?:/[^\s<>\"'`\]\[(){{}}]*)?",
    re.IGNORECASE,
)
EMAIL = re.compile(
    r"(?<![\w.+\-])[\w.+\-]+@((?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+[a-z]{2,})\b", re.IGNORECASE
)
TRAILING = ".,;:!?)]}'\"»>*_"


def host_of(url: str) -> str:
    if url.startswith("//"):
        url = "http:" + url
    elif "://" not in url:
        url = "http://" + url
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".").lower()


def bare_host(entry: str) -> str:
    host = host_of(entry.strip()) if entry.strip() else ""
    return host.removeprefix("www.")


def identifier(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())
