"""Figures: numeric claims with what they count, normalised ("more than 100 artillery systems" -> 100, artillery system)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from pipeline.enrichment.number_context import (
    BARE,
    LOW_BEFORE,
    RANK,
    change_before,
    counts,
    definite,
    ending_with,
    in_a_name,
    is_year,
    low_end,
    one_counts,
    starting_with,
)
from pipeline.enrichment.numbers import DIGITS, SCALES, WORD_NUMBER, WORD_NUMBER_FIRST, parse_number
from pipeline.enrichment.phrases import phrase_pattern
from pipeline.records import Figure

_DOLLAR = r"(?:US|AU|A|CA|C|NZ|HK|S)\$"
# A number is a word of its own: not part of "Tu-95MS", "F-16s", "28-point" or "WW3".
_NUMBER_BODY = (
    rf"(?P<currency>[$€£])?(?P<number>{DIGITS}|{WORD_NUMBER})"
    r"(?:(?:\s+|-)(?P<scale>hundred|thousand|million|billion|trillion|bn|mn|tn|dozen)\b|(?P<suffix>bn|mn|tn|trn|m|k)\b)?"
    r"(?![\w\-/]|\.\d|,\d)"
)
# a hyphen before the number only after a digit: "20,000-25,000 troops" (a range), not "F-16", "Tu-95"
# "a"/"an" is a number only before a scale ("a million"): "an additional five million euros" counts five million
_NUMBER = (
    r"(?<![\w.,/])(?<![^\d\s]-)(?!an?\b(?![\s-]+(?:hundred|thousand|million|billion|trillion|dozen)\b))" + _NUMBER_BODY
)
# the symbols, and the dollars a prefix names ("A$50m", "US$1.2bn"; `_DOLLAR` above)
_CURRENCIES = {
    **{"$": "USD", "€": "EUR", "£": "GBP", "₴": "UAH", "₽": "RUB"},
    **{"US$": "USD", "A$": "AUD", "AU$": "AUD", "C$": "CAD", "CA$": "CAD", "NZ$": "NZD", "HK$": "HKD", "S$": "SGD"},
}
_BARE_DOLLAR = re.compile(r"(?<![A-Za-z])\$")
_CURRENCY_UNITS = frozenset({"USD", "EUR", "GBP", "UAH", "RUB", "CNY", "JPY", "CHF", "AUD", "CAD"})
# Money needs no counted noun: "$1.5 billion".
_MONEY = re.compile(
    rf"(?<![\w-])(?P<currency>{_DOLLAR}|[$€£])(?P<number>{DIGITS})(?:(?:\s*|-)(?P<scale>thousand|million|billion|trillion|bn|mn|tn|trn|m|k)\b)?"
)

_CURRENCY_SIGNS = "$€£"


def _money_in(text: str) -> Iterable[re.Match[str]]:
    """The amounts of money in `text`: none without a currency sign, and then the text is not scanned for them."""
    return _MONEY.finditer(text) if any(sign in text for sign in _CURRENCY_SIGNS) else ()


@dataclass(frozen=True)
class FigureRules:
    """Counted nouns, qualifiers and stop words of enrich_figures.toml, compiled."""

    pattern: re.Pattern[str]
    units: Mapping[str, str]  # lower-cased surface of the counted noun -> unit
    qualifiers: re.Pattern[str] | None = None  # a qualifier just before a money amount
    stop_words: frozenset[str] = frozenset()
    qualifier_words: tuple[str, ...] = ()  # "more than", "up to": kept in the figure's text, never its noun
    not_counted: frozenset[str] = frozenset()  # nouns of dates, durations and ages: "days", "years", "year-old"
    measures: Mapping[str, str] = field(
        default_factory=dict
    )  # unit words of quantities and money ("km", "tonnes", "dollars") -> unit
    irregular: Mapping[str, str] = field(
        default_factory=dict
    )  # plural -> singular for counted nouns ("people" -> "person")
    max_noun_words: int = 3
    people_before: re.Pattern[str] | None = None  # "killing at least one", "a country of 10 million": people
    people_after: re.Pattern[str] | None = None  # "six others", "25 of them", "Three were pulled out": people
    dollars: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # currency -> names of its country
    change_before: re.Pattern[str] | None = None  # "grew (sharply) from": "from X to Y" is a change, not a range

    @classmethod
    def from_data(cls, data: Mapping) -> FigureRules:
        """Compile the claim pattern: qualifier? number modifiers{0,n} counted-noun."""
        units = {surface.lower(): unit for unit, surfaces in data["units"].items() for surface in surfaces}
        nouns = phrase_pattern(units)
        qualifiers = phrase_pattern({q.lower() for q in data.get("qualifiers", ())})
        stop = phrase_pattern({w.lower() for w in data.get("stop_words", ())})
        # a modifier may stand in quotation marks ("1,500 “peacekeeper” troops")
        modifier = rf"[“\"‘]?(?!(?:{stop}|{nouns})(?![\w-]))[A-Za-z][\w’'-]*[”\"’]?"
        modifiers = rf"(?:{modifier}(?:\s+(?:and|or)\s+{modifier})?\s+){{0,{int(data.get('max_modifiers', 3))}}}"
        # what a claim can start with, tested first: a position starting with no such character fails at once (half
        # the time of the pattern alone, which tries its qualifiers and number words at every word)
        first = re.escape("".join(sorted({q.strip()[0].lower() for q in data.get("qualifiers", ()) if q.strip()})))
        pattern = (
            rf"(?=[\d$€£{WORD_NUMBER_FIRST}{first}])"
            rf"(?<!\w)(?<![^\d\s]-)(?:(?P<qualifier>{qualifiers})\s+)?{_NUMBER}\s*"
            rf"(?P<modifiers>{modifiers})(?P<noun>{nouns})(?![\w-])"
        )
        before = re.compile(rf"(?:{qualifiers})\s+$", re.IGNORECASE) if qualifiers else None
        measures = {
            surface.lower(): unit for unit, surfaces in data.get("measures", {}).items() for surface in surfaces
        }
        return cls(
            re.compile(pattern, re.IGNORECASE),
            units,
            before,
            stop_words=frozenset(w.lower() for w in data.get("stop_words", ())),
            qualifier_words=tuple(sorted((q.lower() for q in data.get("qualifiers", ())), key=len, reverse=True)),
            not_counted=frozenset(w.lower() for w in data.get("not_counted", ())),
            measures=measures,
            irregular=dict(data.get("irregular_plurals", {})),
            max_noun_words=int(data.get("max_noun_words", 3)),
            people_before=ending_with(data.get("people", {}).get("before", ())),
            people_after=starting_with(data.get("people", {}).get("after", ())),
            dollars={code: tuple(names) for code, names in data.get("dollars", {}).items()},
            change_before=change_before(data.get("change_words", ())),
        )

    def in_local_dollars(self, figures: list[Figure], mentions: Mapping[str, int]) -> list[Figure]:
        """Bare "$" amounts in the dollars of the country the article is about: the one of `dollars` its entities
        (`mentions`: name -> count) name at least twice and more often than the United States."""
        counts = {code: sum(mentions.get(n, 0) for n in names) for code, names in self.dollars.items()}
        local = max((c for c in counts if c != "USD"), key=counts.__getitem__, default=None)
        if local is None or counts[local] < 2 or counts[local] <= counts.get("USD", 0):
            return figures
        return [
            f.model_copy(update={"unit": local}) if f.unit == "USD" and _BARE_DOLLAR.search(f.text) is not None else f
            for f in figures
        ]

    def figures_in_doc(
        self,
        doc,
        text: str,
        found: list[Figure],
        taken: Sequence[tuple[int, int]] | None = None,
        spans: Sequence | None = None,
    ) -> list[Figure]:
        """Numeric claims NER marks (CARDINAL, MONEY, PERCENT, QUANTITY) with whatever they count, beyond the
        table's counted nouns: "six battalions", "92 votes", "$161.1 billion", "46%", "1,450km", "between 10 and 12
        tanks", "up to 10,000 soldiers". Dates, years, ages and durations are left out (NER's DATE and TIME, and
        counted nouns of time). `taken`: the spans of the table's claims when the caller has them (`claims`)."""
        if taken is None:
            taken = self.taken(text, self.claims(text))
        seen = {(f.value, f.unit) for f in found}
        out: list[Figure] = []
        ents = [
            e
            for e in (doc.ents if spans is None else spans)
            if e.label_ in ("CARDINAL", "MONEY", "PERCENT", "QUANTITY")
            # NER takes any number shaped like a year for a date: "2032 respondents were interviewed" counts
            or (e.label_ == "DATE" and BARE.fullmatch(e.text) is not None and counts(text, e.start_char, e.text))
        ]
        for ent in ents:
            start, end = ent.start_char, ent.end_char
            if (
                any(a < end and start < b for a, b in taken)
                or "/" in (text[end : end + 1], text[max(0, start - 1) : start], ent.text)  # "24/7", "9/11"
                or in_a_name(text, start)
                or definite(text, start, ent.text)
                or RANK.search(text, max(0, start - 12), start)  # "the top five economies": a rank, no count
            ):
                continue
            figure = _ranged(self._figure(ent.label_, text, start, end, doc, ent.end), text[start:end])
            if figure is None or (figure.value, figure.unit) in seen:
                continue
            seen.add((figure.value, figure.unit))
            out.append(figure)
        return out

    def _figure(self, label: str, text: str, start: int, end: int, doc, after: int) -> Figure | None:
        """One figure from a numeric span: its value, unit and text (qualifier and counted noun included)."""
        span = text[start:end]
        lead = _lead(text, start, self.qualifier_words)
        body = _strip_qualifier(span, self.qualifier_words)
        # "an additional five million euros": an article counts only with a scale ("a million")
        numbers = [n for n in _NUMBER_IN.finditer(body) if n.group("number").lower() not in ("a", "an") or n["scale"]]
        if not numbers:
            return None
        first = numbers[0]
        scale = first.group("scale") or first.group("suffix")
        value = parse_number(first.group("number"), scale)
        if value is None:
            return None
        rest = body[first.end() :].strip().lower()
        currency = first.group("currency") or _currency_word(rest, self.measures)
        if label == "MONEY" or currency:
            unit = (
                _CURRENCIES.get(currency, None) if currency in _CURRENCIES else self.measures.get(currency or "", None)
            )
            if unit is None:
                return None
            return Figure(value=value, unit=unit, text=" ".join(text[lead:end].split()))
        if label == "PERCENT" or rest.startswith(("%", "percent", "per cent")):
            return Figure(value=value, unit="%", text=" ".join(text[lead:end].split()))
        if not scale and is_year(text, text.find(first.group("number"), start), first.group("number")):
            return None  # a year
        measure = self._measure(rest) if rest else None
        if measure is not None:
            return Figure(value=value, unit=measure, text=" ".join(text[lead:end].split()))
        # a count: the noun it counts follows the number ("six battalions", "one special forces detachment")
        noun_end, noun = self._counted(doc, after, value)
        if noun is None and value > 1 and (part := _PARTITIVE.match(text, end)):
            # "46 of our foreign partners", "three of the wounded soldiers": a part of a group counts its members
            plural = part.group("noun").lower()
            if plural not in self.not_counted:
                return Figure(
                    value=value, unit=_singular(plural, self.irregular), text=" ".join(text[lead : part.end()].split())
                )
        if noun is None:
            if not self._people(text, lead, end, value):
                return None
            return Figure(value=value, unit="person", text=" ".join(text[lead:end].split()))
        if (
            value == 1
            and not scale
            and not first.group("number")[:1].isdigit()
            and noun not in self.unit_names
            and not one_counts(text, start, noun_end)
        ):
            return None  # "one cannon fire can lead to war", "one need only look": a determiner, no claim
        return Figure(value=value, unit=noun, text=" ".join(text[lead:noun_end].split()))

    def _changed(self, text: str, at: int) -> bool:
        """The number at `at` follows "from" after a word of change ("rose sharply from"): a value changed, no range."""
        return self.change_before is not None and self.change_before.search(text, max(0, at - 60), at) is not None

    @cached_property
    def unit_names(self) -> frozenset[str]:
        """The units of the table's counted nouns ("drone", "tank")."""
        return frozenset(self.units.values())

    def _people(self, text: str, start: int, end: int, value: float) -> bool:
        """A count with no noun that counts people all the same: after a verb done to people or "a country of"
        ("killing at least one", "a country of 10 million"), or before words that refer to them ("six others",
        "25 of them", "Three were pulled out alive"; not "one of them", which picks one out and claims nothing)."""
        before = self.people_before is not None and self.people_before.search(text, max(0, start - 40), start)
        after = value != 1 and self.people_after is not None and self.people_after.match(text, end)
        return bool(before or after)

    def _measure(self, words: str) -> str | None:
        """The unit of a quantity's words ("km", "square kilometres", "million tonnes" -> "ton")."""
        key = " ".join(w for w in words.replace("-", " ").split() if w not in SCALES)
        return self.measures.get(key) or self.units.get(key) if key else None

    def _counted(self, doc, i: int, value: float) -> tuple[int, str | None]:
        """End offset and unit of the noun a count counts: the words after the number up to a stop word,
        punctuation or a verb-like word (-ed, -ing); the first plural among them, else the last."""
        words: list = []
        while i < len(doc) and len(words) < self.max_noun_words:
            token = doc[i]
            low = token.lower_
            abbreviation = not words and _ABBREVIATION.fullmatch(token.text) is not None  # "8,500 U.S. troops"
            if not abbreviation and (
                not token.is_alpha or low in self.stop_words or token.ent_type_ in ("DATE", "TIME", "CARDINAL")
            ):
                break
            if words and (low.endswith(("ed", "ing")) or token.text[:1].isupper() and not words[-1].text[:1].isupper()):
                break
            if not token.whitespace_ and i + 2 < len(doc) and doc[i + 1].text == "-" and doc[i + 2].is_alpha:
                i += 3  # "three pro-Russian leaders": a compound modifier, the noun comes after it
                continue
            words.append(token)
            i += 1
        if not words or (len(words) == 1 and len(words[0]) > 4 and words[0].lower_.endswith("ed")):
            return 0, None  # "One concerned a platoon": a verb after "one", nothing counted
        lows = [w.lower_ for w in words]
        for n in range(len(lows), 0, -1):  # a counted noun of the table ("artillery systems") wins
            key = " ".join(lows[:n])
            if key in self.units:
                return words[n - 1].idx + len(words[n - 1].text), self.units[key]
        plural = [k for k, w in enumerate(lows) if w in self.irregular or (w.endswith("s") and not w.endswith("ss"))]
        k = plural[0] if value != 1 and plural else len(words) - 1
        noun = lows[k]
        if noun in self.not_counted or (k > 0 and any(w in self.not_counted for w in lows[:k])):
            return 0, None
        return words[k].idx + len(words[k].text), _singular(noun, self.irregular)

    def taken(self, text: str, claims: Sequence[re.Match[str]]) -> list[tuple[int, int]]:
        """The spans the table's claims, the percentages and the amounts of money cover: numbers NER marks there are
        already read ("an additional $100m", which NER ends before the "m")."""
        return [(m.start(), m.end()) for m in (*claims, *_PERCENT.finditer(text), *_money_in(text))]

    def claims(self, text: str) -> list[re.Match[str]]:
        """The table's claims in `text` (a number and a counted noun), as matches: read once, used twice."""
        return list(self.pattern.finditer(text))

    def figures_of(self, text: str, claims: Sequence[re.Match[str]] | None = None) -> list[Figure]:
        """Every numeric claim with a counted noun, once per (value, unit, text)."""
        out: dict[tuple, Figure] = {}
        # a percentage is a claim of its sentence: a poll's "5%" of one group and "5%" of another are two claims,
        # the same share said twice in one sentence one
        ends = [m.end() for m in _SENTENCE_BREAK.finditer(text)]
        percents: set[tuple[float, int]] = set()
        for match in self.claims(text) if claims is None else claims:
            value = parse_number(match.group("number"), match.group("scale") or match.group("suffix"))
            if value is None or (
                not match.group("currency") and is_year(text, match.start("number"), match.group("number"))
            ):
                continue
            scaled = match.group("scale") or match.group("suffix")
            if (
                not match.group("qualifier")
                and not scaled
                and definite(text, match.start("number"), match.group("number"))
            ):
                continue
            unit = self.units.get(" ".join(match.group("noun").lower().split()))
            if match.group("currency"):
                unit = _CURRENCIES[match.group("currency")]
            start = match.start()
            ranged = None if match.group("qualifier") else LOW_BEFORE.search(text, max(0, start - 40), start)
            if ranged is not None and self._changed(text, ranged.start()):
                # "support grew from 60 to 71 percent": where it was and where it is, two figures
                was = parse_number(
                    ranged.group("low"), ranged.group("low_scale") or ranged.group("low_suffix") or scaled
                )
                change_text = " ".join(text[ranged.start() : match.end()].split())
                if was is not None and unit is not None:
                    out.setdefault((was, unit, change_text.lower(), -2), Figure(value=was, unit=unit, text=change_text))
                    if unit == "%":
                        percents.add((was, bisect.bisect(ends, start)))
                ranged = None
            low = low_end(ranged, match, value) if ranged is not None else None
            if ranged is not None and low is None:
                continue  # "a 3-2 vote": a tally, no range and no claim
            figure_text = " ".join(text[start if ranged is None else ranged.start() : match.end()].split())
            sentence = bisect.bisect(ends, start) if unit == "%" else -1
            if sentence >= 0:
                if (value, sentence) in percents:
                    continue
                percents.add((value, sentence))
            figure = (
                Figure(value=value, unit=unit, text=figure_text)
                if low is None
                else Figure(value=low, high=value, unit=unit, text=figure_text)
            )
            out.setdefault((figure.value, unit, figure_text.lower(), sentence), figure)
        for match in _PERCENT.finditer(text):
            value = float(match.group("number").replace(",", "."))  # "26,5%": a decimal comma
            start = match.start()
            sentence = bisect.bisect(ends, start)
            if (value, sentence) in percents:
                continue
            percents.add((value, sentence))
            qualifier = self.qualifiers.search(text, max(0, start - 30), start) if self.qualifiers else None
            figure_text = " ".join(text[qualifier.start() if qualifier else start : match.end()].split())
            out[(value, "%", figure_text.lower(), sentence)] = Figure(value=value, unit="%", text=figure_text)
        range_end = -1
        for match in _money_in(text):
            value = parse_number(match.group("number"), match.group("scale"))
            if value is None or match.start() < range_end:
                continue  # the upper end of a range already taken
            start = match.start()
            qualifier = self.qualifiers.search(text, max(0, start - 30), start) if self.qualifiers else None
            upper = _RANGE_TO.match(text, match.end())
            end = match.end()
            high = None
            following = _MONEY.match(text, upper.end()) if upper is not None else None
            if following is not None and not self._changed(text, start):
                upper_value = parse_number(following.group("number"), following.group("scale"))
                if upper_value is not None and upper_value > value:
                    end = range_end = following.end()  # "$45.0 billion to $55.0 billion": one figure, a range
                    high = upper_value
            figure_text = " ".join(text[qualifier.start() if qualifier else start : end].split())
            unit = _CURRENCIES[match.group("currency")]
            if not any(f.unit == unit and f.value == value for f in out.values()):
                out.setdefault(
                    (value, unit, figure_text.lower()),
                    Figure(
                        value=value,
                        high=high if high is not None and high > value else None,
                        unit=unit,
                        text=figure_text,
                    ),
                )
        return list(out.values())


