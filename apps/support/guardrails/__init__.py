"""Deterministic checks on a drafted reply, run after the model and after every agent edit.

The core reads the reply as the customer would (text.py: NFKC, invisible characters removed,
look-alike letters mapped, defanged links restored, base64 decoded), detects its language, extracts
every claim — amounts (digits and words), dates and relative days, order and tracking numbers,
links, personal data, promised actions — and verifies each against the order's facts and the brand's
policies, conditions included (check.py). A claim that cannot be verified is a flag; so is a
disguise, and a language the lexicons (lexicons/*.json) or the brand guide do not cover.
"""

from __future__ import annotations

from collections.abc import Sequence

from apps.support.guardrails.check import Claim, Flag, Review, claims_check
from apps.support.guardrails.facts import Facts, facts_index
from apps.support.guardrails.lexicon import languages_detect, lexicons
from apps.support.guardrails.text import fold, is_hidden, lower

__all__ = ["Claim", "Facts", "Flag", "Review", "facts_index", "guardrails_check"]

LOW_CONFIDENCE = 0.5
_DISGUISE_CODES = {
    "hidden": "hidden_text",
    "lookalike": "lookalike_letters",
    "encoded": "encoded_text",
}


def _coverage_flags(reply: str, facts: Facts) -> tuple[list[Flag], tuple[str, ...]]:
    covered = set(lexicons())
    listed = set(facts.languages) or covered
    flags = []
    found = languages_detect(reply)
    for code, offset in found:
        if code in covered and code in listed:
            continue
        why = "no lexicon checks it" if code not in covered else "the brand guide does not list it"
        excerpt = reply[offset : offset + 60].strip()
        flags.append(
            Flag(
                "language_not_covered",
                f"Language not covered — read every sentence: part of this reply is in "
                f'"{code}", and {why}.',
                excerpt,
            )
        )
    return flags, tuple(dict.fromkeys(code for code, _ in found))


def guardrails_check(
    *,
    reply: str,
    context: dict,
    cited_policy_ids: Sequence[str] = (),
    needs_human_reason: str = "",
    confidence: float = 1.0,
    link_allowlist: Sequence[str] = (),
) -> Review:
    """Flags (model signals first, then the reply's in reading order) and every claim found."""
    facts = facts_index(context)
    text, disguises, hidden_segments = fold(reply or "")
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
    cited = [str(p) for p in cited_policy_ids or ()]
    for pid in dict.fromkeys(cited):
        if pid not in facts.policies:
            at = lower(text.folded).find(lower(pid))
            flags.append(
                Flag(
                    "unknown_policy",
                    f'The reply cites policy "{pid}", which is not in the brand guide.',
                    text.excerpt(at, at + len(pid)) if at >= 0 else "",
                )
            )
    for disguise in disguises:
        flags.append(
            Flag(
                _DISGUISE_CODES[disguise.kind],
                f"Text the customer would not read as the check does: {disguise.detail}.",
                disguise.excerpt,
            )
        )
    # Judged on what the customer reads (accents kept: they tell languages apart).
    visible = "".join(c for c in reply or "" if not is_hidden(c))
    coverage, languages = _coverage_flags(visible, facts)
    flags += coverage

    claims: list[Claim] = []
    if text.folded.strip():
        claims = claims_check(
            text=text, facts=facts, link_allowlist=link_allowlist, languages=languages, cited=cited
        )
        # What hid inside tags or base64 is checked as text too.
        for segment in hidden_segments:
            inner, _, _ = fold(segment)
            claims += claims_check(
                text=inner,
                facts=facts,
                link_allowlist=link_allowlist,
                languages=languages,
                cited=cited,
            )
        lowered = lower(text.folded)
        for phrase in facts.avoid_phrases:
            needle = lower(fold(phrase)[0].folded).strip()
            at = lowered.find(needle)
            if needle and at >= 0:
                flags.append(
                    Flag(
                        "avoided_phrase",
                        f'The reply uses "{phrase}", which the brand guide says to avoid.',
                        text.excerpt(at, at + len(needle)),
                    )
                )
    seen: set[tuple[str, str]] = {(f.code, f.excerpt.lower()) for f in flags}
    for claim in claims:
        if claim.flag is not None and (claim.flag.code, claim.flag.excerpt.lower()) not in seen:
            seen.add((claim.flag.code, claim.flag.excerpt.lower()))
            flags.append(claim.flag)
    return Review(flags=flags, claims=claims, languages=languages)
