"""Chunking for translation: exact splits under the limit, at sentence ends, paragraphs as detect numbers them."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline.stages.detect import split_paragraphs
from pipeline.translation.chunking import (
    PACK_SEPARATOR,
    Paragraph,
    pack,
    render,
    segments,
    split_text,
    strip_parts,
    unpack,
)

# Text with the characters that matter here overrepresented: blanks, line breaks, sentence ends, quotes.
_ALPHABET = st.sampled_from(list("ab cdè\n\n\t .!?…»”\"'") + ["\r\n", "  ", "\u00a0", "Ж", "😀"])
texts = st.one_of(st.text(), st.lists(_ALPHABET, max_size=400).map("".join))


@settings(max_examples=300, deadline=None)
@given(text=texts, limit=st.integers(min_value=1, max_value=120))
@example(text="Una frase. " * 30, limit=25)
@example(text="x" * 50, limit=7)
def test_split_text_pieces_fit_and_join_back(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert "".join(pieces) == text
    assert all(0 < len(p) <= limit for p in pieces)


@settings(max_examples=100, deadline=None)
@given(
    sentences=st.lists(
        st.from_regex(r"[A-Za-zàèéìòù][a-zàèéìòù ,]{0,38}[a-z][.!?]", fullmatch=True), min_size=1, max_size=30
    ),
    limit=st.integers(min_value=41, max_value=200),
)
def test_split_text_cuts_after_sentences_when_sentences_fit(sentences: list[str], limit: int) -> None:
    text = " ".join(sentences)
    pieces = split_text(text, limit)
    assert "".join(pieces) == text
    for piece in pieces[:-1]:
        # never in the middle of a sentence (a sentence as long as the limit leaves its space to the next piece)
        assert re.search(r"[.!?]\s*$", piece), piece


def test_split_text_prefers_sentences_to_words() -> None:
    text = "Il governo ha approvato il decreto. La Camera lo voterà domani! Poi tocca al Senato?"
    assert split_text(text, 40) == [
        "Il governo ha approvato il decreto. ",
        "La Camera lo voterà domani! ",
        "Poi tocca al Senato?",
    ]
    assert split_text("Parola lunghissima senza punti finali", 10) == [
        "Parola ",
        "lunghissim",
        "a senza ",
        "punti ",
        "finali",
    ]


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_segments_render_back_and_number_paragraphs_like_detect(text: str) -> None:
    parts = segments(text)
    assert "".join(render(s) for s in parts) == text
    paragraphs = [s for s in parts if isinstance(s, Paragraph)]
    assert [p.core for p in paragraphs] == split_paragraphs(text)
    assert [p.index for p in paragraphs] == list(range(len(paragraphs)))


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(st.text(min_size=1, max_size=60).map(str.strip).filter(bool), max_size=20),
    limit=st.integers(min_value=60, max_value=300),
)
def test_pack_groups_fit_and_unpack_inverts_them(items: list[str], limit: int) -> None:
    groups = pack(items, limit)
    assert [i for g in groups for i in g] == list(range(len(items)))
    for group in groups:
        joined = PACK_SEPARATOR.join(items[i] for i in group)
        assert len(group) == 1 or len(joined) <= limit
        if len(group) > 1:
            assert not any("\n" in items[i] for i in group)
            assert unpack(joined, len(group)) == [items[i] for i in group]


def test_unpack_refuses_merged_breaks() -> None:
    assert unpack("ONE TWO", 2) is None
    assert unpack("ONE\n\nTWO\n", 2) == ["ONE", "TWO"]
    assert unpack("ONE\n \nTWO", 2) == ["ONE", "TWO"]


def test_strip_parts() -> None:
    assert strip_parts("  Ciao. \n") == ("  ", "Ciao.", " \n")
    assert strip_parts("   ") == ("   ", "", "")
