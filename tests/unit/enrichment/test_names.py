"""Is a span a name: adjectives of origin, ideas, events and works are not organisations; a word before a title
is not a person; a title and a surname is the surname."""

from __future__ import annotations

import pytest

from pipeline.enrichment.aliases import AliasTable
from pipeline.enrichment.canonical import resolve
from pipeline.enrichment.entities import Mention
from pipeline.enrichment.names import not_a_name
from pipeline.enrichment.tables import DATA_DIR, read_toml

TABLE = AliasTable.from_data(read_toml(DATA_DIR / "enrich_entities.toml"))


def _mention(text: str, before: str, after: str, label: str, start: int = 0) -> Mention:
    return Mention(text, label, start, start + len(text), tuple(before.split()), tuple(after.split()), "ner")


@pytest.mark.parametrize(
    "surface, label",
    [
        ("Eastern European", "ORG"),
        ("Northern Irish", "ORG"),
        ("Russophobia", "ORG"),
        ("Nationalism", "PERSON"),
        ("Ukraine Crisis", "ORG"),
        ("The Philadelphia Story", "ORG"),
        ("Watergate Scandal", "ORG"),
        ("UN Charter", "ORG"),
        ("Vilnius Summit Communique", "ORG"),
        ("Treaty of Versailles", "ORG"),
        ("Minsk Agreement", "ORG"),
        ("National Security Concept of Belarus", "ORG"),
        ("Chemical Weapons Convention", "ORG"),
        ("National Security Strategy: Integrated Security", "ORG"),  # the head before a subtitle
        ("Co-Founder", "ORG"),  # a title
        ("Paris Fashion Week", "ORG"),
    ],
)
def test_adjectives_ideas_events_and_works_are_not_organisations(surface: str, label: str) -> None:
    assert not_a_name(surface, label, TABLE.cues)


@pytest.mark.parametrize(
    "surface, label",
    [
        ("European Commission", "ORG"),
        ("Afghan Taliban", "ORG"),
        ("Crisis Group", "ORG"),
        ("Anna Novak", "PERSON"),
        ("Treaty Organization", "ORG"),  # the head is the organisation's noun
        ("Council of the Baltic Sea States", "ORG"),
    ],
)
def test_organisations_and_people_stay(surface: str, label: str) -> None:
    assert not not_a_name(surface, label, TABLE.cues)


def test_a_word_before_a_title_is_not_a_person() -> None:
    mentions = [
        _mention("Slovak", "Former", "Prime Minister Robert Fico said", "PERSON", 0),
        _mention("Robert Fico", "Slovak Prime Minister", "said", "PERSON", 30),
    ]
    names = [r.name for r in resolve(mentions, TABLE, lambda name: False)]
    assert names == ["Robert Fico"]


def test_a_title_and_a_surname_is_the_person_the_article_names_in_full() -> None:
    mentions = [
        _mention("William Barr", "Attorney General", "notified Congress", "PERSON", 0),
        _mention("General Barr", "Attorney", "must provide the report", "PERSON", 80),
    ]
    names = {r.name for r in resolve(mentions, TABLE, lambda name: False)}
    assert names == {"William Barr"}


@pytest.mark.parametrize(
    "surface",
    [
        "Citing Germany",
        "Speaking Tuesday",
        "Asked Putin",
        "According Reuters",
        "Russian ‘Giants",
        'The "Tall',
        "Ukrainian Conflict Met With Memes",  # a headline's run
        "Munich 2.0",  # an idea's version
    ],
)
def test_a_span_opening_with_a_clause_word_is_no_name(surface: str) -> None:
    from pipeline.enrichment.names import is_junk

    assert is_junk(surface, "PERSON", TABLE.cues)
    assert not is_junk("Anna Novak", "PERSON", TABLE.cues) and not is_junk("Under Armour", "ORG", TABLE.cues)
    assert not is_junk("Oleksandra “Sasha” Kuvshynova", "PERSON", TABLE.cues)  # a nickname in its quotes


def test_an_acronym_of_a_phrase_the_text_writes_in_lower_case_is_no_organisation() -> None:
    text = "Ukraine's temporarily occupied territories (TOT) remain closed; the EU and the NATO summit met."
    mentions = [
        _mention("TOT", "occupied territories (", ") remain", "ORG", text.index("TOT")),
        _mention("NATO", "the", "summit met", "ORG", text.index("NATO")),
    ]
    names = [r.name for r in resolve(mentions, TABLE, lambda name: False, text=text)]
    assert names == ["NATO"]  # "not admitted to the temporarily occupied …" spells NATO, but the table knows it


@pytest.mark.parametrize(
    "acronym, text, spells",
    [
        ("SMO", "the goals of the special military operation", True),
        ("CSR", "a new era of corporate social responsibility", True),
        ("SBU", "the Security Service of Ukraine", False),  # capitalised: a name's initials
        ("TOT", "to occupy territory", False),  # words of two letters are no phrase's
        ("UN", "urgent need", False),  # two letters spell too much by chance
    ],
)
def test_spells_lower_phrase(acronym: str, text: str, spells: bool) -> None:
    from pipeline.enrichment.folding import spells_lower_phrase

    assert spells_lower_phrase(acronym, text) is spells


def test_words_that_qualify_an_event_s_name_are_no_organisation() -> None:
    from pipeline.enrichment.names import used_as_common_noun

    fintech = _mention("Hong Kong Fintech", "during the", "Week event in", "ORG")
    assert used_as_common_noun(fintech, fintech.text, TABLE.cues)
    ministry = _mention("Defence Ministry", "the", "said on", "ORG")
    assert not used_as_common_noun(ministry, ministry.text, TABLE.cues)


def test_acronyms_of_common_nouns_are_no_organisations() -> None:
    mentions = [
        _mention("NGO", "according to the", "'s spokesman", "ORG", 0),
        _mention("TNT", "65 kg of", "into the cinema", "ORG", 40),
        _mention("OSCE", "the", "said", "ORG", 80),
    ]
    assert [r.name for r in resolve(mentions, TABLE, lambda name: False)] == ["OSCE"]
