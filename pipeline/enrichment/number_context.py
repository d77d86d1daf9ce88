"""Where a number stands in the text, which decides whether it is a claim (`figures.py`): a year, a number inside a
name, a definite count that refers back ("the two men"), a rank ("the top five"), "one" as a determiner, and the
lower end of a range written before it ("between 10 and 12"), and the phrases of the figures table read around a
number (people before or after it, a word of change before "from")."""

from __future__ import annotations

import re

from pipeline.enrichment.numbers import DIGITS, SCALES, WORD_NUMBER, parse_number
from pipeline.enrichment.phrases import phrase_pattern

# the lower end of a range right before a claim's number: "between 10 and 12", "10 to 12", "20,000-25,000" (read
# after the claim is found: in the claim pattern it would be tried at every word)
LOW_BEFORE = re.compile(
    rf"(?P<between>between\s+)?(?<![\w\-.,/])[$€£]?(?P<low>{DIGITS}|{WORD_NUMBER})"
    r"(?:(?:\s+|-)(?P<low_scale>hundred|thousand|million|billion|trillion|bn|mn|tn)\b|(?P<low_suffix>bn|mn|tn|m|k)\b)?"
    r"(?:\s*[-–—]\s*|\s+(?(between)and|to)\s+)$",  # "and" only after "between": "3 and 12 soldiers" is a list
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?:19|20)\d\d")
# the word before a number shaped like a year that makes it one ("in 2014 elections", "the 2020 Games", "May 1999")
_YEAR_BEFORE = re.compile(
    r"(?:\b(?:in|since|the|of|by|until|till|from|to|between|before|after|during|early|late|mid|and|or|spring|summer|"
    r"autumn|fall|winter|year|jan\w*|feb\w*|mar\w*|apr\w*|may|jun\w*|jul\w*|aug\w*|sep\w*|oct\w*|nov\w*|"
    r"dec\w*)|['’]s|[\d,(-])\s*$",
    re.IGNORECASE,
)
BARE = re.compile(r"\d{3,4}")  # a number NER may take for a year
_PLURAL_AFTER = re.compile(r"\s+[a-z]+(?:s|people|men|women|children|personnel|troops)\b")
RANK = re.compile(r"\b(?:top|bottom)\s+$", re.IGNORECASE)
# "one" counts when what it counts is done something to ("One officer was killed") or it follows other counts
# ("six battalions and one special forces detachment")
_ONE_COUNTS = re.compile(
    r"[^.;:!?]{0,30}?\b(?:was|were|is|has been|had been)\s+(?:killed|wounded|injured|hurt|arrested|detained|captured|"
    r"destroyed|shot down|damaged|hit)\b|[^.;:!?]{0,30}?\b(?:died|dies|perished|survived)\b",
    re.IGNORECASE,
)
_LISTED_AFTER = re.compile(
    r"\b(?:\d[\d,.]*|two|three|four|five|six|seven|eight|nine|ten)\s+[\w\s-]{1,30}\band\s+$", re.IGNORECASE
)
_NAMED_NUMBER = re.compile(
    r"(?<![.!?]\s)(?<!^)\b(?!(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\s)"
    r"[A-Z][\w'’-]*\s+(?:\d+\s*(?:,|and|or|&|/)\s*)?$"
)
_DEFINITE = re.compile(r"\b(?:the|these|those|both|its|their|his|her|our|your|my)\s+$", re.IGNORECASE)


def low_end(ranged: re.Match[str], match: re.Match[str], high: float) -> float | None:
    """The lower end of a claim's range ("between 10 and 12 tanks", "20-25 million people": the lower end takes
    the scale of the upper when it has none), None when it is not below the upper end ("3-2")."""
    scale = ranged.group("low_scale") or ranged.group("low_suffix")
    candidates = [scale] if scale else [match.group("scale") or match.group("suffix"), None]
    for candidate in candidates:
        low = parse_number(ranged.group("low"), candidate)
        if low is not None and low < high:
            return low
    return None


def in_a_name(text: str, start: int) -> bool:
    """The number is part of a name: "Nord Stream 1 and 2", "Minsk 2" (not "On Tuesday 14 people")."""
    return _NAMED_NUMBER.search(text[max(0, start - 40) : start]) is not None


def is_year(text: str, start: int, number: str) -> bool:
    """A number shaped like a year is one, unless it counts ("2032 respondents were interviewed")."""
    return _YEAR.fullmatch(number) is not None and not counts(text, start, number)


def counts(text: str, start: int, number: str) -> bool:
    """A bare number counts what follows it: a plural noun comes next and no word of dates before ("2032
    respondents", "interviewed 1603 respondents"; not "in 2014 elections", "the 2020 Olympics", "May 1999")."""
    return (
        _PLURAL_AFTER.match(text, start + len(number)) is not None
        and _YEAR_BEFORE.search(text, max(0, start - 12), start) is None
    )


def definite(text: str, start: int, number: str) -> bool:
    """ "the two men", "both countries": a small definite count refers back, it claims nothing."""
    words = number.split()
    if len(words) > 1 and words[1].lower() in SCALES:
        return False  # "the 3 million residents": a count of millions is a claim, whatever comes before it
    value = parse_number(words[0]) if words else None
    return value is not None and value <= 10 and _DEFINITE.search(text[max(0, start - 12) : start]) is not None


def one_counts(text: str, start: int, noun_end: int) -> bool:
    """ "one" before its noun claims a count: something is done to what it counts ("One officer was killed", "One man
    died"), or it follows other counts ("six battalions and one special forces detachment")."""
    return bool(_ONE_COUNTS.match(text, noun_end) or _LISTED_AFTER.search(text, max(0, start - 50), start))


def change_before(words) -> re.Pattern[str] | None:
    """A word of change, up to three words, then "from" right before a position ("grew sharply from ")."""
    alternatives = phrase_pattern({w.lower() for w in words})
    return (
        re.compile(rf"\b(?:{alternatives})\s+(?:[\w’'-]+\s+){{0,3}}?from\s+$", re.IGNORECASE) if alternatives else None
    )


def ending_with(phrases) -> re.Pattern[str] | None:
    """A pattern of the phrases (any case) right before a position."""
    alternatives = phrase_pattern({p.lower() for p in phrases})
    return re.compile(rf"(?<![\w-])(?:{alternatives})\s+$", re.IGNORECASE) if alternatives else None


def starting_with(phrases) -> re.Pattern[str] | None:
    """A pattern of the phrases (any case) right after a position."""
    alternatives = phrase_pattern({p.lower() for p in phrases})
    return re.compile(rf"\s+(?:{alternatives})(?![\w-])", re.IGNORECASE) if alternatives else None
