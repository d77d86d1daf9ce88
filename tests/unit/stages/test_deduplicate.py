"""dedup (pipeline/stages/deduplicate.py): labelled pairs, golden fingerprints, re-delivery, updates, restarts, window,
shared background, shared quotations and leads (issue 12)."""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import orjson
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.contracts import Contracts
from pipeline.dedup.fingerprint import (
    NO_BOILERPLATE,
    Fingerprint,
    Fingerprinter,
    contains,
    content_hash,
    distinct,
    jaccard,
    lead_share,
    load_boilerplate,
    load_embeds,
    normalise,
    quotation_spans,
    read_story,
    shingle_hashes,
    similarity,
    story_words,
)
from pipeline.dedup.members import IncompatibleState, Member
from pipeline.dedup.state import DedupStore
from pipeline.records import Article
from pipeline.stages.base import Emit
from pipeline.stages.deduplicate import DedupStage
from tests.stage_settings import dedup_stage as build_dedup_stage

ROOT = Path(__file__).resolve().parents[3]
LABELLED = ROOT / "tests" / "fixtures" / "dedup" / "labelled"
HARD = ROOT / "tests" / "fixtures" / "dedup" / "hard"
MANIFEST = json.loads((LABELLED / "pairs.json").read_text(encoding="utf-8"))
BOILERPLATE = load_boilerplate()
START = datetime(2025, 1, 1, tzinfo=UTC)


def _read(ref: str) -> str:
    return (ROOT / ref if ref.startswith("seeds/") else LABELLED / ref).read_text(encoding="utf-8")


def article(
    name: str,
    n: int,
    *,
    hours: int | None = None,
    days: float = 0,
    text: str | None = None,
    published: str | None = None,
) -> Article:
    """A fixture article with the 16-hex id `n`, ingested `days` and `hours` (default: n) after 2025-01-01."""
    entry = MANIFEST["articles"].get(name, {})
    at = START + timedelta(days=days, hours=n if hours is None else hours)
    return Article(
        article_id=f"{n:016x}",
        text=text if text is not None else _read(entry["text"]),
        text_en=_read(entry["text_en"]) if "text_en" in entry and text is None else None,
        ingested_at=at.isoformat().replace("+00:00", "Z"),
        published_at=published,
    )


def decisions(results) -> list[tuple]:
    """What a run decided, comparable across runs."""
    return [
        (
            r.topic,
            r.article.article_id,
            r.article.dedup.cluster_id,
            r.article.dedup.duplicate_of,
            r.article.dedup.method,
            r.article.dedup.similarity,
        )
        for r in results
    ]


@cache
def fingerprinter() -> Fingerprinter:
    return Fingerprinter(boilerplate=BOILERPLATE)


# -- the labelled set --------------------------------------------------------------------------------


def test_labelled_pairs_reach_095_precision_and_recall_per_kind() -> None:
    rows: list[tuple[str, str, bool, str | None]] = []
    for pair in MANIFEST["pairs"]:
        stage = build_dedup_stage()
        stage.process([article(pair["a"], 1)])
        [result] = stage.process([article(pair["b"], 2)])
        rows.append((pair["kind"], pair["label"], result.article.dedup.is_duplicate, result.article.dedup.method))
        assert result.article.dedup.method == pair["method"], pair  # exact copies are found as exact
    per_kind: dict[str, list[bool]] = {}
    for kind, label, merged, _ in rows:
        per_kind.setdefault(kind, []).append(merged == (label != "different"))
    report = {kind: f"{sum(ok)}/{len(ok)}" for kind, ok in per_kind.items()}
    print("dedup fixtures, correct per kind:", report)
    for ok in per_kind.values():
        assert sum(ok) / len(ok) >= 0.95, report
    tp = sum(1 for _, label, merged, _ in rows if merged and label != "different")
    fp = sum(1 for _, label, merged, _ in rows if merged and label == "different")
    fn = sum(1 for _, label, merged, _ in rows if not merged and label != "different")
    assert tp / (tp + fp) >= 0.95 and tp / (tp + fn) >= 0.95
    assert Counter(label for _, label, _, _ in rows) == {"duplicate": 5, "near_duplicate": 32, "different": 27}


