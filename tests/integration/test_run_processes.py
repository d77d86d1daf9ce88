"""`newsflow run` with a process per worker: several enrich processes share the group, the run drains, a
SIGTERM stops every process cleanly, and a worker that gives up stops the run with its exit code."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import psutil
import pytest
from kafka.errors import KafkaError

from pipeline import kafka_io
from pipeline.localstack.processes import group_members
from pipeline.localstack.stack import LocalStack
from pipeline.operations.audit import compute_ledger
from pipeline.sinks.elasticsearch import client
from tests.conftest import wait_for
from tests.integration.conftest import es_ids, produce_raw, read_json, settings_env
from tests.integration.test_resilience import _articles

pytestmark = pytest.mark.integration


def _members(settings, stage: str) -> int:
    """Members of a stage's consumer group, as the broker sees them."""
    admin = kafka_io.admin(settings)
    try:
        group = admin.describe_groups([settings.group(stage)])[settings.group(stage)]
        return len(group.get("members") or ())
    except KafkaError:  # no coordinator yet: a fresh broker elects it when the first group asks
        return 0
    finally:
        admin.close()


def _free_ports(n: int) -> int:
    """The first of `n` consecutive free ports on loopback."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + n > 65535:
            continue
        try:
            with contextlib.ExitStack() as held:
                for port in range(base, base + n):
                    s = held.enter_context(socket.socket())
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError(f"no {n} consecutive free ports")


def _scrape(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            return response.read().decode()
    except OSError:
        return ""


def test_run_drains_with_two_enrich_processes_and_stops_on_sigterm(settings, seeds_dir: Path) -> None:
    articles = _articles(seeds_dir, 40)
    produce_raw(settings, articles)
    port = _free_ports(6)
    env = settings_env(settings.model_copy(update={"batch_size": 5, "run_workers": "enrich=2", "metrics_port": port}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", "--follow"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(lambda: _members(settings, "enrich") == 2, 120, "two enrich processes in the enrich group")
        assert _members(settings, "detect") == 1
        workers = psutil.Process(proc.pid).children()
        assert len(workers) == 6, [w.cmdline() for w in workers]  # detect, translate, dedup, 2 x enrich, index
        wait_for(lambda: len(es_ids(settings)) == 40, 240, "every article indexed")
        # Each process serves its own metrics, on the setting's port counted up in plan order.
        stages = ["detect", "translate", "dedup", "enrich", "enrich", "index"]
        for offset, stage in enumerate(stages):
            assert f'stage="{stage}"' in wait_for(lambda o=offset: _scrape(port + o), 30, f"metrics of {stage}")
        enriched = sum(
            float(line.rsplit(" ", 1)[1])
            for o in (3, 4)
            for line in _scrape(port + o).splitlines()
            if line.startswith("newsflow_messages_in_total{") and 'stage="enrich"' in line
        )
        assert enriched == len(read_json(settings, "unique"))  # the two enrich processes took every unique article
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == 0, err[-3000:]
    assert not group_members(proc.pid), "a worker process outlived the run"
    assert "enrich ×2" in out and "stopped by signal" in err
    assert _members(settings, "enrich") == 0  # every process left its group
    ledger = compute_ledger(settings, client(settings), settle_s=0)
    assert ledger.balanced and (ledger.raw, ledger.unique + ledger.duplicates) == (40, 40), ledger.to_dict()


def test_run_without_follow_exits_when_the_chain_is_drained(settings, seeds_dir: Path) -> None:
    articles = _articles(seeds_dir, 15)
    produce_raw(settings, articles)
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", "--workers", "enrich=2,detect=2", "--timeout", "300"],
        env=settings_env(settings.model_copy(update={"batch_size": 4})),
        capture_output=True,
        text=True,
        timeout=360,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(es_ids(settings)) == sorted(a.article_id for a in articles)
    for stage in ("detect", "translate", "dedup", "enrich", "index"):
        sources = {"detect": "raw", "translate": "detected", "dedup": "translated", "enrich": "unique"}
        topics = [settings.topic(sources[stage])] if stage in sources else [settings.topic("enriched")]
        assert kafka_io.group_lag(settings, settings.group(stage), topics) == 0, stage
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines() if line.count("│") > 2}
    assert "detect ×2" in rows and "enrich ×2" in rows, done.stdout


def test_a_worker_that_gives_up_stops_the_run_with_its_exit_code(settings, seeds_dir: Path) -> None:
    produce_raw(settings, _articles(seeds_dir, 5))
    # No index behind this alias: the index worker is held (infrastructure), then gives up after 5 s.
    broken = settings.model_copy(update={"index_alias": settings.index_alias + "-missing", "fatal_after_s": 5.0})
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", "--timeout", "300"],
        env=settings_env(broken),
        capture_output=True,
        text=True,
        timeout=360,
        start_new_session=True,
    )
    assert done.returncode == 3, done.stderr[-3000:]
    assert "stopped: index#0" in done.stderr, done.stderr[-3000:]
    # The others finished their batches and committed: the articles wait in the index's input, nothing is lost.
    assert kafka_io.group_lag(settings, settings.group("detect"), [settings.topic("raw")]) == 0
    ledger = compute_ledger(broken, client(settings), settle_s=0)
    assert not ledger.balanced and ledger.raw == 5


def test_a_run_started_while_the_broker_is_down_waits_for_it(
    settings, stack_settings, seeds_dir: Path, tmp_path
) -> None:
    articles = _articles(seeds_dir, 10)
    produce_raw(settings, articles)
    stack = LocalStack(stack_settings)
    stack.down(("kafka",))
    log_path = tmp_path / "run.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "run", "--timeout", "300"],
            env=settings_env(settings),
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
    try:
        # Every worker waits for the broker instead of crashing, and so does the parent's drained check.
        wait_for(
            lambda: log_path.read_text().count("Kafka unreachable as the worker starts") >= 6,
            120,
            "every worker to say it waits for Kafka",
        )
        assert proc.poll() is None
        stack.up(("kafka",))
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        stack.up(("kafka",))  # idempotent: the next tests need it
    assert proc.returncode == 0, log_path.read_text()[-3000:]
    assert sorted(es_ids(settings)) == sorted(a.article_id for a in articles)
