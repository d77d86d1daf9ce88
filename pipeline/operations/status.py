"""`newsflow status`: every part of the pipeline that can be reached, and which cannot.

Kafka (lag, throughput, DLQ, worker states, the ledger) and Elasticsearch (index, freshness) are asked
separately, so an outage of one still shows the other, exactly when the operator needs it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field

import orjson

from pipeline import kafka_io
from pipeline.config import Settings
from pipeline.operations.audit import Ledger, alive, compute_ledger, worker_states
from pipeline.retry import listening


@dataclass(frozen=True)
class StageStatus:
    """One row of `newsflow status`."""

    stage: str
    lag: int
    produced_last_minute: int | None
    dlq_total: int
    workers: dict[str, int] = field(default_factory=dict)
    held: list[str] = field(default_factory=list)


@dataclass
class PipelineStatus:
    """Everything `newsflow status` shows; `unreachable` names the parts it could not ask."""

    stages: list[StageStatus] = field(default_factory=list)
    dlq_total: int | None = None
    indexed: int | None = None
    newest_published_age_s: float | None = None
    newest_indexed_age_s: float | None = None
    index_alias: str = ""
    indices: list[str] = field(default_factory=list)
    ledger: Ledger | None = None
    unreachable: dict[str, str] = field(default_factory=dict)

    @property
    def held(self) -> bool:
        """A worker is held by infrastructure (or gave up because of it)."""
        return bool(self.ledger and self.ledger.holds) or any(s.held for s in self.stages)

    @property
    def exit_code(self) -> int:
        """0: every part reached, nothing held; 2: some part unreachable (partial); 3: a worker is held."""
        if self.unreachable:
            return 2
        return 3 if self.held else 0

    def to_dict(self) -> dict:
        """For `--json`."""
        data = asdict(self)
        data["ledger"] = self.ledger.to_dict() if self.ledger else None
        data["held"] = self.held
        data["partial"] = bool(self.unreachable)
        return data


def pipeline_status(settings: Settings, es) -> PipelineStatus:
    """Ask Kafka and Elasticsearch separately; what cannot be reached is named, not fatal."""
    from pipeline import registry

    status = PipelineStatus(index_alias=settings.index_alias)
    since = int((time.time() - 60) * 1000)
    indexed_last_minute = None
    try:
        indexed_last_minute = _elasticsearch_part(settings, es, status, since)
    except Exception as exc:  # noqa: BLE001 - any failure to ask is reported as unreachable
        status.unreachable["elasticsearch"] = _why(exc, settings.es_url)
    addresses = [a.strip() for a in settings.bootstrap_servers.split(",") if a.strip()]
    if not any(listening(a) for a in addresses):  # say so at once rather than after the client's bootstrap timeout
        status.unreachable["kafka"] = f"{settings.bootstrap_servers}: nothing is listening"
        return status
    try:
        dlq = Counter(orjson.loads(r.value)["stage"] for r in kafka_io.read_topic(settings, settings.topic("dlq")))
        states = worker_states(settings)
        for spec in registry.stages():
            stage, sources, outputs = spec.name, spec.sources, spec.outputs
            lag = kafka_io.group_lag(settings, settings.group(stage), [settings.topic(k) for k in sources])
            produced = (
                sum(kafka_io.count_since(settings, settings.topic(k), since) for k in outputs)
                if outputs
                else indexed_last_minute
            )
            mine = [(s, age) for s, age in states if s.stage == stage]
            workers = Counter(s.state if alive(s, age) else "silent" for s, age in mine)
            held = [
                f"{s.state}: {s.reason}"
                for s, age in mine
                if s.state in ("held", "failed") and (s.state == "failed" or alive(s, age))
            ]
            status.stages.append(StageStatus(stage, lag, produced, dlq.get(stage, 0), dict(workers), held))
        status.dlq_total = sum(dlq.values())
        status.ledger = compute_ledger(settings)
    except Exception as exc:  # noqa: BLE001
        status.unreachable["kafka"] = _why(exc, settings.bootstrap_servers)
    return status


def _elasticsearch_part(settings: Settings, es, status: PipelineStatus, since_ms: int) -> int:
    from elasticsearch import NotFoundError

    from pipeline.sinks.elasticsearch import IndexAdmin

    status.indices = list(IndexAdmin(es, settings).state().indices)
    try:
        status.indexed = es.count(index=settings.index_alias)["count"]
        aggs = es.search(
            index=settings.index_alias,
            size=0,
            aggs={"published": {"max": {"field": "published_at"}}, "indexed": {"max": {"field": "indexed_at"}}},
        )["aggregations"]
        status.newest_published_age_s = _age(aggs["published"]["value"])
        status.newest_indexed_age_s = _age(aggs["indexed"]["value"])
        return es.count(index=settings.index_alias, query={"range": {"indexed_at": {"gte": since_ms}}})["count"]
    except NotFoundError:
        status.indexed = 0
        return 0


def _age(epoch_ms: float | None) -> float | None:
    return None if epoch_ms is None else round(time.time() - epoch_ms / 1000, 1)


def _why(exc: Exception, address: str) -> str:
    return f"{address}: {type(exc).__name__}: {str(exc)[:200]}"
