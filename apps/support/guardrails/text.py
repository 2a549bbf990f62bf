"""The reply as the check reads it: what a customer would see, with every disguise taken off.

NFKC, every format character (zero-width, bidi, Unicode tags) removed, look-alike letters mapped to
Latin through Unicode's confusables table (confusable-homoglyphs), accents folded, defanged links
restored and base64 runs decoded. Every character of the folded text remembers where it came from,
so a flag quotes the reply as the agent sees it.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from confusable_homoglyphs import confusables

_SPECIAL = {
    "ß": "ss",
    "ẞ": "SS",
    "ł": "l",
    "Ł": "L",
    "ø": "o",
    "Ø": "O",
    "æ": "ae",
    "œ": "oe",
    "đ": "d",
    "ı": "i",
}
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")


def is_hidden(ch: str) -> bool:
    """Invisible to the reader but not to a model: format characters (Cf: zero-width, bidi, tags),
    variation selectors, the soft hyphen and combining grapheme joiners."""
    return (
        unicodedata.category(ch) == "Cf"
        or "\ufe00" <= ch <= "\ufe0f"
        or "\U000e0100" <= ch <= "\U000e01ef"
        or ch in "\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0"
    )


@lru_cache(maxsize=8192)
def _latin_lookalike(ch: str) -> str | None:
    """The Latin letter a non-Latin letter imitates (Cyrillic а, Greek ο, Armenian օ, math letters…)."""
    if ch.isascii() or not ch.isalpha():
        return None
    found = confusables.is_confusable(ch, preferred_aliases=["latin"], greedy=True)
    for entry in found or ():
        for glyph in entry.get("homoglyphs", ()):
            candidate = glyph.get("c", "")
            if len(candidate) == 1 and candidate.isascii() and candidate.isalpha():
                return candidate
    return None


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    if ch in _DASHES:
        return "-"
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
        elif unicodedata.combining(c) and ord(c) < 0x370:
            continue  # a stray combining accent
        else:
            out.append(c)
    return "".join(out)


@dataclass(frozen=True)
class Text:
    """Folded text and, for each of its characters, its index in the original."""

    original: str
    folded: str
    origin: tuple[int, ...]

    def excerpt(self, start: int, end: int) -> str:
        if start >= end or start >= len(self.origin):
            return ""
        end = min(end, len(self.origin))
        return self.original[self.origin[start] : self.origin[end - 1] + 1]

    def sub(self, pattern: re.Pattern, replace) -> Text:
        """Replace matches, the new characters keeping the origin of what they replace."""
        chars: list[str] = []
        origin: list[int] = []
        position = 0
        for m in pattern.finditer(self.folded):
            chars += self.folded[position : m.start()]
            origin += self.origin[position : m.start()]
            new = replace(m) if callable(replace) else replace
            anchor = self.origin[m.start()] if m.start() < len(self.origin) else 0
            chars += new
            origin += [anchor] * len(new)
            position = m.end()
        chars += self.folded[position:]
        origin += self.origin[position:]
        return Text(self.original, "".join(chars), tuple(origin))


@dataclass(frozen=True)
class Disguise:
    kind: str  # "hidden" | "lookalike" | "encoded"
    excerpt: str
    detail: str


_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Defanged links: host[.]com, host(.)com, host[dot]com, hxxp://, https[:]//
_DEFANG_DOT = re.compile(r"\s?(?:\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\})\s?", re.IGNORECASE)
_DEFANG_SCHEME = re.compile(r"\b(hxxp|hxtp|h\*\*p|meow)(s?)(\[:\]|:)//", re.IGNORECASE)
_DEFANG_COLON = re.compile(r"(?<=https)\[:\]|(?<=http)\[:\]", re.IGNORECASE)
# Letters spaced out to slip past a word match: "r e f u n d", "f.r.e.e".
_SPACED = re.compile(r"(?<![^\W\d_])(?:[^\W\d_][ .\-_*·]{1,2}){3,}[^\W\d_](?![^\W\d_])")
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=])")


def _decoded(run: str) -> str | None:
    """A base64 run that decodes to readable text (not a tracking number or a hash)."""
    if not (any(c.islower() for c in run) and any(c.isupper() for c in run)):
        return None
    padded = run + "=" * (-len(run) % 4)
    try:
        text = base64.b64decode(padded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    printable = sum(c.isprintable() or c.isspace() for c in text)
    if len(text) < 6 or printable < len(text) * 0.95 or not re.search(r"[^\W\d_]{3}", text):
        return None
    return text


def fold(reply: str) -> tuple[Text, list[Disguise], list[str]]:
    """(folded text, disguises found, decoded hidden segments to check as well)."""
    disguises: list[Disguise] = []
    hidden = [i for i, ch in enumerate(reply) if is_hidden(ch)]
    if hidden:
        tags = "".join(
            chr(ord(reply[i]) - 0xE0000) for i in hidden if 0xE0020 <= ord(reply[i]) <= 0xE007E
        )
        detail = f"{len(hidden)} invisible character(s)"
        if tags:
            detail += f' spelling "{tags[:80]}" in Unicode tag letters'
        around = reply[max(0, hidden[0] - 12) : hidden[0] + 12]
        disguises.append(Disguise("hidden", "".join(c for c in around if not is_hidden(c)), detail))
    extra = []
    tag_text = "".join(chr(ord(ch) - 0xE0000) for ch in reply if 0xE0020 <= ord(ch) <= 0xE007E)
    if tag_text.strip():
        extra.append(tag_text)

    # Look-alike letters: mapped inside words that mix scripts, or in a mostly Latin text.
    latin_letters = sum(1 for c in reply if c.isascii() and c.isalpha())
    letters = sum(1 for c in reply if c.isalpha()) or 1
    mostly_latin = latin_letters / letters > 0.6
    mapped: dict[int, str] = {}
    for word in _WORD.finditer(reply):
        token = word.group()
        if all(c.isascii() for c in token):
            continue
        swaps = {i: _latin_lookalike(c) for i, c in enumerate(token) if not c.isascii()}
        swaps = {i: c for i, c in swaps.items() if c}
        mixed = any(c.isascii() for c in token)
        if swaps and (mixed or (mostly_latin and len(swaps) == len(token))):
            for i, c in swaps.items():
                mapped[word.start() + i] = c
            disguises.append(
                Disguise(
                    "lookalike",
                    token,
                    f'"{token}" is written with look-alike letters from another script',
                )
            )

    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(reply):
        if is_hidden(ch):
            continue
        for c in _fold_char(mapped.get(i, ch)):
            chars.append(c)
            origin.append(i)
    text = Text(reply, "".join(chars), tuple(origin))
    text = text.sub(_DEFANG_SCHEME, lambda m: f"http{m[2]}://")
    text = text.sub(_DEFANG_COLON, ":")
    text = text.sub(_DEFANG_DOT, ".")
    text = text.sub(_SPACED, lambda m: re.sub(r"[^\w]|_", "", m.group()))

    for m in _BASE64.finditer(text.folded):
        decoded = _decoded(m.group())
        if decoded is not None:
            disguises.append(
                Disguise(
                    "encoded",
                    text.excerpt(*m.span()),
                    f'base64 text that reads "{decoded[:80]}"',
                )
            )
            extra.append(decoded)
    return text, disguises, extra


def lower(text: str) -> str:
    """Lower-case without changing the length, so indexes still map to the original."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
