"""pipeline/metrics.py: what a worker's outputs, batches, lag, retries and stage counters become as Prometheus
series (read back from a registry of the test's own), and the HTTP endpoint `newsflow worker` serves."""

from __future__ import annotations

import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from pipeline.config import Settings
from pipeline.kafka_io import Outgoing
from pipeline.metrics import (
    STATS,
    WORKER_STATES,
    Families,
    WorkerMetrics,
    latency_s,
    serve,
    stat_counts,
    worker_state,
)
from pipeline.records import Article, DlqError, DlqPayload, DlqRecord, DlqSource, LedgerEvent, RawOrigin
from pipeline.stages.translate import TranslateStats
from tests.conftest import ROOT
from tests.stage_settings import dedup_stage, translate_stage

DLQ, LEDGER = "news.dlq.v1", "news.ledger.v1"


@dataclass
class GuardState:
    """The three things the metrics read of a Guard, set by hand."""

    failed: bool = False
    held: bool = False
    trouble: object | None = None


@dataclass
class StatsStage:
    """A stage that reports its own counters, like translate."""

    name: str = "translate"
    stats: TranslateStats = field(default_factory=TranslateStats)


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def families(registry: CollectorRegistry) -> Families:
    return Families(registry)


def dlq_message(source_topic: str, error_class: str, kind: str) -> Outgoing:
    record = DlqRecord(
        article_id=None,
        stage="detect",
        error=DlqError(class_=error_class, message="not JSON", kind=kind),
        source=DlqSource(topic=source_topic, partition=0, offset=7, key=None),
        attempts=1,
        payload=DlqPayload.of(b"\xff"),
    )
    return Outgoing(DLQ, None, record.to_wire())


def ledger_message(state: str, raw_ms: int | None) -> Outgoing:
    raw = RawOrigin(partition=0, offset=1, timestamp=raw_ms) if raw_ms is not None else None
    return Outgoing(LEDGER, "a" * 16, LedgerEvent(article_id="a" * 16, state=state, stage="index", raw=raw).to_wire())


def test_outputs_are_counted_by_topic_dlq_by_class_and_indexed_articles_with_their_latency(
    registry: CollectorRegistry, families: Families
) -> None:
    metrics = WorkerMetrics(object(), "index", GuardState(), families)
    now = 1_700_000_100.0
    outgoing = [
        dlq_message("news.enriched.v1", "MapperParsingException", "indexing"),
        ledger_message("dlq_bad_input", 1_700_000_000_000),
        dlq_message("news.enriched.v1", "MapperParsingException", "indexing"),
        ledger_message("dlq_bad_input", 1_700_000_000_000),
        ledger_message("unique", 1_700_000_099_000),  # 1 s from raw to indexed
        ledger_message("unique", 1_700_000_098_500),  # 1.5 s
        ledger_message("duplicate", 1_700_000_040_000),  # 60 s
        ledger_message("unique", None),  # entered without news.raw.v1 (a replay of the enriched topic): no latency
    ]
    metrics.sent(outgoing, DLQ, LEDGER, now_s=now)

    assert sample(registry, "newsflow_messages_out_total", stage="index", topic=DLQ) == 2
    assert sample(registry, "newsflow_messages_out_total", stage="index", topic=LEDGER) == 6
    assert (
        sample(
            registry,
            "newsflow_dlq_messages_total",
            stage="index",
            topic="news.enriched.v1",
            error_class="MapperParsingException",
            kind="indexing",
        )
        == 2
    )
    assert sample(registry, "newsflow_articles_indexed_total", stage="index", state="unique") == 3
    assert sample(registry, "newsflow_articles_indexed_total", stage="index", state="duplicate") == 1
    latency = "newsflow_end_to_end_latency_seconds"
    assert sample(registry, f"{latency}_count", stage="index", state="unique") == 2
    assert sample(registry, f"{latency}_sum", stage="index", state="unique") == pytest.approx(2.5)
    assert sample(registry, f"{latency}_bucket", stage="index", state="unique", le="1.0") == 1
    assert sample(registry, f"{latency}_bucket", stage="index", state="unique", le="2.0") == 2
    assert sample(registry, f"{latency}_bucket", stage="index", state="duplicate", le="30.0") == 0
    assert sample(registry, f"{latency}_bucket", stage="index", state="duplicate", le="60.0") == 1