def test_all_fixtures_in_one_stream_make_one_cluster_per_story() -> None:
    names = list(MANIFEST["articles"])
    stage = build_dedup_stage()
    results = stage.process([article(name, i) for i, name in enumerate(names)])
    by_name = dict(zip(names, (r.article.dedup for r in results), strict=True))
    for name, dedup in by_name.items():
        seed, _, kind = name.partition("_")
        positive = kind and not kind.startswith(("other_", "follow_up"))
        expected = by_name[seed].cluster_id if positive else f"{names.index(name):016x}"
        assert dedup.cluster_id == expected, name
    assert sum(not d.is_duplicate for d in by_name.values()) == 5 + 10 + 2  # seeds, other outlets/sides, follow-ups


# -- golden values -------------------------------------------------------------------------------------


def test_golden_fingerprint_of_a_sentence() -> None:
    text = "Russia launched 34 drone strikes in the early hours of the morning, Zelenskyy said."
    fingerprint = fingerprinter().of(text)
    assert normalise(text) == "russia launched 34 drone strikes in the early hours of the morning zelenskyy said"
    assert fingerprint.content_hash == "593e27d38bf5b51e6093862f7e4d0007d022bc80eb6d7f140bbd73f32ad17ab5"
    assert (fingerprint.word_count, fingerprint.shingles.size) == (14, 10)
    assert fingerprint.shingles[:4].tolist() == [378415087, 994187036, 2225342259, 2578212985]
    assert fingerprint.minhash[:4].tolist() == [1243688145, 516129495, 287583891, 1264053274]
    assert shingle_hashes(["putin", "visited", "belarus", "on", "monday"], 5).tolist() == [778427665]
    assert content_hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_signature_equals_datasketch_update_batch() -> None:
    fp = fingerprinter()
    shingles = fp.of(_read("seeds/003_2e1d6ea06dfd4e1d.txt")).shingles
    reference = MinHash(
        num_perm=fp.num_perm, seed=fp.seed, hashfunc=lambda h: h, permutations=fp.permutations, scheme="affine32"
    )
    reference.update_batch(shingles.tolist())
    assert np.array_equal(fp.signature(shingles), reference.hashvalues)


def test_similarity_ordering_of_the_copies_of_seed_002() -> None:
    fp = fingerprinter()
    seed = fp.of(_read("seeds/002_41f31c8c25c6216b.txt")).shingles
    names = [
        "variants/002_syndicated",
        "variants/002_trimmed",
        "variants/002_new_headline",
        "variants/002_reordered",
        "variants/002_combined",
        "variants/002_typos",
        "variants/002_embedded",
        "handwritten/002_follow_up",
        "handwritten/002_other_side",
        "handwritten/002_other_outlet",
        "seeds/003_2e1d6ea06dfd4e1d",
    ]
    scores = [round(similarity(seed, fp.of(_read(n + ".txt")).shingles), 4) for n in names]
    assert scores == [1.0, 0.988, 0.9795, 0.9746, 0.9408, 0.8807, 0.8197, 0.2884, 0.1144, 0.0402, 0.0]


def test_furniture_case_and_punctuation_fold_to_the_same_hash() -> None:
    original = "Kyiv region repelled the third Russian attack in the last week, Kuleba said."
    copy = (
        "Advertisement\nSHARE THIS ARTICLE\n  kyiv REGION repelled the third russian attack -- in the last week;"
        "  Kuleba said!!\n© 2022 EFE. All rights reserved.\nRead more: Ukraine latest\nmos-int/ks"
    )
    fp = fingerprinter()
    assert fp.of(copy).content_hash == fp.of(original).content_hash


# -- decisions ---------------------------------------------------------------------------------------------


def test_redelivery_gets_the_same_decision_and_the_same_state_record() -> None:
    stage = build_dedup_stage()
    first = stage.process([article("002", 1), article("002_typos", 2), article("002_other_side", 3)])
    records = dict(stage.state_updates())
    again = stage.process([article("002_typos", 2, hours=9), article("002", 1, hours=9), article("002_other_side", 3)])
    assert decisions(again) == [decisions(first)[1], decisions(first)[0], decisions(first)[2]]
    assert dict(stage.state_updates()) == records  # rewritten identically: a lost produce is repaired
    assert len(stage.store) == 3


