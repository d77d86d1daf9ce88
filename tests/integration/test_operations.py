"""Operator commands against the real stack: status while a run is in progress, DLQ replay, reindex."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import orjson
import pytest

from pipeline import kafka_io
from pipeline.audit import compute_ledger
from pipeline.operations import pipeline_status, reindex, replay_dlq
from pipeline.sinks.elasticsearch import IndexAdmin, client
from tests.conftest import wait_for
from tests.integration.conftest import drain, es_ids, produce_raw, read_json, settings_env
from tests.integration.test_resilience import _articles, _indexed

pytestmark = pytest.mark.integration


def test_status_tells_the_truth_about_a_running_pipeline(settings, seeds_dir: Path) -> None:
    produce_raw(settings, _articles(seeds_dir, 200))
    env = settings_env(settings.model_copy(update={"batch_size": 5}))
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run", "--follow"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: 10 <= _indexed(settings) < 150, 120, "a run in progress")
        during = pipeline_status(settings, client(settings))
        by_stage = {row.stage: row for row in during.stages}
        assert sum(row.lag for row in during.stages) > 0  # work is waiting somewhere
        assert by_stage["detect"].produced_last_minute > 0
        assert by_stage["index"].produced_last_minute > 0
        assert 0 < during.indexed < 200
        assert during.newest_indexed_age_s is not None and during.newest_indexed_age_s < 120
        wait_for(lambda: _indexed(settings) == 200, 240, "the run to finish")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    after = pipeline_status(settings, client(settings))
    assert [row.lag for row in after.stages] == [0, 0, 0, 0, 0]
    assert after.indexed == 200

    cli = subprocess.run([sys.executable, "-m", "pipeline.cli", "status", "--json"], env=env,
                         capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(cli.stdout)
    assert report["indexed"] == 200 and report["ledger"]["balanced"] is True
    assert {row["stage"] for row in report["stages"]} == {"detect", "translate", "dedup", "enrich", "index"}


def test_dlq_replay_sends_the_original_bytes_back(settings) -> None:
    from pipeline.ingest import build_article

    article = build_article(text="Odesa port was hit.", title="Odesa", url="https://example.org/odesa")
    broken = article.to_wire() | {"published_at": "yesterday"}
    producer = kafka_io.producer(settings)
    producer.send(settings.topic("raw"), key=article.article_id.encode(), value=orjson.dumps(broken)).get(timeout=30)
    drain(settings)
    (record,) = read_json(settings, "dlq")
    assert record["error"]["class"] == "ContractError" and "published_at" in record["error"]["message"]

    assert len(replay_dlq(settings, stage="detect", dry_run=True)) == 1
    assert replay_dlq(settings, stage="index") == []
    (replayed,) = replay_dlq(settings, stage="detect")
    raw = [r for r in kafka_io.read_topic(settings, settings.topic("raw"))]
    assert len(raw) == 2 and raw[0].value == raw[1].value and raw[1].key == article.article_id.encode()
    drain(settings)
    assert len(read_json(settings, "dlq")) == 2  # still broken: dead-lettered again, not lost
    assert compute_ledger(settings, client(settings)).balanced


def test_reindex_swaps_the_alias_while_searches_keep_answering(settings, seeds_dir: Path) -> None:
    produce_raw(settings, _articles(seeds_dir, 300))
    drain(settings)
    es = client(settings)
    before = es_ids(settings)
    assert len(before) == 300

    failures, answers, stop = [], [], threading.Event()

    def search_loop() -> None:
        while not stop.is_set():
            try:
                hits = es.search(index=settings.index_alias, query={"match": {"text": "Zelensky"}}, size=0,
                                 track_total_hits=True)
                answers.append(hits["hits"]["total"]["value"])
            except Exception as exc:  # noqa: BLE001 - any failure is what the test looks for
                failures.append(repr(exc))

    searcher = threading.Thread(target=search_loop)
    searcher.start()
    try:
        new, old, copied = reindex(settings, es)
    finally:
        stop.set()
        searcher.join(timeout=30)
    assert failures == []
    assert len(answers) > 3 and min(answers) > 0
    assert (new, old, copied) == (f"{settings.index_alias}-v2", [f"{settings.index_alias}-v1"], 300)
    assert IndexAdmin(es, settings).state().indices == (new,)
    assert es_ids(settings).keys() == before.keys()
