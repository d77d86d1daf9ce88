"""Words a sentence brings in as somebody's, whoever does its verb: "a statement by Sergei Lavrov that “…”", "as
Defense Secretary Lloyd Austin put it, that “…”", and the person named right after "said" when a parse took a
clause's word for the subject ("“…,” that is, forces fighting on the ground, said Sam Cranny-Evans")."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pipeline.enrichment.quote_plain import INVERTED

if TYPE_CHECKING:
    from pipeline.enrichment.quote_reader import Reader


_WORDS_BY = re.compile(
    r"\b(?:statement|remarks|comments|words|message|speech|address|interview|post|tweet)s?\s+(?:by|from|of)\s+",
    re.IGNORECASE,
)


def words_by(reader: Reader, begin: int, end: int) -> str | None:
    """The person whose words the sentence brings in before the quote ("a statement by Russian Foreign Minister
    Sergei Lavrov that ... “...”", "in remarks from Kaja Kallas"): the person named within a title's length after."""
    for m in _WORDS_BY.finditer(reader.text, begin, end):
        person = next(
            (e for e in reader.outside if e.label == "PERSON" and m.end() <= e.start < min(end, m.end() + 60)), None
        )
        if person is not None:
            return person.name
    return None


_PUT_IT = re.compile(r"\s+(?:\w+\s+)?(?:put|puts|phrased|framed)\s+it\b", re.IGNORECASE)


def as_put(reader: Reader, begin: int, end: int) -> str | None:
    """The person whose phrase the sentence borrows before the quote ("as Defense Secretary Lloyd Austin put it,
    that Ukraine “can win”", "as one official put it": nobody named)."""
    for e in reader.outside:
        if e.label == "PERSON" and begin <= e.start < end and _PUT_IT.match(reader.text, e.end, end):
            return e.name
    return None


def said_right_before(reader: Reader, begin: int, end: int) -> str | None:
    """The person a speech verb right before names after the quote in [begin, end) ("..., said Sam Cranny-Evans")."""
    text = reader.text
    for e in reader.outside:
        if e.label == "PERSON" and begin <= e.start < end:
            word = re.search(r"(\w+)\s+$", text[max(begin, e.start - 30) : e.start])
            if word is not None and word.group(1).lower() in INVERTED:
                return e.name
    return None