def test_changed_text_is_an_update_and_is_decided_again() -> None:
    stage = build_dedup_stage()
    stage.process([article("004", 1), article("004_trimmed", 2)])
    [moved] = stage.process([article("004_trimmed", 2, text=_read("handwritten/004_other_side.txt"))])
    assert moved.topic == "unique" and moved.article.dedup.cluster_id == f"{2:016x}"
    assert stage.store.lookup(f"{2:016x}").revision == 1
    # The canonical corrected (a paragraph added) stays the canonical of its story.
    corrected = _read("seeds/004_f47330885fb6930d.txt") + "\nThis article was updated with the governor's comments."
    stage.process([article("004_typos", 3)])
    [canonical] = stage.process([article("004", 1, text=corrected)])
    assert canonical.topic == "unique" and canonical.article.dedup.cluster_id == f"{1:016x}"


def test_a_late_copy_published_earlier_joins_the_existing_cluster() -> None:
    stage = build_dedup_stage()
    first = article("003", 1, published="2024-12-31T22:00:00Z")
    earlier = article("003_trimmed", 2, published="2024-12-31T20:00:00Z")
    [a], [b] = stage.process([first]), stage.process([earlier])
    assert a.topic == "unique" and b.topic == "duplicates"
    assert b.article.dedup.duplicate_of == b.article.dedup.cluster_id == first.article_id  # canonical is not moved
    assert b.article.published_at == "2024-12-31T20:00:00Z"


def test_text_en_is_compared_when_present() -> None:
    stage = build_dedup_stage()
    [_, italian] = stage.process([article("004", 1), article("004_translated", 2)])
    assert italian.article.text.startswith("L'Ucraina") and italian.article.dedup.is_duplicate


def test_stubs_and_furniture_only_texts_are_never_merged() -> None:
    stage = build_dedup_stage()
    results = stage.process(
        [
            article("", 1, text="Watch the video"),
            article("", 2, text="Watch the video"),
            article("", 3, text="Advertisement\nShare this article"),
            article("", 4, text="Related Articles\nRead more"),
        ]
    )
    assert [r.topic for r in results] == ["unique"] * 4


def test_every_result_is_an_emit_in_input_order() -> None:
    batch = [article("001", 1), article("001_embedded", 2), article("000", 3)]
    results = build_dedup_stage().process(batch)
    assert all(isinstance(r, Emit) for r in results)
    assert [r.article.article_id for r in results] == [a.article_id for a in batch]
    assert [r.topic for r in results] == ["unique", "duplicates", "unique"]
    assert "dedup" in results[0].article.pipeline.stages


# -- state -------------------------------------------------------------------------------------------------


def _stream() -> list[Article]:
    names = [n for n in MANIFEST["articles"] if n != "002"] + ["002"]  # a seed after its copies, too
    return [article(name, i) for i, name in enumerate(names)]


def test_batch_boundaries_do_not_change_decisions() -> None:
    stream = _stream()
    whole = build_dedup_stage().process(stream)
    stage = build_dedup_stage()
    ones = [r for a in stream for r in stage.process([a])]
    assert decisions(ones) == decisions(whole)


@pytest.mark.parametrize("state_produced_before_the_crash", [False, True])
def test_restart_from_compacted_state_records_gives_the_same_decisions(state_produced_before_the_crash: bool) -> None:
    stream = _stream()
    expected = decisions(build_dedup_stage().process(stream))
    before = build_dedup_stage()
    topic: dict[str, bytes | None] = {}  # a compacted topic: the last value per key, serialised as on the wire

    def produce(updates: list[tuple[str, dict | None]]) -> None:
        topic.update({k: None if v is None else orjson.dumps(v) for k, v in updates})

    got = []
    for start in range(0, 28, 4):
        got += before.process(stream[start : start + 4])
        produce(before.state_updates())
    before.process(stream[28:32])  # the worker dies before this batch's offsets are committed
    if state_produced_before_the_crash:
        produce(before.state_updates())
    replay = [(k, None if v is None else orjson.loads(v)) for k, v in topic.items()]
    after = build_dedup_stage(state=replay)  # restarted: rebuilt from the topic alone
    got += after.process(stream[28:32])  # re-delivered
    got += after.process(stream[32:])
    assert decisions(got) == expected


