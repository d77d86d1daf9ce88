"""Prometheus metrics against the real stack: one `newsflow worker` process per stage serves NEWSFLOW_METRICS_PORT,
a real Prometheus (Debian's package) scrapes them every second with the shipped alert rules loaded, and the
series read back through Prometheus' HTTP API count exactly what went through Kafka and into Elasticsearch."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from pipeline import kafka_io
from pipeline.kafka_io import Outgoing
from pipeline.registry import names as stage_names
from pipeline.sources.files import read_paths
from tests.conftest import ROOT, wait_for
from tests.integration.conftest import es_ids, produce_raw, settings_env

pytestmark = pytest.mark.integration

ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen, timeout_s: float = 30) -> None:
    """SIGTERM (a worker finishes its batch and commits), then SIGKILL if it does not go."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout_s)


def tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


class Prometheus:
    """Prometheus' HTTP API: instant queries as {labels: value}."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def query(self, promql: str) -> dict[tuple, float]:
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10).json()
        assert answer["status"] == "success", answer
        return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in answer["data"]["result"]}

    def scalar(self, promql: str) -> float | None:
        """The value of a query that yields one series (an aggregate), or None while it yields none."""
        found = self.query(promql)
        assert len(found) <= 1, f"{promql} gave several series: {found}"
        return next(iter(found.values()), None)

    def rules(self) -> list[dict]:
        groups = httpx.get(f"{self.url}/api/v1/rules", timeout=10).json()["data"]["groups"]
        return [rule for group in groups for rule in group["rules"]]


def test_a_real_prometheus_scrapes_every_stage_worker(settings, seeds_dir: Path, tmp_path: Path) -> None:
    prometheus_bin = shutil.which("prometheus")
    if prometheus_bin is None:
        pytest.fail("prometheus not found: install the Debian package `prometheus` (scripts/system-deps.sh does)")
    seeds = list(read_paths([seeds_dir]))
    produce_raw(settings, seeds)
    kafka_io.send_confirmed(  # one message no decoder can read: the DLQ's, by class
        kafka_io.producer(settings), [Outgoing(settings.topic("raw"), None, b"\xff\xfe not text")]
    )

    stages = stage_names()
    ports = {stage: free_port() for stage in stages}
    workers: dict[str, subprocess.Popen] = {}
    logs = {stage: tmp_path / f"worker-{stage}.log" for stage in stages}
    prometheus: subprocess.Popen | None = None
    api = Prometheus(free_port())
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS)],  # the shipped rules evaluate against the real series
        "scrape_configs": [
            {
                "job_name": "newsflow-workers",
                "static_configs": [{"targets": [f"127.0.0.1:{port}" for port in ports.values()]}],
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))

    def diagnosis() -> str:
        return "\n".join(f"--- {stage} ---\n{tail(log)}" for stage, log in logs.items()) + (
            f"\n--- prometheus ---\n{tail(tmp_path / 'prometheus.log')}"
        )

    try:
        for stage in stages:
            env = {**settings_env(settings), "NEWSFLOW_METRICS_PORT": str(ports[stage])}
            with logs[stage].open("wb") as log:
                workers[stage] = subprocess.Popen(
                    [sys.executable, "-m", "pipeline.cli", "worker", stage],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        with (tmp_path / "prometheus.log").open("wb") as log:
            prometheus = subprocess.Popen(
                [
                    prometheus_bin,
                    f"--config.file={tmp_path / 'prometheus.yml'}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{api.url.rsplit(':', 1)[1]}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(api.ready, 60, "Prometheus to be ready")

        # Every worker is up and labels its series with its stage.
        def up() -> float | None:
            assert all(p.poll() is None for p in workers.values()), diagnosis()
            return api.scalar('count(up{job="newsflow-workers"} == 1)')

        wait_for(lambda: up() == len(stages), 120, "Prometheus to scrape every worker")

        # (the endpoint answers first; a worker's own series come once its stage is built)
        def running() -> list[str]:
            return sorted(dict(k)["stage"] for k in api.query('newsflow_worker_state{state="running"} == 1'))

        wait_for(lambda: running() == sorted(stages), 120, "every worker to report its state as running")

        # Everything reaches the index; Prometheus then has the counts of what went through.
        wait_for(lambda: len(es_ids(settings)) == len(seeds), 240, f"the {len(seeds)} seeds in Elasticsearch")
        indexed = 'sum(newsflow_articles_indexed_total{stage="index"})'
        wait_for(lambda: api.scalar(indexed) == len(seeds), 30, "Prometheus to see every article indexed")
        # messages in are counted when their batch is committed, which comes after the articles are indexed
        taken = 'sum(newsflow_messages_in_total{stage="index"})'
        wait_for(lambda: api.scalar(taken) == len(seeds), 30, "Prometheus to see the index stage's batches committed")

        raw, detected = settings.topic("raw"), settings.topic("detected")
        assert api.scalar(f'sum(newsflow_messages_in_total{{stage="detect",topic="{raw}"}})') == len(seeds) + 1
        assert api.scalar(f'sum(newsflow_messages_out_total{{stage="detect",topic="{detected}"}})') == len(seeds)
        dlq = api.query('newsflow_dlq_messages_total{stage="detect"}')
        assert [(dict(k)["topic"], dict(k)["error_class"], dict(k)["kind"], v) for k, v in dlq.items()] == [
            (raw, "NotUtf8", "bad_input", 1.0)
        ]
        assert api.scalar('sum(newsflow_dlq_messages_total{stage!="detect"})') in (None, 0.0)

        # Raw -> indexed latency, observed once per indexed article at the index stage.
        latency = api.query("sum by (stage) (newsflow_end_to_end_latency_seconds_count)")
        assert latency == {(("stage", "index"),): float(len(seeds))}
        p95 = api.scalar("histogram_quantile(0.95, sum by (le) (newsflow_end_to_end_latency_seconds_bucket))")
        assert p95 is not None and 0 < p95 <= 3600

        # The stages' own state: the dedup window holds the five seeds; translate found nothing to translate.
        assert api.scalar('newsflow_dedup_window_articles{stage="dedup"}') == len(seeds)
        not_needed = 'newsflow_translation_articles_total{stage="translate",status="not_needed"}'
        assert api.scalar(not_needed) == len(seeds)
        assert api.scalar('newsflow_translation_breaker_open{stage="translate"}') == 0

        # Lag per partition of every input topic, as of the last poll: drained, so zero everywhere.
        lag = api.query('newsflow_consumer_lag{stage="detect"}')
        assert sorted(int(dict(k)["partition"]) for k in lag) == list(range(settings.partitions))
        wait_for(lambda: api.scalar("max(newsflow_consumer_lag)") == 0, 30, "every stage's lag to read zero")
        assert api.scalar('sum(newsflow_batch_duration_seconds_count{stage="index"})') >= 1

        # The shipped alert rules evaluate without error against these series.
        def evaluated() -> list[dict]:
            rules = api.rules()
            return rules if rules and all(r.get("health") == "ok" for r in rules) else []

        assert {r["name"] for r in wait_for(evaluated, 30, "every alert rule evaluated")} >= {"NewsflowWorkerHeld"}
    except BaseException:
        print(diagnosis())
        raise
    finally:
        for proc in workers.values():
            stop(proc)
        if prometheus is not None:
            stop(prometheus)
    assert all(p.returncode == 0 for p in workers.values()), diagnosis()
