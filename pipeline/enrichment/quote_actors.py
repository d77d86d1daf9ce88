"""Countries that speak: "the UK said", "China says", "according to the US". The country is the quote's speaker,
by its canonical name, as the golden set's labellers name it (a country used as an actor stays a place in the
entity lists; a capital used as an actor is its government, `capitals.py`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from pipeline.enrichment.canonical import Resolved

# words that may stand between a country and its speech verb ("Russia has repeatedly said", "the UK on Monday said")
_BETWEEN = re.compile(
    r"\s+(?:(?:has|have|had|also|again|later|previously|earlier|repeatedly|now|then|itself|too|on\s+\w+day)\s+){0,3}"
)
_ACCORDING = re.compile(r"\baccording\s+to\s+(?:the\s+)?$", re.IGNORECASE)
_AFTER_PREPOSITION = re.compile(
    r"\b(?:in|from|to|at|of|for|with|into|across|inside|within|throughout|near|over|on|by|via|toward|towards)\s+"
    r"(?:the\s+)?$",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z]+")


def country_speakers(
    text: str,
    entities: Sequence[Resolved],
    is_country: Callable[[str], bool],
    verbs: frozenset[str],
) -> list[Resolved]:
    """`entities` with each country that is the subject of a speech verb right after it ("the UK said", "Germany
    has said", "China says") or the object of "according to" made a speaker: an actor, as an organisation is.
    `is_country` tells a country from a city or a region; `verbs` are the finite speech verbs ("said", "told").
    "US officials said" stays unnamed: officials are not the country."""
    out = []
    for e in entities:
        if e.is_place and is_country(e.name) and _speaks(text, e.start, e.end, verbs):
            e = Resolved(e.name, "ORG", e.surface, e.start, e.end, e.entry, False)
        out.append(e)
    return out


def _speaks(text: str, start: int, end: int, verbs: frozenset[str]) -> bool:
    """The words around a mention make it the one who speaks."""
    if text[end : end + 2] in ("'s", "’s"):
        return False  # "Britain's defence ministry said": the body speaks, named on its own
    if _ACCORDING.search(text[max(0, start - 20) : start]) is not None:
        return True
    if _AFTER_PREPOSITION.search(text[max(0, start - 20) : start]) is not None:
        return False  # "troops in Germany said": a place somebody is in
    gap = _BETWEEN.match(text, end)
    at = gap.end() if gap is not None else end
    word = _WORD.match(text, at)
    return word is not None and word.group(0) in verbs and at > end