def test_a_batch_counts_its_messages_by_input_topic_and_its_duration(
    registry: CollectorRegistry, families: Families
) -> None:
    metrics = WorkerMetrics(object(), "index", GuardState(), families)
    metrics.batch_done(["news.enriched.v1"] * 3 + ["news.duplicates.v1"], 0.3, failure_share=0.0)
    metrics.batch_done(["news.enriched.v1"], 7.0, failure_share=0.25)

    assert sample(registry, "newsflow_messages_in_total", stage="index", topic="news.enriched.v1") == 4
    assert sample(registry, "newsflow_messages_in_total", stage="index", topic="news.duplicates.v1") == 1
    assert sample(registry, "newsflow_batch_duration_seconds_count", stage="index") == 2
    assert sample(registry, "newsflow_batch_duration_seconds_bucket", stage="index", le="0.5") == 1
    assert sample(registry, "newsflow_batch_duration_seconds_bucket", stage="index", le="10.0") == 2
    assert sample(registry, "newsflow_processing_failure_share", stage="index") == 0.25


def test_lag_is_per_partition_and_a_partition_given_away_disappears(
    registry: CollectorRegistry, families: Families
) -> None:
    metrics = WorkerMetrics(object(), "enrich", GuardState(), families)
    metrics.polled({("news.unique.v1", 0): 12, ("news.unique.v1", 1): 0})
    assert sample(registry, "newsflow_consumer_lag", stage="enrich", topic="news.unique.v1", partition="0") == 12
    assert sample(registry, "newsflow_consumer_lag", stage="enrich", topic="news.unique.v1", partition="1") == 0

    metrics.polled({("news.unique.v1", 1): 3})  # a rebalance took partition 0 away
    assert sample(registry, "newsflow_consumer_lag", stage="enrich", topic="news.unique.v1", partition="0") is None
    assert sample(registry, "newsflow_consumer_lag", stage="enrich", topic="news.unique.v1", partition="1") == 3


def test_the_worker_state_is_read_from_its_guard_when_scraped(registry: CollectorRegistry, families: Families) -> None:
    guard = GuardState()
    WorkerMetrics(object(), "index", guard, families)

    def states() -> dict[str, float | None]:
        return {s: sample(registry, "newsflow_worker_state", stage="index", state=s) for s in WORKER_STATES}

    assert states() == {"running": 1, "retrying": 0, "held": 0, "failed": 0}
    guard.trouble, guard.held = object(), True
    assert states() == {"running": 0, "retrying": 0, "held": 1, "failed": 0}
    guard.held = False
    assert states() == {"running": 0, "retrying": 1, "held": 0, "failed": 0}
    guard.failed = True
    assert states() == {"running": 0, "retrying": 0, "held": 0, "failed": 1}


def test_a_closed_worker_leaves_no_state_and_no_lag_but_keeps_a_newer_workers(
    registry: CollectorRegistry, families: Families
) -> None:
    old = WorkerMetrics(object(), "dedup", GuardState(), families)
    old.polled({("news.translated.v1", 2): 5})
    old.close()
    assert sample(registry, "newsflow_worker_state", stage="dedup", state="running") is None
    assert sample(registry, "newsflow_consumer_lag", stage="dedup", topic="news.translated.v1", partition="2") is None

    first = WorkerMetrics(object(), "dedup", GuardState(), families)
    WorkerMetrics(object(), "dedup", GuardState(failed=True), families)  # a restarted worker in the same process
    first.close()
    assert sample(registry, "newsflow_worker_state", stage="dedup", state="failed") == 1


def test_retries_by_failure_class_and_dependency(registry: CollectorRegistry, families: Families) -> None:
    metrics = WorkerMetrics(object(), "index", GuardState(), families)
    metrics.retried("transient", "elasticsearch")
    metrics.retried("transient", "elasticsearch")
    metrics.retried("infrastructure", "")
    labels = {"stage": "index", "failure": "transient", "dependency": "elasticsearch"}
    assert sample(registry, "newsflow_retries_total", **labels) == 2
    assert (
        sample(registry, "newsflow_retries_total", stage="index", failure="infrastructure", dependency="unknown") == 1
    )