def test_state_records_match_the_state_topic_schema_and_round_trip() -> None:
    stage = build_dedup_stage()
    stage.process([article("000", 1), article("000_combined", 2), article("", 3, text="Photo")])
    contracts = Contracts()
    for key, record in stage.state_updates():
        contracts.validate("dedup-state", record)
        member = Member.from_state_record(orjson.loads(orjson.dumps(record)), stage.fingerprinter)
        assert member.to_state_record() == record and key == record["article_id"]
        stored = stage.store.lookup(key)
        assert member.sketch == stored.sketch and np.array_equal(member.minhash, stored.minhash)


def full_record(record: dict, fingerprint: Fingerprint) -> dict:
    """The record as the stage wrote it before issue 14 (the whole shingle set, in parts; MinHash as numbers)."""
    compact_only = ("sketch", "samples", "lead_quoted", "lead", "lead_size")
    old = {k: v for k, v in record.items() if k not in compact_only}
    told = distinct(np.concatenate([fingerprint.quoted, fingerprint.lead]))
    rest = fingerprint.shingles[~contains(told, fingerprint.shingles)]

    def pack(values: np.ndarray) -> str:
        return base64.b64encode(values.astype("<u4").tobytes()).decode("ascii")

    old.update(minhash=fingerprint.minhash.tolist(), shingles=pack(rest), lead=pack(fingerprint.lead))
    old["lead_size"] = fingerprint.lead_size
    if fingerprint.quoted.size:
        old["quoted_shingles"] = pack(fingerprint.quoted)
    return old


def test_records_of_the_full_form_are_compacted_on_read_as_they_would_be_written_now() -> None:
    stream = _stream()
    stage = build_dedup_stage()
    stage.process(stream)
    now = dict(stage.state_updates())
    fingerprints = {a.article_id: stage.fingerprinter.of(a.text_en or a.text) for a in stream}
    before = [full_record(record, fingerprints[key]) for key, record in now.items()]
    contracts = Contracts()
    for record in before:
        contracts.validate("dedup-state", record)
    restarted = build_dedup_stage(state=[orjson.loads(orjson.dumps(r)) for r in before])
    assert {r["article_id"]: r for r in restarted.store.records()} == now


def test_full_records_of_another_minhash_scheme_are_re_signed() -> None:
    old = build_dedup_stage(seed=7)
    old.process([article("001", 1)])
    [(key, record)] = old.state_updates()
    before = full_record(record, old.fingerprinter.of(_read("seeds/001_8e5d438f0169c215.txt")))
    new = build_dedup_stage(state=[before])
    assert not np.array_equal(new.store.lookup(key).minhash, old.store.lookup(key).minhash)
    [copy] = new.process([article("001_trimmed", 2)])
    assert copy.article.dedup.cluster_id == key


def test_compact_records_of_another_minhash_scheme_are_refused() -> None:
    old = build_dedup_stage(seed=7)
    old.process([article("001", 1)])
    with pytest.raises(IncompatibleState, match="seed7.*keep NEWSFLOW_DEDUP_NUM_PERM or empty the dedup state topic"):
        build_dedup_stage(state=list(old.store.records()))


def test_records_of_another_shingling_are_refused() -> None:
    old = build_dedup_stage(shingle_words=4)
    old.process([article("001", 1)])
    with pytest.raises(IncompatibleState, match="words4"):
        build_dedup_stage(state=list(old.store.records()))


def test_stale_echo_of_an_older_revision_is_ignored() -> None:
    stage = build_dedup_stage()
    stage.process([article("002", 1)])
    [(_, first)] = stage.state_updates()
    stage.process([article("002", 1, text=_read("handwritten/002_follow_up.txt"))])
    [(_, second)] = stage.state_updates()
    stage.restore([(first["article_id"], first), (second["article_id"], second)])  # our own writes read back
    assert stage.store.lookup(first["article_id"]).revision == 1


