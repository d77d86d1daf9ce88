"""Quotes: spans in curly, straight and mixed marks; speakers named after, before, or referred back to."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.enrichment.canonical import Canonical, Resolved
from pipeline.enrichment.quotes import QuoteRules, find_quotes, quoted_spans
from pipeline.enrichment.tables import DATA_DIR, read_toml

RULES = QuoteRules.from_data(read_toml(DATA_DIR / "enrich_quotes.toml"))
PEOPLE = ("Vladimir Putin", "Oleksiy Kuleba", "Ramzan Kadyrov", "Volodymyr Zelenskyy", "Dmitry Peskov")
SURFACES = {
    "Putin": "Vladimir Putin",
    "Oleksiy Kuleba": "Oleksiy Kuleba",
    "Ramzan Kadyrov": "Ramzan Kadyrov",
    "Zelensky": "Volodymyr Zelenskyy",
    "Dmitry Peskov": "Dmitry Peskov",
    "Telegram": "Telegram",
    "the Washington Post": "The Washington Post",
}


def entities_of(text: str) -> list[Resolved]:
    """Hand-made entity mentions (what the stage's NER and alias table provide)."""
    out = []
    for surface, name in SURFACES.items():
        for m in re.finditer(re.escape(surface), text):
            label = "PERSON" if name in PEOPLE else "ORG"
            nouns = ("newspaper",) if "Post" in name else ()
            out.append(Resolved(name, label, surface, m.start(), m.end(), Canonical(name, label, nouns=nouns)))
    return sorted(out, key=lambda r: r.start)


def speakers(text: str) -> list[tuple[str | None, str]]:
    return [(q.speaker, q.text) for q in find_quotes(text, entities_of(text), RULES)]


def test_speaker_named_after_the_quote() -> None:
    text = (
        "“The Kyiv region repelled the third Russian attack,” the head of the region, Oleksiy Kuleba said on Telegram."
    )
    assert speakers(text) == [("Oleksiy Kuleba", "The Kyiv region repelled the third Russian attack")]


def test_speaker_after_a_dash() -> None:
    text = "“I have no fear of talks, but Putin is afraid of peace.” – Zelensky, responding to Putin’s refusal."
    assert speakers(text)[0][0] == "Volodymyr Zelenskyy"


def test_speaker_before_a_colon_and_mixed_marks() -> None:
    text = (
        "Chechen leader Ramzan Kadyrov writes on Telegram: 'If Russia had wanted, they could not have stepped back ”."
    )
    assert speakers(text) == [("Ramzan Kadyrov", "If Russia had wanted, they could not have stepped back")]


def test_pronoun_refers_back_to_the_last_person_named() -> None:
    text = "Ramzan Kadyrov criticised the army. He does so in a video on Telegram: “Nobody ordered a single step back.”"
    assert speakers(text)[0][0] == "Ramzan Kadyrov"


def test_an_organisation_referred_to_by_what_it_is() -> None:
    text = "Reports by the Washington Post said so. The incursion “derails efforts for a partial ceasefire,” the newspaper wrote."
    assert speakers(text)[0][0] == "The Washington Post"


def test_not_a_speaker_named_after_a_preposition() -> None:
    text = "“Emergency repair work is already underway,” the ministry said on the Telegram messenger."
    assert speakers(text) == [(None, "Emergency repair work is already underway")]


def test_quotes_of_one_sentence_share_the_speaker() -> None:
    text = (
        "“The operation is not connected with the formula”, it is “connected with the second summit” "
        "because “it is our plan”Zelensky said."
    )
    assert [s for s, _ in speakers(text)] == ["Volodymyr Zelenskyy"] * 3


def test_a_quote_over_several_paragraphs_is_one_quote() -> None:
    text = (
        "The command said: “Due to the activity of bombers, aviation is operating.\n\n"
        "“Fighter aircraft have been scrambled and radars are ready.\n\n“These actions are preventative.”"
    )
    [(_, quote)] = speakers(text)
    assert quote.startswith("Due to the activity") and quote.endswith("These actions are preventative.")


def test_apostrophes_and_short_scare_quotes_are_not_quotes() -> None:
    text = "Ukraine’s forum ‘Ukraine 2024. Independence’ opened; Poland called it “a preventive measure” and 'don't' mattered."
    assert speakers(text) == []


@given(st.text(alphabet=st.sampled_from(list("ab .,:\n“”‘’'\"–Zelensky said"))))
def test_arbitrary_text_never_breaks_and_spans_stay_inside(text: str) -> None:
    for span in quoted_spans(text):
        assert 0 <= span.start < span.text_start <= span.text_end <= span.end <= len(text)
    for quote in find_quotes(text, entities_of(text), RULES):
        assert quote.text and all(word in text for word in quote.text.split())


# --- attribution read from the dependency parse (sentences with a quotation only) ----------------------------


@pytest.fixture(scope="module")
def parse():
    """spaCy's parser, as the stage loads it: the same model reduced to tok2vec + parser."""
    from pipeline.enrichment.model import load_parser

    parser = load_parser("en_core_web_sm")
    return lambda texts: list(parser.pipe(texts))


PARSED_PEOPLE = {
    "Lindsey Graham": "PERSON",
    "Graham": "PERSON",
    "Nancy Pelosi": "PERSON",
    "Pelosi": "PERSON",
    "Kaja Kallas": "PERSON",
    "Mark Rutte": "PERSON",
    "Anna Novak": "PERSON",
    "Novak": "PERSON",
    "Daily Courier": "ORG",
    "Ministry of Foreign Affairs (Russia)": "ORG",
    "Russian foreign ministry": "ORG",
}
CANONICAL = {
    "Graham": "Lindsey Graham",
    "Pelosi": "Nancy Pelosi",
    "Novak": "Anna Novak",
    "Russian foreign ministry": "Ministry of Foreign Affairs (Russia)",
}


def parsed_speakers(text: str, parse) -> list[str | None]:
    entities = []
    for surface, label in PARSED_PEOPLE.items():
        for m in re.finditer(rf"\b{re.escape(surface)}\b", text):
            if not any(e.start <= m.start() < e.end for e in entities):
                name = CANONICAL.get(surface, surface)
                entities.append(Resolved(name, label, surface, m.start(), m.end(), Canonical(name, label)))
    entities.sort(key=lambda r: r.start)
    return [q.speaker for q in find_quotes(text, entities, RULES, parse)]


@pytest.mark.parametrize(
    "text, speaker",
    [
        ("“The border will stay open for everyone,” Graham said on Friday.", "Lindsey Graham"),
        ("“The border will stay open for everyone,” said Lindsey Graham.", "Lindsey Graham"),
        ("The border will stay open, according to Kaja Kallas: “We do not close doors on our friends.”", "Kaja Kallas"),
        ("Mark Rutte told reporters on Monday that “the alliance is ready for anything”.", "Mark Rutte"),
        (
            "Anna Novak, a reporter for the Daily Courier, wrote: “Nobody here believes the ceasefire will hold.”",
            "Anna Novak",
        ),
        (
            "“Relations will be restored once the troops leave,” the Russian foreign ministry said in a statement.",
            "Ministry of Foreign Affairs (Russia)",
        ),
    ],
)
def test_named_speakers(text: str, speaker: str, parse) -> None:
    assert parsed_speakers(text, parse) == [speaker]


def test_a_pronoun_is_the_person_the_text_is_about_then_the_last_speaker(parse) -> None:
    text = (
        "Nancy Pelosi visited the border on Monday. “I don't think we need a new law for that,” she said.\n\n"
        "“They are a confidence builder for our allies in the region.”\n\n"
        "“We will come back next month with more help,” she added."
    )
    assert parsed_speakers(text, parse) == ["Nancy Pelosi"] * 3


def test_a_title_refers_back_but_an_unnamed_official_is_nobody(parse) -> None:
    text = (
        "Kaja Kallas spoke after the meeting. “We need to be ready for a long war,” the prime minister said.\n\n"
        "“There is no sign of a deal this year,” a senior official told the Daily Courier."
    )
    assert parsed_speakers(text, parse) == ["Kaja Kallas", None]


def test_the_parser_reads_sentences_with_a_quotation_only(parse) -> None:
    seen: list[str] = []

    def counting(texts):
        seen.extend(texts)
        return parse(texts)

    text = (
        "Graham met the delegation in the morning. It was a long day.\n\n“We will not give in to pressure,” "
        "Graham said.\n\nThe talks resume next week."
    )
    parsed_speakers(text, counting)
    assert seen == ["“Q,” Graham said."]  # the quotation's own words are not parsed either


def test_a_title_is_the_person_the_article_gives_that_title(parse) -> None:
    text = (
        "Sen. Lindsey Graham spoke on Sunday about Nancy Pelosi and the war.\n\n"
        "“We need to stop business as usual on the floor,” the senator said."
    )
    assert parsed_speakers(text, parse) == ["Lindsey Graham"]
