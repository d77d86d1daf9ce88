"""The golden set's scorer (benchmarks/eval_enrich.py): which words of the text `text_clean` lost; names compared."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("eval_enrich", ROOT / "benchmarks" / "eval_enrich.py")
assert _spec is not None and _spec.loader is not None
eval_enrich = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(eval_enrich)


def test_a_removed_caption_is_gone_and_the_paragraph_after_it_is_whole() -> None:
    # the caption's "The" and the paragraph's "“The" share their letters: the words as written tell them apart
    text = "The portrait of a giant by Anna Novak\n\n“The Tall Fellows” were not only Russian."
    gone = eval_enrich.removed_tokens(text, "“The Tall Fellows” were not only Russian.")
    assert all(gone[0]) and not any(gone[2])


def test_a_word_whose_punctuation_changed_is_not_lost_but_a_cut_word_is() -> None:
    text = "Nobody will die”, Jennifer Rankin writes from Brussels."
    gone = eval_enrich.removed_tokens(text, "Nobody will die”.")
    assert gone[0] == [False, False, False, True, True, True, True, True]


def test_a_caption_kept_without_its_credit_is_scored_as_removed_but_not_a_line_cut_elsewhere() -> None:
    text = "Leo Varadkar visits the monument in Kyiv (Clodagh Kilcoyne/PA)\n\nRead more: the war in pictures today"
    lines = eval_enrich.line_tokens(text)
    caption = {"line": 0, "tokens": [0, len(lines[0])]}
    promotion = {"line": 2, "tokens": [0, len(lines[2])]}
    gone = eval_enrich.removed_tokens(text, "Leo Varadkar visits the monument in Kyiv\n\nRead more: the war")
    assert eval_enrich._caption_without_credit(caption, lines, gone)
    assert not eval_enrich._caption_without_credit(promotion, lines, gone)  # a tail gone, but no credit
    kept = eval_enrich.removed_tokens(text, text)
    assert not eval_enrich._caption_without_credit(caption, lines, kept)


def test_a_bodys_country_in_any_notation_is_one_name_but_other_bodies_stay_apart() -> None:
    same = ["Russian Armed Forces", "Armed Forces of Russia", "Armed Forces of the Russian Federation"]
    entity_fold = eval_enrich.entity_fold
    assert len({entity_fold(n) for n in same}) == 1
    assert entity_fold("Ministry of Defence (Russia)") == entity_fold("Ministry of Defence of Russia")
    assert entity_fold("Embassy of Belarus in Russia") == entity_fold("Embassy of Belarus, Moscow")
    assert entity_fold("Russian Armed Forces") != entity_fold("Armed Forces of Ukraine")
    assert entity_fold("Russian Army") != entity_fold("Army of Russia")  # one word after the adjective: as written