def test_window_evicts_old_signatures_and_ignores_them_meanwhile() -> None:
    stage = build_dedup_stage(window_days=30)
    stage.process([article("002", 1, days=0)])
    [late] = stage.process([article("002_typos", 2, days=31)])  # same batch as the clock move: not matched
    assert late.topic == "unique"
    assert (f"{1:016x}", None) in stage.state_updates()  # the tombstone for the compacted topic
    assert stage.store.lookup(f"{1:016x}") is None and len(stage.store) == 1
    [inside] = stage.process([article("002_trimmed", 3, days=30)])
    assert inside.article.dedup.duplicate_of == f"{2:016x}"


def test_state_updates_are_drained() -> None:
    stage = build_dedup_stage()
    stage.process([article("000", 1)])
    assert len(stage.state_updates()) == 1 and stage.state_updates() == []


def test_stage_is_built_from_an_injected_store() -> None:
    store = DedupStore(Fingerprinter(boilerplate=NO_BOILERPLATE), lsh_threshold=0.2)
    stage = DedupStage(store)
    assert stage.store is store and stage.name == "dedup" and stage.sources == ("translated",)
    assert stage.state_topic == "dedup-state"


# -- shared background, shared quotations, leads (issue 12) ---------------------------------------------------------


def hard(name: str) -> str:
    return (HARD / f"{name}.txt").read_text(encoding="utf-8")


def second_decision(first: str, second: str, **settings) -> Emit:
    """What a fresh stage decides for `second` after it has seen `first`."""
    stage = build_dedup_stage(**settings)
    stage.process([article("", 1, text=first)])
    [result] = stage.process([article("", 2, text=second)])
    return result


@pytest.mark.parametrize("order", ["ab", "ba"])
def test_two_stories_of_one_outlet_sharing_background_paragraphs_are_not_merged(order: str) -> None:
    a, b = hard("outlet_story_a"), hard("outlet_story_b")
    fp = fingerprinter()
    assert similarity(fp.of(a).shingles, fp.of(b).shingles) >= 0.5  # the background alone passes the threshold
    first, second = (a, b) if order == "ab" else (b, a)
    assert second_decision(first, second).topic == "unique"
    assert second_decision(first, second, min_lead_share=0).topic == "duplicates"  # the lead rule is what holds


@pytest.mark.parametrize("other", ["quote_story_b", "quote_post_b"])
def test_two_stories_quoting_the_same_statement_are_not_merged(other: str) -> None:
    a, b = hard("quote_story_a"), hard(other)
    fp = fingerprinter()
    assert similarity(fp.of(a).shingles, fp.of(b).shingles) >= 0.5  # the quotation alone passes the threshold
    assert second_decision(a, b).topic == "unique"
    assert second_decision(b, a).topic == "unique"


@pytest.mark.parametrize(
    ("original", "copy"),
    [
        ("wire_original", "wire_copy_headline_footer"),
        ("wire_original", "wire_copy_new_lead"),
        ("wire_copy_headline_footer", "wire_copy_new_lead"),
        ("quote_led_original", "quote_led_copy"),
    ],
)
def test_wire_copies_under_a_new_headline_lead_or_footer_are_merged(original: str, copy: str) -> None:
    for first, second in ((hard(original), hard(copy)), (hard(copy), hard(original))):
        result = second_decision(first, second)
        assert (result.topic, result.article.dedup.method) == ("duplicates", "near")
        assert result.article.dedup.duplicate_of == f"{1:016x}"


def test_redelivered_copy_is_recognised_as_itself_also_after_a_restart() -> None:
    stage = build_dedup_stage()
    first = stage.process(
        [
            article("", 1, text=hard("wire_original")),
            article("", 2, text=hard("wire_copy_new_lead")),
            article("", 3, text=hard("outlet_story_a")),
            article("", 4, text=hard("quote_story_a")),
        ]
    )
    records = dict(stage.state_updates())
    again = stage.process([article("", 2, text=hard("wire_copy_new_lead"), hours=9)])
    assert (
        decisions(again) == decisions(first)[1:2] and dict(stage.state_updates())[f"{2:016x}"] == records[f"{2:016x}"]
    )
    restarted = build_dedup_stage(state=[orjson.loads(orjson.dumps(r)) for r in records.values()])
    assert (
        decisions(restarted.process([article("", 2, text=hard("wire_copy_new_lead"), hours=9)]))
        == decisions(first)[1:2]
    )
    later = restarted.process(
        [
            article("", 5, text=hard("outlet_story_b")),
            article("", 6, text=hard("quote_story_b")),
            article("", 7, text=hard("wire_copy_headline_footer")),
        ]
    )
    assert [r.topic for r in later] == ["unique", "unique", "duplicates"]


