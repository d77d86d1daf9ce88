"""dedup through real Kafka with a snapshot: a worker restarted after one loads it, replays only the state records
written after its offsets (here: another worker's decision), and decides later copies right; with the snapshot
spoiled, it says why, replays the whole state topic, and still decides right."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline import kafka_io
from pipeline.kafka_io import Outgoing, TopicPartition
from pipeline.sources.files import build_article
from pipeline.stages.deduplicate import build_dedup_stage
from tests.integration.conftest import drain, produce_raw, read_json, settings_env

pytestmark = pytest.mark.integration


def _end_offsets(settings, topic: str) -> dict[int, int]:
    client = kafka_io.consumer(settings, None)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(client.partitions_for_topic(topic))]
        return {tp.partition: offset for tp, offset in client.end_offsets(partitions).items()}
    finally:
        client.close()


def _snapshot_offsets(path: Path) -> dict[int, int]:
    with np.load(path) as npz:
        return {int(p): o for p, o in json.loads(npz["meta"].tobytes())["offsets"].items()}


def _restart(settings) -> list[dict]:
    """`newsflow worker dedup --until-drained` as its own process; its log events."""
    env = settings_env(settings.model_copy(update={"log_level": "INFO"}))
    run = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "worker", "dedup", "--until-drained"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]


def _decided(settings) -> dict[str, dict]:
    """The last dedup decision per article, from the unique and duplicates topics."""
    final = {}
    for key in ("unique", "duplicates"):
        for record in read_json(settings, key):
            final[record["article_id"]] = record["dedup"]
    return final


def test_a_restarted_dedup_worker_restores_from_its_snapshot_and_the_records_after_it(
    settings, seeds_dir: Path, tmp_path: Path
) -> None:
    s = settings.model_copy(update={"dedup_snapshot_dir": tmp_path / "snapshots"})
    state_topic = s.topic("dedup-state")
    snapshot = tmp_path / "snapshots" / f"{state_topic}.npz"
    texts = [p.read_text() for p in sorted(seeds_dir.glob("*.txt"))]

    def article(text: str, url: str):
        return build_article(text=text, url=url, published="2022-12-19T10:00:00Z")

    first = [article(t, f"https://first.example/{n}") for n, t in enumerate(texts[:4])]
    produce_raw(s, first)
    drain(s, ["detect", "translate", "dedup"])  # the dedup worker stops cleanly: it writes its snapshot
    assert snapshot.exists()

    # Another dedup worker (another machine, no snapshot of its own) decides seed 4 after that snapshot.
    elsewhere = article(texts[4], "https://elsewhere.example/4")
    other = build_dedup_stage(s.model_copy(update={"dedup_snapshot": False}))
    other.process([elsewhere])
    kafka_io.produce_confirmed(s, [Outgoing(state_topic, k, v) for k, v in other.state_updates()])
    tail = sum(_end_offsets(s, state_topic).values()) - sum(_snapshot_offsets(snapshot).values())
    assert tail >= 1

    copy_first = article("Exclusive: another headline\n" + texts[0] + "\nRelated Articles", "https://copy.example/0")
    copy_elsewhere = article(texts[4].replace("the ", "teh ", 3), "https://copy.example/4")
    produce_raw(s, [copy_first, copy_elsewhere])
    drain(s, ["detect", "translate"])
    events = _restart(s)

    [restored] = [e for e in events if e["event"] == "state restored"]
    assert str(snapshot) in restored["snapshot"] and "(4 members" in restored["snapshot"]
    assert restored["records"] == tail  # only what was written after the snapshot's offsets
    assert not [e for e in events if e["event"].startswith("state snapshot not used")]
    decided = _decided(s)
    assert decided[copy_first.article_id]["duplicate_of"] == first[0].article_id  # known from the snapshot
    assert decided[copy_elsewhere.article_id]["duplicate_of"] == elsewhere.article_id  # known from the tail only

    # A spoiled snapshot: the worker says why, replays the whole state topic, and decides as well.
    snapshot.write_bytes(snapshot.read_bytes()[:1000])
    copy_second = article(texts[1] + "\nShare on Facebook", "https://copy.example/1")
    produce_raw(s, [copy_second])
    drain(s, ["detect", "translate"])
    written = sum(_end_offsets(s, state_topic).values())
    events = _restart(s)

    [fallback] = [e for e in events if e["event"] == "state snapshot not used: replayed the whole state topic"]
    assert "is unreadable" in fallback["reason"]
    [restored] = [e for e in events if e["event"] == "state restored"]
    assert restored["snapshot"] is None and restored["records"] == written
    assert _decided(s)[copy_second.article_id]["duplicate_of"] == first[1].article_id
    assert snapshot.stat().st_size > 1000  # rewritten whole at the clean stop
