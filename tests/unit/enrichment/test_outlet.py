"""The article's own outlet named in its story is an organisation, found by its source's domain or name."""

from __future__ import annotations

from pipeline.enrichment.canonical import Resolved
from pipeline.enrichment.outlet import outlet_key, with_outlet


def test_the_outlets_key_is_its_domains_name_or_its_own_names_letters() -> None:
    assert "middleeasteye" in outlet_key("www.middleeasteye.net")
    assert "motherjones" in outlet_key(None, "Mother Jones")
    assert "print" not in outlet_key("theprint.in")  # too short a word alone: any "Print" would be it
    assert outlet_key("ap.org") == set()


def test_the_outlet_replaces_what_ner_made_of_it_and_is_added_where_ner_missed_it() -> None:
    text = "The lawyer told Middle East Eye the detention was unlawful. Mother Jones asked the agency."
    at = text.index("Jones")
    resolved = [Resolved("Jones", "PERSON", "Jones", at, at + 5)]
    out = with_outlet(resolved, text, outlet_key("middleeasteye.net") | outlet_key(None, "Mother Jones"))
    assert [(r.name, r.label) for r in out] == [("Middle East Eye", "ORG"), ("Mother Jones", "ORG")]


def test_a_name_the_tables_know_stays_and_other_words_are_left_alone() -> None:
    text = "The Washington Post reported that Eye East Middle is no outlet."
    known = Resolved("The Washington Post", "ORG", "The Washington Post", 0, 19, entry=object())  # type: ignore[arg-type]
    out = with_outlet([known], text, outlet_key("washingtonpost.com") | outlet_key("middleeasteye.net"))
    assert [r.name for r in out] == ["The Washington Post"]
