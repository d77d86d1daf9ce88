"""Prometheus metrics of a stage worker, and the HTTP endpoint that serves them (`NEWSFLOW_METRICS_PORT`).

The runner reports what it did (`WorkerMetrics`: a batch taken, its outputs confirmed, a retry, the lag
after a poll); the stage's own counters (`ReportsStats`, e.g. the translate stage's requests and cache
hits), its window (`ReportsWindow`: dedup) and its provider breaker (`ReportsBreaker`) are read here,
so stages stay free of prometheus_client. Every series carries the `stage` label; a process's series
live in prometheus_client's default registry, which is what `serve` exposes (one endpoint per process).
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, is_dataclass
from typing import Any, Protocol, runtime_checkable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from pipeline.config import Settings
from pipeline.stages.base import ReportsStats

PREFIX = "newsflow"
# Seconds: a batch takes milliseconds (detect) to minutes (a translate batch under a slow provider).
BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
# Seconds from news.raw.v1 to indexed: the target is p95 <= 3 s at a steady rate; a backlog runs to hours.
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
WORKER_STATES = ("running", "retrying", "held", "failed")
INDEXED_STATES = frozenset({"unique", "duplicate"})  # ledger states of an article that reached the index

# A stage's own counters (ReportsStats) -> (metric, labels). Fields not listed here are still exported,
# as newsflow_stage_events_total{event=<field>}.
STATS: dict[str, tuple[str, dict[str, str]]] = {
    "requests": ("translation_requests", {}),
    "retries": ("translation_retries", {}),
    "timeouts": ("translation_request_failures", {"reason": "timeout"}),
    "failed_requests": ("translation_request_failures", {"reason": "failed"}),
    "skipped_requests": ("translation_request_failures", {"reason": "skipped"}),
    "cache_hits": ("translation_cache_lookups", {"result": "hit"}),
    "cache_misses": ("translation_cache_lookups", {"result": "miss"}),
    "chars_sent": ("translation_chars_sent", {}),
    "translated": ("translation_articles", {"status": "translated"}),
    "not_needed": ("translation_articles", {"status": "not_needed"}),
    "pending": ("translation_articles", {"status": "pending"}),
    "lead_only": ("translation_lead_only", {}),
}


@runtime_checkable
class ReportsWindow(Protocol):
    """A stage that keeps a window of past articles (dedup): how many are in it now."""

    @property
    def window_size(self) -> int: ...


@runtime_checkable
class ReportsBreaker(Protocol):
    """A stage that calls a provider through a circuit breaker (translate): whether it is open now."""

    @property
    def breaker_open(self) -> bool: ...


class GuardView(Protocol):
    """What the metrics read of a worker's Guard (pipeline/guard.py)."""

    failed: bool

    @property
    def held(self) -> bool: ...

    @property
    def trouble(self) -> object | None: ...