def test_state_record_keeps_what_the_decision_needs_in_less_than_the_full_form() -> None:
    stage = build_dedup_stage()
    stage.process([article("", 1, text=hard("quote_story_b"))])
    [(key, record)] = stage.state_updates()
    fingerprint = stage.fingerprinter.of(hard("quote_story_b"))
    member = stage.store.lookup(key)
    assert fingerprint.quoted.size and member.lead is not None and record["lead_size"] == 32
    tested, hit, quoted = member.sketch.probe(fingerprint.shingles)
    assert tested.all() and hit.all() and np.array_equal(quoted, contains(fingerprint.quoted, fingerprint.shingles))
    assert np.array_equal(member.lead, fingerprint.lead)
    assert np.array_equal(member.lead_quoted, contains(fingerprint.quoted, fingerprint.lead))
    assert np.array_equal(member.samples, fingerprint.shingles[fingerprint.shingles < 2**32 // 32])
    assert record["shingle_count"] == fingerprint.shingles.size == member.sketch.count
    # A short text (140 words): the MinHash and the decision are most of it; 0.59 of the full form at 840 words.
    assert len(orjson.dumps(record)) < 0.8 * len(orjson.dumps(full_record(record, fingerprint)))


def test_records_written_before_leads_and_quotations_are_read_and_still_match() -> None:
    stage = build_dedup_stage()
    stage.process([article("", 1, text=hard("wire_original"))])
    [(key, record)] = stage.state_updates()
    old = {k: v for k, v in full_record(record, stage.fingerprinter.of(hard("wire_original"))).items()}
    for part in ("quoted_shingles", "lead", "lead_size"):
        old.pop(part, None)
    full = stage.fingerprinter.of(hard("wire_original")).shingles
    old["shingles"] = base64.b64encode(full.astype("<u4").tobytes()).decode("ascii")  # the whole set, as before
    Contracts().validate("dedup-state", old)
    restarted = build_dedup_stage(state=[old])
    member = restarted.store.lookup(key)
    assert member.lead is None and member.sketch.count == full.size and member.sketch.probe(full)[1].all()
    [copy] = restarted.process([article("", 2, text=hard("wire_copy_headline_footer"))])
    assert copy.article.dedup.duplicate_of == key  # judged on the new article's lead


def spans(line: str) -> list[str]:
    return [line[a:b] for a, b in quotation_spans(line)]


def test_golden_quotation_spans() -> None:
    assert spans('he said "we will win" and left') == ['"we will win"']
    assert spans("„Wir schaffen das“, sagte sie. »Nein«, rief er") == ["„Wir schaffen das“", "»Nein«"]
    assert spans("«Basta» disse. the soldiers’ wives said ‘no more’ to Russia’s war") == ["«Basta»", "‘no more’"]
    assert spans("“It continues to the end of the paragraph") == ["“It continues to the end of the paragraph"]
    assert spans("a stray “ mark " + "word " * 120) == []  # open for more than 100 words: not a quotation
    assert spans("don't, it's Russia's") == []


def test_golden_story_quotations_posts_and_lead_start() -> None:
    text = (
        "Kremlin rejects talks\nBy a staff reporter\n\nThe Kremlin said on Monday: “No talks this year.” "
        "Officials declined to comment.\n\nNo talks before spring\n— Press Office (@press_office) May 6, 2024"
    )
    story = read_story(text, load_boilerplate(), load_embeds())
    assert story.words == story_words(text, load_boilerplate())
    quoted = [w for w, q in zip(story.words, story.quoted, strict=True) if q]
    assert quoted == [
        "no",
        "talks",
        "this",
        "year",
        "no",
        "talks",
        "before",
        "spring",
        "press",
        "office",
        "press_office",
        "may",
        "6",
        "2024",
    ]
    assert story.words[story.lead_start : story.lead_start + 3] == ["the", "kremlin", "said"]  # after two title lines


# -- the normaliser, on arbitrary text ------------------------------------------------------------------------

_WORD = st.text(st.characters(categories=["Ll", "Lu", "Nd"]), min_size=1, max_size=12)
_GAP = st.sampled_from([" ", "  ", "\t", ", ", " - ", "... ", " “", "” ", "'", " — ", "!?", "(", ") "])


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalise_is_idempotent_and_case_folded(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert normalise(text.casefold()) == once
    assert once == " ".join(once.split()) and "\n" not in once


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORD, min_size=1, max_size=20), st.data())
def test_normalise_ignores_punctuation_and_spacing_between_words(words: list[str], data) -> None:
    gaps = [data.draw(_GAP) for _ in words]
    spaced = "".join(w + g for w, g in zip(words, gaps, strict=True))
    assert normalise(spaced, BOILERPLATE) == normalise(" ".join(words), BOILERPLATE)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=80).map(lambda s: s.replace("\r", " ")), max_size=8), st.data())
