"""Figures: numeric claims with what they count, normalised ("more than 100 artillery systems" -> 100, artillery system)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.records import Figure

_ONES = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
         "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
         "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000, "bn": 1_000_000_000,
           "mn": 1_000_000, "m": 1_000_000, "k": 1_000}
_WORD_NUMBER = (r"(?:(?:" + "|".join(_TENS) + r")(?:[-\s](?:" + "|".join(k for k, v in _ONES.items() if v < 10) + r"))?"
                r"|" + "|".join(sorted(_ONES, key=len, reverse=True)) + r"|a|an)")
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
# A number is a word of its own: not part of "Tu-95MS", "F-16s", "28-point" or "WW3".
_NUMBER = (rf"(?<![\w\-.,/])(?P<currency>[$€£])?(?P<number>{_DIGITS}|{_WORD_NUMBER})"
           r"(?:\s+(?P<scale>hundred|thousand|million|billion|bn|mn)|(?P<suffix>bn|mn|m|k)\b)?(?![\w\-/]|\.\d|,\d)")
_YEAR = re.compile(r"(?:19|20)\d\d")
_CURRENCIES = {"$": "USD", "€": "EUR", "£": "GBP"}
# Money needs no counted noun: "$1.5 billion".
_MONEY = re.compile(rf"(?<![\w-])(?P<currency>[$€£])(?P<number>{_DIGITS})(?:\s*(?P<scale>thousand|million|billion|bn|mn|m|k)\b)?")


@dataclass(frozen=True)
class FigureRules:
    """Counted nouns, qualifiers and stop words of enrich_figures.toml, compiled."""

    pattern: re.Pattern[str]
    units: Mapping[str, str]  # lower-cased surface of the counted noun -> unit
    qualifiers: re.Pattern[str] | None = None  # a qualifier just before a money amount

    @classmethod
    def from_data(cls, data: Mapping) -> FigureRules:
        """Compile the claim pattern: qualifier? number modifiers{0,n} counted-noun."""
        units = {surface.lower(): unit for unit, surfaces in data["units"].items() for surface in surfaces}
        nouns = "|".join(_words(s) for s in sorted(units, key=len, reverse=True))
        qualifiers = "|".join(_words(q) for q in sorted(data.get("qualifiers", ()), key=len, reverse=True))
        stop = "|".join(map(re.escape, data.get("stop_words", ())))
        modifier = rf"(?!(?:{stop}|{nouns})(?![\w-]))[A-Za-z][\w’'-]*"
        modifiers = rf"(?:{modifier}(?:\s+(?:and|or)\s+{modifier})?\s+){{0,{int(data.get('max_modifiers', 3))}}}"
        pattern = (rf"(?<![\w-])(?:(?P<qualifier>{qualifiers})\s+)?{_NUMBER}\s*"
                   rf"(?P<modifiers>{modifiers})(?P<noun>{nouns})(?![\w-])")
        before = re.compile(rf"(?:{qualifiers})\s+$", re.IGNORECASE) if qualifiers else None
        return cls(re.compile(pattern, re.IGNORECASE), units, before)

    def figures_of(self, text: str) -> list[Figure]:
        """Every numeric claim with a counted noun, once per (value, unit, text)."""
        out: dict[tuple, Figure] = {}
        for match in self.pattern.finditer(text):
            value = parse_number(match.group("number"), match.group("scale") or match.group("suffix"))
            if value is None or (_YEAR.fullmatch(match.group("number")) and not match.group("currency")):
                continue
            unit = self.units.get(" ".join(match.group("noun").lower().split()))
            if match.group("currency"):
                unit = _CURRENCIES[match.group("currency")]
            figure_text = " ".join(match.group(0).split())
            out.setdefault((value, unit, figure_text.lower()), Figure(value=value, unit=unit, text=figure_text))
        for match in _MONEY.finditer(text):
            value = parse_number(match.group("number"), match.group("scale"))
            if value is None:
                continue
            start = match.start()
            qualifier = self.qualifiers.search(text, max(0, start - 30), start) if self.qualifiers else None
            figure_text = " ".join(text[qualifier.start() if qualifier else start:match.end()].split())
            unit = _CURRENCIES[match.group("currency")]
            if not any(f.unit == unit and f.value == value for f in out.values()):
                out.setdefault((value, unit, figure_text.lower()), Figure(value=value, unit=unit, text=figure_text))
        return list(out.values())


def parse_number(text: str, scale: str | None = None) -> float | None:
    """ "10,000" -> 10000.0, "forty" -> 40.0, "a hundred" with scale "hundred" -> 100.0; None when it is not a number."""
    word = " ".join(text.lower().replace("-", " ").split())
    if not word:
        return None
    if word[0].isdigit():
        try:
            value = float(word.replace(",", ""))
        except ValueError:
            return None
    elif word in ("a", "an"):
        if scale is None:
            return None
        value = 1.0
    else:
        parts = word.split()
        if parts[0] in _TENS:
            value = float(_TENS[parts[0]] + (_ONES.get(parts[1], 0) if len(parts) > 1 else 0))
        elif parts[0] in _ONES and len(parts) == 1:
            value = float(_ONES[parts[0]])
        else:
            return None
    if scale:
        value *= _SCALES[scale.lower()]
    return value


def _words(phrase: str) -> str:
    """A phrase as a pattern: its words escaped, any whitespace between them."""
    return r"\s+".join(re.escape(w) for w in phrase.split())