class Families:
    """The metric families, registered once in one registry (per process: prometheus_client's default)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = REGISTRY if registry is None else registry
        self.registry = r

        def counter(name: str, doc: str, labels: Sequence[str] = ()) -> Counter:
            return Counter(f"{PREFIX}_{name}", doc, ["stage", *labels], registry=r)

        def gauge(name: str, doc: str, labels: Sequence[str] = ()) -> Gauge:
            return Gauge(f"{PREFIX}_{name}", doc, ["stage", *labels], registry=r)

        self.messages_in = counter("messages_in", "Messages taken from an input topic (committed)", ["topic"])
        self.messages_out = counter(
            "messages_out",
            "Messages produced and confirmed, by destination topic (DLQ, ledger and state too)",
            ["topic"],
        )
        self.dlq = counter(
            "dlq_messages",
            "Messages dead-lettered, by the topic they came from, error class and kind (bad_input, indexing, processing)",
            ["topic", "error_class", "kind"],
        )
        self.indexed = counter("articles_indexed", "Articles that reached the index, as unique or duplicate", ["state"])
        self.batches = Histogram(
            f"{PREFIX}_batch_duration_seconds",
            "Wall time of one batch: process, produce and confirm, commit (retries included)",
            ["stage"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.latency = Histogram(
            f"{PREFIX}_end_to_end_latency_seconds",
            "From the raw message's broker timestamp in news.raw.v1 to the article indexed",
            ["stage", "state"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.lag = gauge(
            "consumer_lag", "Messages behind the partition's end, as of the worker's last poll", ["topic", "partition"]
        )
        self.retries = counter(
            "retries", "Steps retried after a transient or infrastructure failure", ["failure", "dependency"]
        )
        self.state = gauge(
            "worker_state", "1 for the worker's current state (running, retrying, held, failed)", ["state"]
        )
        self.failure_share = gauge(
            "processing_failure_share",
            "Share of the recent articles that made the stage raise; the breaker opens above "
            "NEWSFLOW_PROCESSING_BREAKER_SHARE",
        )
        self.window = gauge("dedup_window_articles", "Articles in the dedup window (the store the decisions use)")
        self.breaker = gauge("translation_breaker_open", "1 while the translation provider's circuit breaker is open")
        self.stage_counters: dict[str, Counter] = {}
        for metric, labels in STATS.values():
            if metric not in self.stage_counters:
                docs = _STAT_DOCS.get(metric, metric.replace("_", " "))
                self.stage_counters[metric] = counter(metric, docs, sorted(labels))
        self.stage_events = counter("stage_events", "Other counters a stage keeps of its own, by name", ["event"])
        self.owners: dict[str, object] = {}  # stage -> the WorkerMetrics whose state the gauges show


_STAT_DOCS = {
    "translation_requests": "Translation provider calls (every attempt)",
    "translation_retries": "Translation calls retried (timeout, 429, 5xx)",
    "translation_request_failures": "Translation requests that failed: timeout, failed (gave up), skipped (breaker open, budget spent)",
    "translation_cache_lookups": "Translation cache lookups by result (hit, miss)",
    "translation_chars_sent": "Characters sent to the translation provider",
    "translation_articles": "Articles out of the translate stage by translation status (translated, not_needed, pending)",
    "translation_lead_only": "Articles of which only title and lead were translated (backlog fast path)",
}

_default: Families | None = None


def default_families() -> Families:
    """The families in prometheus_client's default registry, created on first use (it refuses a name twice)."""
    global _default
    if _default is None:
        _default = Families()
    return _default


def worker_state(guard: GuardView) -> str:
    """running, retrying (a transient failure), held (infrastructure) or failed (gave up, breaker open)."""
    if guard.failed:
        return "failed"
    if guard.trouble is None:
        return "running"
    return "held" if guard.held else "retrying"