def test_furniture_lines_anywhere_do_not_change_the_hash(lines: list[str], data) -> None:
    furniture = data.draw(
        st.sampled_from(
            [
                "Share this article",
                "ADVERTISEMENT",
                "Read more: war latest",
                "© 2024 Reuters. All rights reserved.",
                "Related Articles",
            ]
        )
    )
    at = data.draw(st.integers(0, len(lines)))
    text = "\n".join(lines)
    with_furniture = "\n".join(lines[:at] + [furniture] + lines[at:])
    assert normalise(with_furniture, BOILERPLATE) == normalise(text, BOILERPLATE)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=40),
            st.sampled_from(
                ['"', "“", "”", "„", "«", "»", "‘", "’", "\n", "\n\n", " (@a_b) June 4, 2022", "pic.twitter.com/x"]
            ),
        ),
        max_size=30,
    )
)
def test_read_story_has_the_words_of_story_words(parts: list[str]) -> None:
    text = "".join(parts)
    story = read_story(text, BOILERPLATE, load_embeds())
    assert story.words == story_words(text, BOILERPLATE)
    assert story.quoted.shape == (len(story.words),) and 0 <= story.lead_start <= len(story.words)


# -- one text under a rewritten lead (issue 12: "the part of the text that is not shared background") ----------------

_BODY_SENTENCES = (
    "Section {n} of the harbour plan sets aside {b} berths for fishing boats and {f} for the island ferries.",
    "Engineers counted {b} cracked piles under pier {n} during the survey that ended in week {f}.",
    "The council will vote on budget line {n}, worth {b} thousand, before the recess in month {f}.",
    "Residents of street {n} asked for {f} more buses and a crossing near school number {b}.",
)


def _body(paragraphs: int = 10) -> str:
    """A long story body in short paragraphs of distinct, numbered sentences (hand-written templates)."""
    out = []
    for p in range(paragraphs):
        out.append(
            " ".join(
                s.format(n=p * 4 + i + 1, b=(p * 4 + i) * 7 + 3, f=(p * 4 + i) % 9 + 2)
                for i, s in enumerate(_BODY_SENTENCES)
            )
        )
    return "\n\n".join(out)


ORIGINAL_LEAD = (
    "The port authority has approved a ten-year plan to rebuild the old harbour, its chair told reporters on "
    "Tuesday after a vote that ended months of argument among the fishing families."
)
REWRITTEN = (
    "Readers of this site will know the harbour story well.\n\n"
    "After months of quarrels, the families who fish from the old quay finally have an answer from the men who run "
    "the port, and it is a decade of building work."
)


