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
from pipeline.operations.audit import compute_ledger
from pipeline.operations.dlq import replay_dlq
from pipeline.operations.reindex import reindex
from pipeline.operations.status import pipeline_status
from pipeline.sinks.elasticsearch import IndexAdmin, client
from tests.conftest import wait_for
from tests.integration.conftest import drain, es_ids, produce_raw, read_json, settings_env
from tests.integration.test_resilience import _articles, _indexed

pytestmark = pytest.mark.integration


def test_status_tells_the_truth_about_a_running_pipeline(settings, seeds_dir: Path) -> None:
    produce_raw(settings, _articles(seeds_dir, 200))
    env = settings_env(settings.model_copy(update={"batch_size": 5}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", "--follow"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
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

    cli = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(cli.stdout)
    assert report["indexed"] == 200 and report["ledger"]["balanced"] is True
    assert {row["stage"] for row in report["stages"]} == {"detect", "translate", "dedup", "enrich", "index"}


def test_dlq_replay_sends_the_original_bytes_back(settings) -> None:
    from pipeline.sources.files import build_article

    article = build_article(text="Odesa port was hit.", title="Odesa", url="https://example.org/odesa")
    broken = article.to_wire() | {"published_at": "yesterday"}
    producer = kafka_io.producer(settings)
    producer.send(settings.topic("raw"), key=article.article_id.encode(), value=orjson.dumps(broken)).get(timeout=30)
    drain(settings)
    (record,) = read_json(settings, "dlq")
    assert record["error"]["class"] == "EntryError" and "published_at" in record["error"]["message"]

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
                hits = es.search(
                    index=settings.index_alias, query={"match": {"text": "Zelensky"}}, size=0, track_total_hits=True
                )
                answers.append(hits["hits"]["total"]["value"])
            except Exception as exc:  # noqa: BLE001 - any failure is what the test looks for
                failures.append(repr(exc))

    searcher = threading.Thread(target=search_loop)
    searcher.start()
    try:
        report = reindex(settings, es)
    finally:
        stop.set()
        searcher.join(timeout=30)
    assert failures == []
    assert len(answers) > 3 and min(answers) > 0
    assert (report.index, report.previous, report.copied, report.refused, report.swapped) == (
        f"{settings.index_alias}-v2",
        [f"{settings.index_alias}-v1"],
        300,
        [],
        True,
    )
    assert IndexAdmin(es, settings).state().indices == (report.index,)
    assert es_ids(settings).keys() == before.keys()


# Valid by the contract (any positive integer), too large for the template's `integer`.
HUGE_COUNT = [{"name": "Kharkiv", "label": "GPE", "mentions": ["Kharkiv"], "count": 2**40, "wikidata": None}]


def test_reindex_keeps_the_alias_when_the_new_index_refuses_a_document(settings, seeds_dir: Path, capsys) -> None:
    from pipeline.operations.reindex import write_index
    from pipeline.sinks.elasticsearch import ElasticsearchSink
    from pipeline.sources.files import read_paths
    from tests.integration.test_end_to_end import main_env

    es, alias = client(settings), settings.index_alias
    # The index in use was made under a laxer mapping (entities.count: long) than the template's now.
    es.indices.delete(index=f"{alias}-v1")
    es.indices.create(
        index=f"{alias}-v1",
        aliases={alias: {"is_write_index": True}},
        mappings={"properties": {"entities": {"properties": {"count": {"type": "long"}}}}},
    )
    produce_raw(settings, read_paths([seeds_dir]))
    drain(settings)
    victim = sorted(es_ids(settings))[0]
    es.update(index=f"{alias}-v1", id=victim, doc={"entities": HUGE_COUNT}, refresh=True)
    before = es_ids(settings)
    assert len(before) == 5 and before[victim]["entities"] == HUGE_COUNT

    # An index worker writes while the copy runs (the new index is the write index then): kept on the way back.
    (live,) = _articles(seeds_dir, 1)
    sink, written_live = ElasticsearchSink(es, settings), []

    def write_live(_: int) -> None:
        if not written_live:
            written_live.append(sink.write([live]))

    report = reindex(settings, es, on_progress=write_live)

    assert written_live == [[None]]
    assert (report.index, report.previous, report.swapped) == (f"{alias}-v2", [f"{alias}-v1"], False)
    assert [r.article_id for r in report.refused] == [victim]
    assert "entities.count" in report.refused[0].reason
    assert (report.copied, report.copied_back) == (4, 1)
    assert IndexAdmin(es, settings).state().indices == (f"{alias}-v1",) and write_index(es, alias) == f"{alias}-v1"
    assert es.indices.exists(index=f"{alias}-v2"), "the new index is kept for inspection"
    after = es_ids(settings)
    assert set(after) == set(before) | {live.article_id}  # nothing vanished from search, the live write included
    assert es.count(index=alias)["count"] == 6  # and nothing shows twice

    assert main_env(settings, ["reindex"]) == 1
    out = capsys.readouterr()
    assert victim in out.err and "[entities.count]" in out.err
    flat = " ".join(out.err.split())
    assert f"{alias} still points at {alias}-v1" in flat and "--accept-loss" in flat
    assert IndexAdmin(es, settings).state().indices == (f"{alias}-v1",)

    assert main_env(settings, ["reindex", "--accept-loss"]) == 0
    out = capsys.readouterr()
    assert victim in out.err and f"{alias} -> {alias}-v4" in out.out
    assert IndexAdmin(es, settings).state().indices == (f"{alias}-v4",)
    assert set(es_ids(settings)) == set(after) - {victim}