_NUMBER_IN = re.compile(
    rf"(?P<currency>{_DOLLAR}|[$€£₴₽])?\s?(?P<number>{DIGITS}|{WORD_NUMBER})"
    r"(?:(?:\s*|-)(?P<scale>hundred|thousand|million|billion|trillion|bn|mn|tn|trn|dozen)\b|(?P<suffix>bn|mn|tn|trn|m|k)\b)?",
    re.IGNORECASE,
)


# a percentage written with a decimal point or comma ("3.4%", "26,5%", "41 per cent"), NER or not
# (its first digit opens the pattern and what may not stand before it is looked at after it: a pattern that opens
# with a character is searched for that character at once, three times faster than one opening with a look-behind)
_PERCENT = re.compile(
    r"(?P<number>\d(?<![\w.,]\d)\d{0,2}(?:[.,]\d{1,2})?)\s?(?:%|per\s?cent\b|percent\b)", re.IGNORECASE
)
_SENTENCE_BREAK = re.compile(r"[.!?…][”’\"')\]]*\s+|\n")
_PARTITIVE = re.compile(
    r"\s+of\s+(?:our|the|its|their|his|her|these|those|your|my)\s+(?:[a-z-]+\s+){0,2}?(?P<noun>[a-z]{3,}(?<!ss)s)\b"
)
_RANGE_TO = re.compile(r"\s*(?:to|-|–|—|and)\s*")
_ABBREVIATION = re.compile(r"(?:[A-Z]\.){2,3}")


