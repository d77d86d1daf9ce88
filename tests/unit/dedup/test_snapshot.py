"""Snapshots of the dedup store (pipeline/dedup/snapshot.py): round trip, restart from a snapshot plus the records
after its offsets, refusal of unusable snapshots (then the whole topic is replayed), when they are written."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import orjson
import pytest

from pipeline.config import Settings
from pipeline.dedup.snapshot import Snapshots
from pipeline.stages.deduplicate import DedupStage, build_dedup_stage
from tests.unit.dedup.synthetic import signature
from tests.unit.stages.test_deduplicate import _stream, decisions

TOPIC = "news.dedup-state.v1"
KAFKA = "127.0.0.1:9092"


def stage_at(directory: Path, **settings) -> DedupStage:
    """A dedup stage whose snapshots go to `directory`."""
    built = build_dedup_stage(Settings(dedup_snapshot_dir=directory, bootstrap_servers=KAFKA, **settings))
    assert built.checkpoint is not None
    return built


def test_restart_from_a_snapshot_and_the_records_after_it_gives_the_same_decisions(tmp_path: Path) -> None:
    stream = _stream()
    expected = decisions(build_dedup_stage(Settings()).process(stream))
    log: list[tuple[str, bytes | None]] = []  # one partition of the state topic, as on the wire
    before = stage_at(tmp_path)
    got, covered = [], 0
    for start in range(0, 24, 4):
        got += before.process(stream[start : start + 4])
        log += [(k, None if v is None else orjson.dumps(v)) for k, v in before.state_updates()]
        if start == 12:  # between batches, as the state tail writes it: 16 articles decided and written
            covered = len(log)
            before.checkpoint.save_snapshot(TOPIC, {0: covered})
    after = stage_at(tmp_path)  # restarted: the snapshot, then only the records after its offset
    offsets, note = after.checkpoint.load_snapshot(TOPIC)
    assert offsets == {0: covered} and len(after.store) == 16 and "16 members" in note
    after.restore([(k, None if v is None else orjson.loads(v)) for k, v in log[offsets[0] :]])
    assert list(after.store.records()) == list(before.store.records())
    got += after.process(stream[24:])
    assert decisions(got) == expected


def _corrupt_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _rewrite_meta(path: Path, **changes) -> None:
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    meta = {**json.loads(arrays["meta"].tobytes()), **changes}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (lambda p: p.unlink(), "there is no snapshot at"),
        (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "is unreadable"),
        (_corrupt_byte, "is unreadable"),
        (lambda p: _rewrite_meta(p, format=0), "it was made with format 0, this worker has 1"),
        (lambda p: _rewrite_meta(p, kafka="other:9092"), "it was made with kafka 'other:9092'"),
        (lambda p: _rewrite_meta(p, shingling="words4.x"), "it was made with shingling 'words4.x'"),
    ],
)
def test_an_unusable_snapshot_is_refused_with_the_reason_and_the_store_left_empty(
    tmp_path: Path, spoil, reason
) -> None:
    stage = stage_at(tmp_path)
    stage.process(_stream()[:6])
    stage.state_updates()
    stage.checkpoint.save_snapshot(TOPIC, {0: 6})
    spoil(tmp_path / f"{TOPIC}.npz")
    restarted = stage_at(tmp_path)
    restarted.process(_stream()[6:8])  # something in the store that a failed load must not leave behind
    offsets, why = restarted.checkpoint.load_snapshot(TOPIC)
    assert offsets is None and reason in why and len(restarted.store) == 0


def test_a_snapshot_of_another_shingling_is_refused(tmp_path: Path) -> None:
    writer = stage_at(tmp_path, dedup_shingle_words=4)
    writer.process(_stream()[:2])
    writer.state_updates()
    writer.checkpoint.save_snapshot(TOPIC, {0: 2})
    offsets, why = stage_at(tmp_path).checkpoint.load_snapshot(TOPIC)
    assert offsets is None and "shingling 'words4." in why


def test_a_snapshot_made_with_other_lsh_bands_or_samples_rebuilds_those_postings(tmp_path: Path) -> None:
    writer = stage_at(tmp_path, dedup_lsh_threshold=0.5)
    rng = np.random.default_rng(3)
    signatures = [signature(writer.fingerprinter, n, 1e9 + n, rng) for n in range(300)]
    for s in signatures:
        writer.store.add(s)
    writer.checkpoint.count(300)
    writer.checkpoint.save_snapshot(TOPIC, {0: 300, 1: 0})
    reader = stage_at(tmp_path)  # LSH threshold 0.3: other bands
    assert reader.checkpoint.load_snapshot(TOPIC)[0] == {0: 300, 1: 0}
    replayed = build_dedup_stage(Settings())
    replayed.store.rebuild(writer.store.records())
    for s in signatures[::29]:
        ids = [m.article_id for m in reader.store.candidates(s.minhash, s.shingles)]
        assert ids == [m.article_id for m in replayed.store.candidates(s.minhash, s.shingles)] == [s.article_id]
    assert reader.store._by_band.run()[0].size == replayed.store._by_band.run()[0].size == 300 * reader.store.bands


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_snapshot_is_due_every_n_records_or_m_seconds_never_mid_batch(tmp_path: Path) -> None:
    clock, pending = Clock(), [False]
    snapshots = Snapshots(
        build_dedup_stage(Settings()).store,
        tmp_path,
        kafka=KAFKA,
        every_records=100,
        every_s=60,
        pending=lambda: pending[0],
        clock=clock,
    )
    assert not snapshots.snapshot_due() and not snapshots.snapshot_due(closing=True)  # nothing changed
    snapshots.count(1)
    assert not snapshots.snapshot_due() and snapshots.snapshot_due(closing=True)
    clock.now = 61
    assert snapshots.snapshot_due()
    pending[0] = True  # decisions not yet handed to the runner: the store is ahead of the topic
    assert not snapshots.snapshot_due() and not snapshots.snapshot_due(closing=True)
    pending[0] = False
    snapshots.save_snapshot(TOPIC, {0: 1})
    assert not snapshots.snapshot_due()
    snapshots.count(100)
    assert snapshots.snapshot_due()


def test_snapshots_are_written_atomically_by_concurrent_writers(tmp_path: Path) -> None:
    stages = [stage_at(tmp_path) for _ in range(2)]
    for n, stage in enumerate(stages):
        stage.process(_stream()[: 10 + n])
        stage.state_updates()

    def write(stage: DedupStage, n: int) -> None:
        for _ in range(4):
            stage.checkpoint.count(1)
            stage.checkpoint.save_snapshot(TOPIC, {0: 10 + n})

    threads = [threading.Thread(target=write, args=(s, n)) for n, s in enumerate(stages)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [p.name for p in tmp_path.iterdir()] == [f"{TOPIC}.npz"]  # no temporary file left
    reader = stage_at(tmp_path)
    offsets, _ = reader.checkpoint.load_snapshot(TOPIC)
    assert offsets is not None and len(reader.store) == offsets[0]  # a whole snapshot, with its own offsets


def test_a_snapshot_that_cannot_be_written_is_logged_and_retried_later(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    stage = stage_at(blocked)
    stage.process(_stream()[:2])
    stage.state_updates()
    stage.checkpoint.save_snapshot(TOPIC, {0: 2})  # no exception: the state topic stays the truth
    assert stage.checkpoint.since == 2 and not stage.checkpoint.snapshot_due()  # not before the interval


def test_other_topics_snapshots_older_than_the_window_are_removed_when_one_is_written(tmp_path: Path) -> None:
    stage = stage_at(tmp_path, dedup_window_days=1)
    stage.process(_stream()[:2])
    stage.state_updates()
    old = time.time() - 2 * 86_400
    stale, fresh, unrelated = (
        tmp_path / n for n in ("t1.news.dedup-state.v1.npz", "t2.news.dedup-state.v1.npz", "x.npz")
    )
    for path in (stale, fresh, unrelated):
        path.write_bytes(b"")
    os.utime(stale, (old, old))
    os.utime(unrelated, (old, old))
    stage.checkpoint.save_snapshot(TOPIC, {0: 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"{TOPIC}.npz", fresh.name, unrelated.name])
