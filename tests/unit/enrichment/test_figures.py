"""Figures: numbers with what they count, normalised; not years, model names or plan sizes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.enrichment.figures import FigureRules, parse_number
from pipeline.enrichment.tables import DATA_DIR, read_toml

RULES = FigureRules.from_data(read_toml(DATA_DIR / "enrich_figures.toml"))


@pytest.mark.parametrize("text, value", [
    ("653", 653), ("10,000", 10_000), ("1,294", 1294), ("1.5", 1.5), ("forty", 40), ("Three", 3), ("twenty-five", 25),
    ("ninety nine", 99), ("eleven", 11),
])
def test_numbers_in_digits_and_words(text: str, value: float) -> None:
    assert parse_number(text) == value


def test_scales() -> None:
    assert parse_number("a", "hundred") == 100 and parse_number("1.5", "billion") == 1.5e9 and parse_number("a") is None


@pytest.mark.parametrize("sentence, text, value, unit", [
    ("Moscow bombed the country with 653 drones and 53 hypersonic and ballistic missiles.", "53 hypersonic and ballistic missiles", 53, "missile"),
    ("with more than 100 artillery systems reportedly being sent", "more than 100 artillery systems", 100, "artillery system"),
    ("Moscow would have another 10,000 Chechen soldiers ready", "10,000 Chechen soldiers", 10_000, "soldier"),
    ("they control 1,294 square kilometers of Russian territory", "1,294 square kilometers", 1294, "km²"),
    ("594 Russian soldiers were taken prisoner", "594 Russian soldiers", 594, "soldier"),
    ("Ukrainian air defences shot down 585 drones, 29 cruise missiles", "585 drones", 585, "drone"),
    ("and about a hundred settlements.", "about a hundred settlements", 100, "settlement"),
    ("Russia launched 34 drone strikes in the early hours", "34 drone strikes", 34, "drone strike"),
    ("It pledged $1.5 billion in aid.", "$1.5 billion", 1.5e9, "USD"),
    ("prices rose 12 percent", "12 percent", 12, "%"),
])
def test_claims_are_found_and_normalised(sentence: str, text: str, value: float, unit: str) -> None:
    assert (text, value, unit) in {(f.text, f.value, f.unit) for f in RULES.figures_of(sentence)}


@pytest.mark.parametrize("sentence", [
    "Russian Tu-95MS and Tu-160MS strategic bombers attacked.",
    "Ukraine used F-16s supplied by the West.",
    "a revised 19-point plan and the initial 28-point peace plan",
    "one of the biggest attacks in the war",
    "the continuous attacks since 2014 drones",
    "9,500 customers remained without heat and 34,000 without a water supply",
    "two weeks ago, after ten days of talks",
])
def test_not_claims(sentence: str) -> None:
    found = {f.text for f in RULES.figures_of(sentence)}
    assert found <= {"9,500 customers"}


@given(st.text())
def test_arbitrary_text_never_breaks_and_figures_quote_the_text(text: str) -> None:
    squeezed = " ".join(text.split()).lower()
    for figure in RULES.figures_of(text):
        assert figure.text.lower() in squeezed and figure.value >= 0


@given(st.integers(min_value=0, max_value=10**9))
def test_digit_numbers_round_trip(n: int) -> None:
    assert parse_number(f"{n:,}") == n and parse_number(str(n)) == n