def _ranged(figure: Figure | None, span: str) -> Figure | None:
    """A figure NER read from a range ("10-12", "between 10 and 12") with its upper end; the lower is its value."""
    if figure is None:
        return None
    numbers = list(_NUMBER_IN.finditer(span))
    if len(numbers) < 2 or not _RANGE_TO.fullmatch(span[numbers[0].end() : numbers[1].start()]):
        return figure
    scale = numbers[1].group("scale") or numbers[1].group("suffix")
    high = parse_number(numbers[1].group("number"), scale)
    if high is None or high <= figure.value:
        return figure
    return figure.model_copy(update={"high": high})


def _lead(text: str, start: int, qualifiers: Sequence[str]) -> int:
    """Where the figure's text starts: a qualifier just before the number ("up to", "more than") is part of it."""
    before = text[max(0, start - 25) : start].lower()
    for q in qualifiers:
        if before.endswith(q + " "):
            return start - len(q) - 1
    return start


def _strip_qualifier(span: str, qualifiers: Sequence[str]) -> str:
    """The number's words without a qualifier NER put in the span ("more than 440", "up to 10,000", "between")."""
    low = span.lower()
    for q in (*qualifiers, "between", "from"):
        if low.startswith(q + " "):
            return span[len(q) + 1 :]
    return span


def _currency_word(rest: str, measures: Mapping[str, str]) -> str | None:
    """A currency named after the number ("two billion dollars")."""
    words = [w for w in rest.split() if w not in SCALES]
    return words[0] if words and measures.get(words[0], "") in _CURRENCY_UNITS else None


def _singular(noun: str, irregular: Mapping[str, str]) -> str:
    """A counted noun in the singular ("battalions" -> "battalion", "people" -> "person")."""
    if noun in irregular:
        return irregular[noun]
    if noun.endswith("ies") and len(noun) > 4:
        return noun[:-3] + "y"
    if noun.endswith(("ches", "shes", "sses", "xes")):
        return noun[:-2]
    if noun.endswith("s") and not noun.endswith("ss"):
        return noun[:-1]
    return noun
