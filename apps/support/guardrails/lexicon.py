"""Per-language lexicons (lexicons/<code>.json, reviewed like code) and language detection.

A lexicon holds regular expressions over the folded, lower-case reply (accents stripped, so "zurück"
is written "zuruck"): the promised actions by kind, relative days, order words, greetings,
honorifics, street forms, conditional words, policy conditions and phrases that recite our internals.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from langdetect import DetectorFactory, LangDetectException, detect_langs

from integrations.llm.drafter import PROMISE_KINDS

LEXICON_DIR = Path(__file__).with_name("lexicons")
DetectorFactory.seed = 0  # langdetect samples at random: the same text must get the same answer

# The promise kinds a lexicon names are the ones the second opinion lists (one vocabulary).
ACTION_KINDS = PROMISE_KINDS


@dataclass(frozen=True)
class Lexicon:
    language: str
    name: str
    actions: dict[str, tuple[re.Pattern, ...]]
    relative_days: tuple[re.Pattern, ...]
    order_words: tuple[re.Pattern, ...]
    greetings: tuple[re.Pattern, ...]
    honorifics: tuple[re.Pattern, ...]
    street: tuple[re.Pattern, ...]
    conditional: tuple[re.Pattern, ...]
    conditions: dict[str, tuple[re.Pattern, ...]]
    internal: tuple[re.Pattern, ...]
    common_words: frozenset[str]


def _compiled(patterns, flags=re.IGNORECASE) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(p, flags) for p in patterns)


@cache
def lexicons() -> dict[str, Lexicon]:
    found = {}
    for path in sorted(LEXICON_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        unknown = set(data["actions"]) - set(ACTION_KINDS)
        if unknown:
            raise ValueError(f"{path.name}: unknown action kinds {sorted(unknown)}")
        found[data["language"]] = Lexicon(
            language=data["language"],
            name=data["name"],
            actions={kind: _compiled(p) for kind, p in data["actions"].items()},
            relative_days=_compiled(data["relative_days"]),
            order_words=_compiled(data["order_words"]),
            greetings=_compiled(data["greetings"]),
            # Names and streets are read with their capitals.
            honorifics=_compiled(data["honorifics"]),
            street=_compiled(data["street"], 0),
            conditional=_compiled(data["conditional"]),
            conditions={k: _compiled(p) for k, p in data["conditions"].items()},
            internal=_compiled(data["internal"]),
            common_words=frozenset(data["common_words"]),
        )
    return found


MIN_LETTERS = 30  # langdetect guesses on less; a short line ("Thanks, Ana") is not judged alone
MIN_PROBABILITY = 0.85
SECOND_GUESS = 0.1
COMMON_SHARE = 0.4


def languages_detect(text: str) -> list[tuple[str, int]]:
    """The language of each paragraph long enough to judge: [(code, offset)], in reading order."""
    found = []
    offset = 0
    for paragraph in re.split(r"(\n\s*\n|\n)", text):
        if sum(c.isalpha() for c in paragraph) >= MIN_LETTERS:
            try:
                guesses = detect_langs(paragraph)
            except LangDetectException:
                guesses = []
            if guesses and guesses[0].prob >= MIN_PROBABILITY:
                found.append((_covered_guess(guesses, paragraph), offset))
        offset += len(paragraph)
    if not found and sum(c.isalpha() for c in text) >= 12:
        try:
            guesses = detect_langs(text)
        except LangDetectException:
            guesses = []
        if guesses and guesses[0].prob >= MIN_PROBABILITY:
            found.append((_covered_guess(guesses, text), 0))
    return found


def _covered_guess(guesses, text: str) -> str:
    """The top guess, unless a language with a lexicon is a real contender: a close second guess
    (mixed sentences), or most of a short text's words are its common words ("You'll get a full
    refund." is not Welsh)."""
    covered = [g for g in guesses if g.lang in lexicons() and g.prob >= SECOND_GUESS]
    if covered:
        return covered[0].lang
    words = re.findall(r"[^\W\d_]+", text.lower())
    for lexicon in lexicons().values():
        known = sum(
            1
            for word in words
            if word in lexicon.common_words or word.split("'")[0] in lexicon.common_words
        )
        if words and known / len(words) >= COMMON_SHARE:
            return lexicon.language
    return guesses[0].lang.split("-")[0]
