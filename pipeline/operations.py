"""Operator views and actions: where the stream stands, DLQ inspection and replay, reindexing."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import orjson
from elasticsearch import Elasticsearch, NotFoundError, helpers
from kafka import TopicPartition

from pipeline import kafka_io
from pipeline.assembly import STAGES
from pipeline.config import Settings
from pipeline.records import DlqRecord
from pipeline.sinks.elasticsearch import IndexAdmin

# What each stage reads and writes, as topic keys: for lag and throughput.
STAGE_TOPICS = {
    "detect": (("raw",), ("detected",)),
    "translate": (("detected",), ("translated",)),
    "dedup": (("translated",), ("unique", "duplicates")),
    "enrich": (("unique",), ("enriched",)),
    "index": (("enriched", "duplicates"), ()),
}


@dataclass(frozen=True)
class StageStatus:
    """One row of `newsflow status`."""

    stage: str
    lag: int
    produced_last_minute: int
    dlq_total: int


@dataclass(frozen=True)
class PipelineStatus:
    """Everything `newsflow status` shows."""

    stages: list[StageStatus]
    dlq_total: int
    indexed: int
    newest_published_age_s: float | None
    newest_indexed_age_s: float | None
    index_alias: str
    indices: list[str]

    def to_dict(self) -> dict:
        """For `--json`."""
        return asdict(self)


def _messages_since(settings: Settings, topic: str, since_ms: int) -> int:
    """Messages appended to a topic since a time, from the broker's time index (works across machines)."""
    c = kafka_io.consumer(settings, None)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or ())]
        if not tps:
            return 0
        end = c.end_offsets(tps)
        at = c.offsets_for_times({tp: since_ms for tp in tps})
        return sum(end[tp] - (at[tp].offset if at.get(tp) else end[tp]) for tp in tps)
    finally:
        c.close()


def dlq_counts_by_stage(settings: Settings) -> Counter[str]:
    """DLQ records per stage."""
    return Counter(orjson.loads(r.value)["stage"] for r in kafka_io.read_topic(settings, settings.topic("dlq")))


def pipeline_status(settings: Settings, es: Elasticsearch) -> PipelineStatus:
    """Lag, last-minute throughput and DLQ per stage; document count and freshness of the index."""
    since = int((time.time() - 60) * 1000)
    dlq = dlq_counts_by_stage(settings)
    rows = []
    for stage in STAGES:
        sources, outputs = STAGE_TOPICS[stage]
        lag = kafka_io.group_lag(settings, settings.group(stage), [settings.topic(k) for k in sources])
        if outputs:
            produced = sum(_messages_since(settings, settings.topic(k), since) for k in outputs)
        else:
            produced = _indexed_since(es, settings, since)
        rows.append(StageStatus(stage, lag, produced, dlq.get(stage, 0)))
    indexed, newest_published, newest_indexed = 0, None, None
    try:
        indexed = es.count(index=settings.index_alias)["count"]
        aggs = es.search(
            index=settings.index_alias, size=0,
            aggs={"published": {"max": {"field": "published_at"}}, "indexed": {"max": {"field": "indexed_at"}}},
        )["aggregations"]
        newest_published = _age(aggs["published"]["value"])
        newest_indexed = _age(aggs["indexed"]["value"])
    except NotFoundError:
        pass
    state = IndexAdmin(es, settings).state()
    return PipelineStatus(
        stages=rows, dlq_total=sum(dlq.values()), indexed=indexed, newest_published_age_s=newest_published,
        newest_indexed_age_s=newest_indexed, index_alias=settings.index_alias, indices=list(state.indices),
    )


def _indexed_since(es: Elasticsearch, settings: Settings, since_ms: int) -> int:
    try:
        return es.count(index=settings.index_alias, query={"range": {"indexed_at": {"gte": since_ms}}})["count"]
    except NotFoundError:
        return 0


def _age(epoch_ms: float | None) -> float | None:
    return None if epoch_ms is None else round(time.time() - epoch_ms / 1000, 1)


# -- DLQ -------------------------------------------------------------------------------------------


def dlq_records(settings: Settings) -> Iterator[tuple[int, int, DlqRecord]]:
    """Every DLQ record with its partition and offset."""
    for r in kafka_io.read_topic(settings, settings.topic("dlq")):
        yield r.partition, r.offset, DlqRecord.model_validate(orjson.loads(r.value))


def replay_dlq(
    settings: Settings, *, stage: str | None = None, error_class: str | None = None, dry_run: bool = False
) -> list[DlqRecord]:
    """Produce the original bytes of matching DLQ records back to the topic they came from.

    The DLQ keeps them (Kafka is append-only); an article that is then indexed counts as indexed in the audit.
    """
    chosen = [
        rec for _, _, rec in dlq_records(settings)
        if (stage is None or rec.stage == stage) and (error_class is None or rec.error.class_ == error_class)
    ]
    if chosen and not dry_run:
        producer = kafka_io.producer(settings)
        try:
            futures = [
                producer.send(rec.source.topic, key=rec.source.key.encode() if rec.source.key else None,
                              value=rec.payload.original())
                for rec in chosen
            ]
            producer.flush(timeout=60)
            for future in futures:
                future.get(timeout=60)
        finally:
            producer.close()
    return chosen


# -- reindex ---------------------------------------------------------------------------------------


def reindex(settings: Settings, es: Elasticsearch, *, on_progress=None) -> tuple[str, list[str], int]:
    """Build the next index version from the current one and move the alias to it; searches never stop.

    1. create `<alias>-v<N+1>` (the current template applies);
    2. make it the alias's write index while the old one stays readable, so documents the sink
       writes meanwhile land in the new index and are not lost;
    3. copy the old documents with `op_type=create`, which never overwrites a newer write;
    4. drop the old index from the alias in one atomic request (it is kept, for rollback).
    Client-side scan + bulk: works on clusters without the reindex module (like the local one).
    Returns (new index, old indices, documents copied).
    """
    admin = IndexAdmin(es, settings)
    admin.ensure()
    old = list(admin.state().indices)
    new = admin.next_index()
    es.indices.create(index=new)
    es.indices.update_aliases(actions=[
        *({"add": {"index": o, "alias": settings.index_alias, "is_write_index": False}} for o in old),
        {"add": {"index": new, "alias": settings.index_alias, "is_write_index": True}},
    ])
    copied = 0
    for ok, item in helpers.streaming_bulk(
        es,
        ({"_op_type": "create", "_index": new, "_id": hit["_id"], "_source": hit["_source"]}
         for o in old for hit in helpers.scan(es, index=o, query={"query": {"match_all": {}}}, size=1000)),
        chunk_size=settings.bulk_max_docs, max_chunk_bytes=settings.bulk_max_bytes,
        raise_on_error=False, raise_on_exception=True,
    ):
        status = item["create"].get("status")
        if not ok and status != 409:  # 409: the sink already wrote a newer version here
            raise RuntimeError(f"reindex failed for {item['create'].get('_id')}: {item['create'].get('error')}")
        copied += ok
        if on_progress:
            on_progress(1)
    es.indices.refresh(index=new)
    es.indices.update_aliases(actions=[{"remove": {"index": o, "alias": settings.index_alias}} for o in old])
    return new, old, copied


def now_iso() -> str:
    """Current UTC time, for reports."""
    return datetime.now(UTC).isoformat(timespec="seconds")
