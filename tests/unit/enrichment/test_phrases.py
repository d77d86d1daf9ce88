"""Phrase tries: one pattern for many phrases matches what the flat alternation matched."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from pipeline.enrichment.phrases import phrase_pattern

WORDS = st.lists(
    st.sampled_from(["ministry", "of", "defence", "defense", "minister", "foreign", "a", "an"]), min_size=1, max_size=4
)


@given(st.lists(WORDS.map(" ".join), min_size=1, max_size=8), st.lists(WORDS.map(" ".join), max_size=6))
def test_a_trie_matches_what_the_longest_first_alternation_matches(phrases: list[str], texts: list[str]) -> None:
    flat = "|".join(r"\s+".join(map(re.escape, p.split())) for p in sorted(set(phrases), key=len, reverse=True))
    trie = phrase_pattern(set(phrases))
    for text in texts + phrases:
        for at in range(len(text) + 1):
            a = re.compile(rf"(?:{flat})(?![\w-])").match(text, at)
            b = re.compile(rf"(?:{trie})(?![\w-])").match(text, at)
            assert (a and a.group(0)) == (b and b.group(0)), (phrases, text, at)


def test_shared_beginnings_are_factored() -> None:
    assert phrase_pattern({"ministry of defence", "ministry of defense"}) == r"ministry\s+of\s+defen(?:ce|se)"
