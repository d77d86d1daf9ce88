"""A page's time stamp read by its tokens, however an outlet writes it: `clean.clean_text` drops such lines."""

from __future__ import annotations

import re
from collections.abc import Collection

_MONTHS = frozenset(
    "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july august september"
    " october november december".split()
)
_WEEKDAYS = frozenset(
    "mon tue tues wed thu thur thurs fri sat sun monday tuesday wednesday thursday friday saturday sunday".split()
)
_STAMP_TOKENS = re.compile(r"[^\s,|·•/–—-]+")
_CLOCK = re.compile(r"\d{1,2}[:.]\d{2}(?:[ap]\.?m\.?)?", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_NUMBER = re.compile(r"\d{1,4}(?:st|nd|rd|th)?", re.IGNORECASE)
# a date in numbers: "04.04.2025", and "02/04" or "2025-04-04" (whose signs split tokens: read on the line)
_DOTTED_DATE = re.compile(r"\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})")
_SLASHED_DATE = re.compile(r"(?<![\d/])\d{1,4}[/-]\d{1,2}(?:[/-]\d{2,4})?(?![\d/])")


def is_stamp(line: str, stamp_words: Collection[str], max_words: int) -> bool:
    """A page's time stamp, however an outlet writes it ("Thu Nov 21 2024 - 18:45", "Tuesday 15 July 2025 18:21, UK",
    "Published - October 08, 2024 09:47 pm IST - NEW DELHI", "Last updated: 02/04 - 17:35", "Update : 04.04.2025"):
    short, a month, a weekday or a date in numbers and a year or a clock time,
    and every other word a number, a stamp word ("published", "updated"), a word in capitals (a time zone, a place)
    or, at most two, a capitalised place after the time. A sentence has a verb and small words in lower case."""
    # a stamp is short: most lines fail on their length before any character is read
    if not stamp_words or len(line) > 24 * max_words or not _DIGIT.search(line):
        return False
    tokens = _STAMP_TOKENS.findall(line.rstrip(".:"))
    if not tokens or len(tokens) > max_words:
        return False
    dated = _SLASHED_DATE.search(line) is not None
    clocked = False
    names = 0
    for token in tokens:
        word = token.lower().strip("().:")  # "(Updated:", "08:40PM)"
        if not word:
            continue  # a sign alone: "Update : 04.04.2025"
        if word in _MONTHS or word in _WEEKDAYS:
            dated = True
        elif _DOTTED_DATE.fullmatch(word):
            dated = True
            clocked = clocked or len(word.rpartition(".")[2]) == 4  # its year, as a year counts
        elif _CLOCK.fullmatch(word):
            clocked = True
        elif _NUMBER.fullmatch(word):
            clocked = clocked or len(word) == 4
        elif word in stamp_words or word in {"am", "pm", "a.m", "p.m"} or (token.isupper() and len(token) <= 10):
            continue
        elif token[:1].isupper() and (dated or clocked) and names < 2:
            names += 1  # "…, London"
        else:
            return False
    return dated and clocked