def stat_counts(stats: object) -> dict[str, float]:
    """The numeric fields of a stage's stats (a dataclass or a mapping)."""
    if is_dataclass(stats) and not isinstance(stats, type):
        items: Mapping[str, Any] = asdict(stats)
    elif isinstance(stats, Mapping):
        items = stats
    else:
        return {}
    return {k: v for k, v in items.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def latency_s(raw: Mapping[str, Any] | None, now_s: float) -> float | None:
    """Seconds since the raw message's broker timestamp (ms), or None when the article did not enter via raw."""
    if not raw or not isinstance(raw.get("timestamp"), int) or raw["timestamp"] <= 0:
        return None
    return max(now_s - raw["timestamp"] / 1000.0, 0.0)


class WorkerMetrics:
    """One worker's view of the families: the runner calls it; it holds the label values and deltas."""

    def __init__(self, stage: object, name: str, guard: GuardView, families: Families | None = None) -> None:
        self.stage, self.name = stage, name
        self.f = families or default_families()
        self._lag: set[tuple[str, str]] = set()
        self._stats: dict[str, float] = {}
        self._guard: GuardView | None = guard
        self.f.owners[name] = self
        for state in WORKER_STATES:
            self.f.state.labels(name, state).set_function(self._is(state))
        if isinstance(stage, ReportsWindow):
            self.f.window.labels(name).set_function(lambda: float(stage.window_size))
        if isinstance(stage, ReportsBreaker):
            self.f.breaker.labels(name).set_function(lambda: float(stage.breaker_open))
        self.f.failure_share.labels(name).set(0.0)

    def _is(self, state: str) -> Callable[[], float]:
        """1.0 while the worker is in `state` (read at scrape time)."""
        return lambda: float(self._guard is not None and worker_state(self._guard) == state)

    def polled(self, lag: Mapping[tuple[str, int], int]) -> None:
        """The lag per partition after a poll; partitions this worker no longer owns are dropped."""
        now = set()
        for (topic, partition), behind in lag.items():
            key = (topic, str(partition))
            now.add(key)
            self.f.lag.labels(self.name, *key).set(behind)
        for key in self._lag - now:
            self.f.lag.remove(self.name, *key)
        self._lag = now

    def sent(self, outgoing: Iterable[Any], dlq_topic: str, ledger_topic: str, now_s: float | None = None) -> None:
        """A batch's confirmed outputs: counts by topic, DLQ by class, articles indexed and their latency."""
        now_s = time.time() if now_s is None else now_s
        out: Tally = Tally()
        dlq: Tally = Tally()
        indexed: Tally = Tally()
        for message in outgoing:
            out[message.topic] += 1
            value = message.value
            if not isinstance(value, dict):
                continue
            if message.topic == dlq_topic:
                error, source = value.get("error") or {}, value.get("source") or {}
                dlq[(source.get("topic", ""), error.get("class", ""), error.get("kind", ""))] += 1
            elif message.topic == ledger_topic and value.get("state") in INDEXED_STATES:
                state = value["state"]
                indexed[state] += 1
                seconds = latency_s(value.get("raw"), now_s)
                if seconds is not None:
                    self.f.latency.labels(self.name, state).observe(seconds)
        for topic, n in out.items():
            self.f.messages_out.labels(self.name, topic).inc(n)
        for (topic, error_class, kind), n in dlq.items():
            self.f.dlq.labels(self.name, topic, error_class, kind).inc(n)
        for state, n in indexed.items():
            self.f.indexed.labels(self.name, state).inc(n)

    def batch_done(self, topics: Iterable[str], duration_s: float, failure_share: float) -> None:
        """A batch committed: messages in by topic, its duration, the breaker's share, the stage's own counters."""
        for topic, n in Tally(topics).items():
            self.f.messages_in.labels(self.name, topic).inc(n)
        self.f.batches.labels(self.name).observe(duration_s)
        self.f.failure_share.labels(self.name).set(failure_share)
        if isinstance(self.stage, ReportsStats):
            self._stage_counters(stat_counts(self.stage.stats))

    def _stage_counters(self, counts: Mapping[str, float]) -> None:
        """Add what the stage's own counters grew by since the last batch."""
        for field, value in counts.items():
            grown = value - self._stats.get(field, 0)
            self._stats[field] = value
            if grown <= 0:
                continue
            metric, labels = STATS.get(field, ("", {}))
            if metric:
                self.f.stage_counters[metric].labels(stage=self.name, **labels).inc(grown)
            else:
                self.f.stage_events.labels(self.name, field).inc(grown)

    def retried(self, failure: str, dependency: str) -> None:
        """One retry of a step (transient or infrastructure failure)."""
        self.f.retries.labels(self.name, failure, dependency or "unknown").inc()

    def close(self) -> None:
        """The worker stopped: its state and lag series go, so a stopped worker is not shown as running."""
        self._guard = None
        self.polled({})
        if self.f.owners.get(self.name) is self:  # a newer worker of the stage in this process keeps its series
            del self.f.owners[self.name]
            for state in WORKER_STATES:
                self.f.state.remove(self.name, state)


def serve(settings: Settings, port: int | None = None, *, registry: CollectorRegistry | None = None) -> int | None:
    """Serve this process's metrics on `port` (default NEWSFLOW_METRICS_PORT; 0 = any free port) on every
    interface; returns the bound port, or None when metrics are off. Raises OSError when the port is taken."""
    port = settings.metrics_port if port is None else port
    if port is None:
        return None
    default_families()  # the series exist from the start, before the first batch
    server, _thread = start_http_server(port, registry=REGISTRY if registry is None else registry)
    return int(server.server_port)


__all__ = [
    "Families",
    "ReportsBreaker",
    "ReportsWindow",
    "WorkerMetrics",
    "default_families",
    "latency_s",
    "serve",
    "stat_counts",
    "worker_state",
]
