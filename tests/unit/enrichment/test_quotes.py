"""Quotes: spans in curly, straight and mixed marks; speakers named after, before, or referred back to."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from pipeline.enrichment.canonical import Canonical, Resolved
from pipeline.enrichment.quotes import QuoteRules, find_quotes, quoted_spans
from pipeline.enrichment.tables import DATA_DIR, read_toml

RULES = QuoteRules.from_data(read_toml(DATA_DIR / "enrich_quotes.toml"))
PEOPLE = ("Vladimir Putin", "Oleksiy Kuleba", "Ramzan Kadyrov", "Volodymyr Zelenskyy", "Dmitry Peskov")
SURFACES = {"Putin": "Vladimir Putin", "Oleksiy Kuleba": "Oleksiy Kuleba", "Ramzan Kadyrov": "Ramzan Kadyrov",
            "Zelensky": "Volodymyr Zelenskyy", "Dmitry Peskov": "Dmitry Peskov", "Telegram": "Telegram",
            "the Washington Post": "The Washington Post"}


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
    text = "“The Kyiv region repelled the third Russian attack,” the head of the region, Oleksiy Kuleba said on Telegram."
    assert speakers(text) == [("Oleksiy Kuleba", "The Kyiv region repelled the third Russian attack")]


def test_speaker_after_a_dash() -> None:
    text = "“I have no fear of talks, but Putin is afraid of peace.” – Zelensky, responding to Putin’s refusal."
    assert speakers(text)[0][0] == "Volodymyr Zelenskyy"


def test_speaker_before_a_colon_and_mixed_marks() -> None:
    text = "Chechen leader Ramzan Kadyrov writes on Telegram: 'If Russia had wanted, they could not have stepped back ”."
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
    text = "“The operation is not connected with the formula”, it is “connected with the second summit” because “it is our plan”Zelensky said."
    assert [s for s, _ in speakers(text)] == ["Volodymyr Zelenskyy"] * 3


def test_a_quote_over_several_paragraphs_is_one_quote() -> None:
    text = "The command said: “Due to the activity of bombers, aviation is operating.\n\n“Fighter aircraft have been scrambled and radars are ready.\n\n“These actions are preventative.”"
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
