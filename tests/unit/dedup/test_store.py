"""The compact store (pipeline/dedup/state.py, postings.py): members in columns, postings in sorted arrays."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.dedup.fingerprint import distinct
from pipeline.dedup.layout import band_keys, lsh_bands
from pipeline.dedup.members import id_number
from pipeline.dedup.postings import SMALL, Postings, merge_sorted
from pipeline.dedup.state import DedupStore
from tests.stage_settings import dedup_stage
from tests.unit.dedup.synthetic import random_set, signature

START = 1_735_689_600.0


def filled(count: int, seed: int = 7) -> tuple[DedupStore, list]:
    store = dedup_stage().store
    rng = np.random.default_rng(seed)
    signatures = [signature(store.fingerprinter, n, START + n, rng) for n in range(count)]
    for s in signatures:
        store.add(s)
    return store, signatures


def found(store: DedupStore, s, shingles: np.ndarray | None = None) -> list[str]:
    """Ids of the candidates of a signature (or of a MinHash and a shingle set)."""
    if shingles is None:
        s, shingles = s.minhash, s.shingles
    return [m.article_id for m in store.candidates(s, shingles)]


def test_a_member_is_its_signature_compacted_and_reads_back_the_same() -> None:
    store, signatures = filled(3)
    for s in signatures:
        member = store.lookup(s.article_id)
        assert member.to_state_record() == s.to_state_record()
        assert member.sketch.count == s.shingles.size and np.array_equal(member.minhash, s.minhash)
    assert store.lookup(f"{99:016x}") is None and len(store) == 3


def test_a_store_of_synthetic_articles_costs_under_3_kb_per_article() -> None:
    store, _ = filled(2_000)
    store.compact()
    assert store.nbytes() / len(store) < 3 * 1024  # measured at 100k by benchmarks/bench_dedup_state.py


def test_candidates_are_the_lsh_buckets_and_the_shared_samples() -> None:
    store, signatures = filled(500)
    target = signatures[123]
    assert found(store, target) == [target.article_id]
    # Half of article 123 inside a page five times its length: Jaccard ~0.1, found by its shared samples.
    page = distinct(np.concatenate([target.shingles[::2], random_set(5 * target.shingles.size, 11)]))
    assert found(store, store.fingerprinter.signature(page), page) == [target.article_id]
    store.max_postings = 0  # samples shared by more members than this are stock phrases: not asked
    assert found(store, store.fingerprinter.signature(page), page) == []


def test_eviction_forgets_the_oldest_first_and_compaction_keeps_every_lookup() -> None:
    store, signatures = filled(3_000)
    evicted = store.evict(START + 2_000)
    assert evicted == [s.article_id for s in signatures[:2_000]]  # oldest first
    assert store._n == 1_000  # removed rows reclaimed (more than an eighth of the rows were removed)
    assert len(store) == 1_000 and store.evict(START + 2_000) == []
    for s in signatures[:2_000:97]:
        assert store.lookup(s.article_id) is None and s.article_id not in found(store, s)
    for s in signatures[2_000::37]:
        assert store.lookup(s.article_id).to_state_record() == s.to_state_record()
        assert found(store, s) == [s.article_id]
    same = dedup_stage().store
    same.rebuild(store.records())
    assert list(same.records()) == list(store.records())
    assert all(found(same, s) == found(store, s) for s in signatures[2_000::50])


def test_replacing_a_member_keeps_one_row_per_article() -> None:
    store, signatures = filled(2)
    again = signatures[0]
    store.add(again)
    store.add(again)
    assert len(store) == 2 and store.remove(again.article_id) is not None and store.remove(again.article_id) is None
    assert [m.article_id for m in store.with_content(f"{1:064x}")] == [signatures[1].article_id]


def test_postings_merge_runs_and_drop_removed_rows() -> None:
    alive = np.ones(3 * SMALL, dtype=bool)
    postings = Postings(np.uint32, lambda: alive)
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 1_000, 2 * SMALL + 100).astype(np.uint32)
    for row, key in enumerate(keys):
        postings.add(np.array([key], dtype=np.uint32), row)
    alive[::2] = False
    which, rows = postings.find(np.array([5, 6], dtype=np.uint32))
    live = rows[alive[rows]]
    assert sorted(live.tolist()) == sorted(r for r in range(keys.size) if keys[r] in (5, 6) and r % 2)
    merged_keys, merged_rows = postings.run()
    assert np.all(np.diff(merged_keys.astype(np.int64)) >= 0) and alive[merged_rows].all()
    assert merge_sorted(
        np.array([1, 3], np.uint32), np.array([0, 1], np.uint32), np.array([2], np.uint32), np.array([9], np.uint32)
    )[1].tolist() == [0, 9, 1]


def test_band_keys_are_equal_exactly_when_a_band_is() -> None:
    bands, rows = lsh_bands(0.3, 128)
    minhash = np.random.default_rng(2).integers(0, 2**32, (2, 128), dtype=np.uint64).astype(np.uint32)
    minhash[1, rows : 2 * rows] = minhash[0, rows : 2 * rows]  # band 1 shared
    keys = band_keys(minhash, bands, rows)
    assert (keys[0] == keys[1]).tolist() == [b == 1 for b in range(bands)]
    assert len(set(keys[0].tolist())) == bands  # the band number is part of the key


@pytest.mark.parametrize("bad", ["0000000000000001x", "000000000000000A", "1", "g000000000000000"])
def test_article_ids_are_16_lower_case_hex_digits(bad: str) -> None:
    assert id_number("00000000000000ff") == 255
    with pytest.raises(ValueError):
        id_number(bad)