def test_the_translate_stages_own_counters_grow_by_what_each_batch_added(
    registry: CollectorRegistry, families: Families
) -> None:
    stage = StatsStage()
    metrics = WorkerMetrics(stage, "translate", GuardState(), families)
    stage.stats.requests, stage.stats.cache_hits, stage.stats.cache_misses, stage.stats.pending = 4, 6, 2, 1
    metrics.batch_done(["news.detected.v1"], 0.1, 0.0)
    stage.stats.requests, stage.stats.cache_hits, stage.stats.translated = 7, 10, 3
    metrics.batch_done(["news.detected.v1"], 0.1, 0.0)

    assert sample(registry, "newsflow_translation_requests_total", stage="translate") == 7
    assert sample(registry, "newsflow_translation_cache_lookups_total", stage="translate", result="hit") == 10
    assert sample(registry, "newsflow_translation_cache_lookups_total", stage="translate", result="miss") == 2
    assert sample(registry, "newsflow_translation_articles_total", stage="translate", status="pending") == 1
    assert sample(registry, "newsflow_translation_articles_total", stage="translate", status="translated") == 3


def test_every_translate_counter_has_a_metric_and_other_counters_are_still_exported(
    registry: CollectorRegistry, families: Families
) -> None:
    assert set(stat_counts(TranslateStats())) == set(STATS), "a new TranslateStats field needs its line in STATS"
    stage = StatsStage(name="enrich", stats={"spacy_docs": 5, "model": "en_core_web_sm", "ok": True})  # type: ignore[arg-type]
    WorkerMetrics(stage, "enrich", GuardState(), families).batch_done([], 0.0, 0.0)
    assert sample(registry, "newsflow_stage_events_total", stage="enrich", event="spacy_docs") == 5
    assert sample(registry, "newsflow_stage_events_total", stage="enrich", event="ok") is None


def test_dedup_window_and_translation_breaker_come_from_the_real_stages(
    registry: CollectorRegistry, families: Families, tmp_path: Path
) -> None:
    dedup = dedup_stage()
    WorkerMetrics(dedup, "dedup", GuardState(), families)
    assert sample(registry, "newsflow_dedup_window_articles", stage="dedup") == 0
    text = "Russian drones struck the port of Odesa overnight, the regional governor said on Telegram."
    for n in range(3):
        dedup.process([Article(article_id=f"{n:016x}", text=f"{text} Report {n}.", ingested_at="2025-01-01T00:00:00Z")])
    assert sample(registry, "newsflow_dedup_window_articles", stage="dedup") == 3

    translate = translate_stage(
        provider="libre", base_url="http://127.0.0.1:9", api_key="k", cache_path=tmp_path / "t.sqlite"
    )
    WorkerMetrics(translate, "translate", GuardState(), families)
    assert sample(registry, "newsflow_translation_breaker_open", stage="translate") == 0
    for _ in range(translate.breaker.threshold):
        translate.breaker.record(False, "HTTP 503")
    assert sample(registry, "newsflow_translation_breaker_open", stage="translate") == 1


def test_pure_helpers() -> None:
    assert worker_state(GuardState()) == "running"
    assert latency_s({"timestamp": 1_000_000}, 1_002.5) == 2.5
    assert latency_s({"timestamp": 2_000_000}, 1_000.0) == 0.0  # clocks apart: never negative
    assert latency_s(None, 1.0) is None and latency_s({"partition": 0}, 1.0) is None
    assert stat_counts({"a": 1, "b": 2.5, "c": "x", "d": False}) == {"a": 1, "b": 2.5}
    assert stat_counts(object()) == {}


def test_serve_exposes_the_registry_over_http_and_is_off_by_default(families: Families) -> None:
    assert serve(Settings(metrics_port=None)) is None
    WorkerMetrics(object(), "detect", GuardState(), families).batch_done(["news.raw.v1"] * 5, 0.05, 0.0)
    port = serve(Settings(metrics_port=0), registry=families.registry)
    assert port
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert response.status_code == 200
    found = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    assert found[("newsflow_messages_in_total", (("stage", "detect"), ("topic", "news.raw.v1")))] == 5


def test_a_taken_metrics_port_stops_the_worker_at_start_naming_the_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "worker", "detect"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            env={
                "PATH": "/usr/bin:/bin",
                "NEWSFLOW_METRICS_PORT": str(port),
                "NEWSFLOW_BOOTSTRAP_SERVERS": "127.0.0.1:1",
            },
        )
    assert done.returncode == 2, done.stderr
    assert f"NEWSFLOW_METRICS_PORT={port}" in done.stderr
