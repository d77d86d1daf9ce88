"""Countries that speak are quote speakers; countries anywhere else stay places."""

from __future__ import annotations

import re

import pytest

from pipeline.enrichment.canonical import Resolved
from pipeline.enrichment.quote_actors import country_speakers
from pipeline.enrichment.quote_rules import QuoteRules
from pipeline.enrichment.tables import DATA_DIR, read_toml

RULES = QuoteRules.from_data(read_toml(DATA_DIR / "enrich_quotes.toml"))
COUNTRIES = {"UK": "United Kingdom", "Germany": "Germany", "the US": "United States"}
CITIES = {"Paris": "Paris"}


def speakers_in(text: str) -> list[tuple[str, str]]:
    places = []
    for surface, name in {**COUNTRIES, **CITIES}.items():
        for m in re.finditer(re.escape(surface), text):
            places.append(Resolved(name, "GPE", surface, m.start(), m.end(), None, True))
    found = country_speakers(text, places, lambda n: n in COUNTRIES.values(), RULES.finite_verbs)
    return [(r.name, r.label) for r in found if r.label == "ORG"]


@pytest.mark.parametrize(
    "text, speaker",
    [
        ("“Its air force failed,” the UK said.", "United Kingdom"),
        ("Germany has repeatedly said “we stand with Kyiv”.", "Germany"),
        ("According to the US, “the weapons were used twice”.", "United States"),
        ("The UK on Monday said it was “a grave mistake”.", "United Kingdom"),
    ],
)
def test_a_country_that_speaks_is_a_speaker(text: str, speaker: str) -> None:
    assert speakers_in(text) == [(speaker, "ORG")]


@pytest.mark.parametrize(
    "text",
    [
        "The UK's defence ministry said “the air force failed”.",  # the ministry speaks
        "Troops in Germany said “we are ready”.",  # a place the troops are in
        "Paris said “no”, the mayor wrote.",  # a city (capitals are read by `capitals.py`)
        "He flew to the UK and said “it was a grave mistake”.",  # the verb is not the country's
    ],
)
def test_a_country_anywhere_else_is_a_place(text: str) -> None:
    assert speakers_in(text) == []