def test_a_repost_whose_lead_was_rewritten_is_merged_as_one_text() -> None:
    original = f"{ORIGINAL_LEAD}\n\n{_body()}"
    repost = f"{REWRITTEN}\n\n{_body()}"
    fp = fingerprinter()
    a, b = fp.of(original), fp.of(repost)
    assert lead_share(a.lead, a.lead_size, b.shingles, a.quoted[:0]) < 0.25  # neither lead is in the other text
    assert lead_share(b.lead, b.lead_size, a.shingles, b.quoted[:0]) < 0.25
    assert jaccard(a.shingles, b.shingles) >= 0.8  # but all the rest is one text
    for first, second in ((original, repost), (repost, original)):
        result = second_decision(first, second)
        assert result.article.dedup is not None
        assert (result.topic, result.article.dedup.method) == ("duplicates", "near")
        stage = build_dedup_stage()
        # without the one-text rules the lead rule keeps them apart
        stage.rules = replace(stage.rules, same_text_jaccard=1.01, document_shingles=10**6)
        stage.process([article("", 1, text=first)])
        [apart] = stage.process([article("", 2, text=second)])
        assert isinstance(apart, Emit) and apart.topic == "unique"


def test_a_shared_block_is_not_one_text_however_large_a_share_of_the_shorter_story() -> None:
    # Two briefs of one outlet, each with its own lead and a few lines of its own, and the same long block: the
    # block is most of the shorter text (containment passes), yet each keeps a story of its own (Jaccard < 0.8).
    block = _body(3)
    first = (
        "The ferry company cancelled the evening crossings on Friday because of the storm warning for the coast.\n\n"
        "Passengers with tickets can travel on Saturday morning or ask for their money back at the port office.\n\n"
        f"{block}"
    )
    second = (
        "A new fish market opened on the east quay on Monday with forty stalls run by local families.\n\n"
        "The market will open every day except Sunday, and the first week's rents were waived by the council.\n\n"
        f"{block}"
    )
    fp = fingerprinter()
    a, b = fp.of(first), fp.of(second)
    assert similarity(a.shingles, b.shingles) >= 0.5 and jaccard(a.shingles, b.shingles) < 0.8
    assert second_decision(first, second).topic == "unique"
    assert second_decision(second, first).topic == "unique"


def test_a_document_carried_in_full_under_two_framings_is_one_text() -> None:
    # One outlet quotes and paraphrases a joint statement, another prints it under its own intro: the statement is
    # far longer than any background block or quotation and most of both texts, so they are one text without a
    # shared lead. The same framings around a block of background length stay apart (the test above).
    document = _body(9)
    first = (
        "Forty harbour towns have signed a joint statement on the future of coastal shipping, the league said.\n\n"
        "The statement was published on the league's website after a two-day meeting in the old customs house.\n\n"
        "Delegates from the northern ports had pressed for stronger language on dredging, officials said, but the "
        "final wording was agreed by all of them late on Thursday evening.\n\n"
        f"{document}\n\nThe league will meet again in the spring, when the new chair takes office."
    )
    second = (
        "Here is the full text of the declaration adopted by the member towns at the close of their conference.\n\n"
        "It was read out by the mayor of the host town and approved without a vote.\n\n"
        "Our correspondent, who followed both days of talks, says the text is the longest the league has agreed "
        "since it was founded after the war by a handful of fishing villages.\n\n"
        f"{document}\n\nPhoto: the league's press office"
    )
    fp = fingerprinter()
    a, b = fp.of(first), fp.of(second)
    assert lead_share(a.lead, a.lead_size, b.shingles, a.quoted[:0]) < 0.25  # no shared lead
    assert lead_share(b.lead, b.lead_size, a.shingles, b.quoted[:0]) < 0.25
    assert 0.5 <= jaccard(a.shingles, b.shingles) < 0.8  # not one text by the rewritten-lead rule
    for one, other in ((first, second), (second, first)):
        result = second_decision(one, other)
        assert result.article.dedup is not None
        assert (result.topic, result.article.dedup.method) == ("duplicates", "near")
        stage = build_dedup_stage()
        stage.rules = replace(stage.rules, document_shingles=10**6)  # without the rule the lead rule keeps them apart
        stage.process([article("", 1, text=one)])
        [apart] = stage.process([article("", 2, text=other)])
        assert isinstance(apart, Emit) and apart.topic == "unique"
