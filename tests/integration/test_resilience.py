"""Crashes, stops and outages: nothing lost, nothing indexed twice, the sink waits for Elasticsearch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipeline import kafka_io
from pipeline.contracts import Contracts
from pipeline.localstack.processes import group_members
from pipeline.localstack.stack import LocalStack
from pipeline.operations.audit import compute_ledger
from pipeline.registry import build_stage
from pipeline.runner import StageWorker, run_workers
from pipeline.sinks.elasticsearch import client
from pipeline.sources.files import build_article
from tests.conftest import wait_for
from tests.integration.conftest import drain, es_ids, produce_raw, settings_env

pytestmark = pytest.mark.integration


def _articles(seeds_dir: Path, n: int):
    """`n` distinct articles made from the seed texts."""
    texts = [p.read_text() for p in sorted(seeds_dir.glob("*.txt"))]
    return [
        build_article(
            text=f"Update {i}.\n\n{texts[i % len(texts)]}", title=f"Report {i}", url=f"https://example.org/live/{i}"
        )
        for i in range(n)
    ]


def _indexed(settings) -> int:
    es = client(settings)
    es.indices.refresh(index=settings.index_alias)
    return es.count(index=settings.index_alias)["count"]


def test_sigkill_mid_run_then_restart_loses_nothing_and_indexes_nothing_twice(settings, seeds_dir: Path) -> None:
    articles = _articles(seeds_dir, 300)
    produce_raw(settings, articles)
    env = settings_env(settings.model_copy(update={"batch_size": 10}))
    run = [sys.executable, "-m", "pipeline.cli", "run", "--follow"]
    proc = subprocess.Popen(run, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: _indexed(settings) >= 20, 120, "the first articles to be indexed")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # Every worker process of the run was in its group and got the SIGKILL too; a big one takes a moment to go.
    wait_for(lambda: not group_members(proc.pid), 30, "every process of the killed run to be gone")
    assert _indexed(settings) < 300, "the run finished before it was killed: nothing was tested"

    restart = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", "--timeout", "240"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert restart.returncode == 0, restart.stderr[-2000:]
    docs = es_ids(settings)
    assert sorted(docs) == sorted(a.article_id for a in articles)
    ledger = compute_ledger(settings, client(settings))
    assert ledger.balanced, ledger.to_dict()
    # Built from five seed texts: five stories, the rest their near-duplicates.
    assert (ledger.raw, ledger.unique, ledger.duplicates, ledger.dlq) == (300, 5, 295, 0)


def test_sigterm_finishes_the_batch_commits_and_exits(settings, seeds_dir: Path) -> None:
    produce_raw(settings, _articles(seeds_dir, 200))
    env = settings_env(settings.model_copy(update={"batch_size": 5, "log_level": "INFO"}))  # its info lines are checked
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "worker", "detect"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        detected = settings.topic("detected")
        wait_for(lambda: _topic_size(settings, detected) >= 10, 60, "the detect worker to produce")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err[-2000:]
    produced = _topic_size(settings, detected)
    assert produced < 200, "the worker finished before it was stopped: nothing was tested"
    # Every produced article's input offset was committed: a restart will not redo a finished batch.
    assert kafka_io.group_lag(settings, settings.group("detect"), [settings.topic("raw")]) == 200 - produced
    assert '"stop requested"' in err and "SIGTERM" in err


def _topic_size(settings, topic: str) -> int:
    c = kafka_io.consumer(settings, None)
    try:
        tps = [kafka_io.TopicPartition(topic, p) for p in c.partitions_for_topic(topic) or ()]
        return sum(c.end_offsets(tps).values())
    finally:
        c.close()


def test_index_sink_waits_for_elasticsearch_and_resumes_by_itself(settings, stack_settings, seeds_dir: Path) -> None:
    produce_raw(settings, _articles(seeds_dir, 5))
    drain(settings, ["detect", "translate", "dedup", "enrich"])
    stack = LocalStack(stack_settings)
    stack.down(("elasticsearch",))
    stop = threading.Event()
    worker = StageWorker(build_stage("index", settings), settings, Contracts(), stop=stop)
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(drained=run_workers([worker], stop, timeout_s=300)))
    try:
        thread.start()
        wait_for(lambda: worker.counters.retries >= 2, 60, "the index worker to retry while Elasticsearch is down")
        assert worker.counters.consumed == 0  # nothing committed while it cannot index
    finally:
        stack.up(("elasticsearch",))
    thread.join(timeout=300)
    worker.close()
    assert result.get("drained") is True
    assert len(es_ids(settings)) == 5
    assert compute_ledger(settings, client(settings)).balanced
