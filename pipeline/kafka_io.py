"""Kafka clients built from the settings: producers that confirm delivery, consumers, topic admin."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import orjson
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from pipeline.config import TOPIC_KEYS, Settings
from pipeline.errors import FailureClass, InfrastructureError, TransientError, classify

# Topic-level settings: retention long enough to replay; room for absurd inputs so they reach the DLQ;
# state topics are compacted (the latest record per key is kept, tombstones delete). The ledger's terminal
# events outlive the raw messages they account for. The raw topic is stamped by the broker
# (LogAppendTime), so its timestamps rise with its offsets and a time window is an offset range.
DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000
RETENTION_MS = {"dlq": -1, "ledger": 2 * DEFAULT_RETENTION_MS}
COMPACTED = {"dedup-state", "ledger-state", "workers"}
BROKER_TIMESTAMPS = {"raw"}


def producer(settings: Settings, **overrides) -> KafkaProducer:
    """A producer that waits for all in-sync replicas: acks=all."""
    options = dict(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        linger_ms=5,
        retries=5,
        max_request_size=settings.max_message_bytes + 64 * 1024,
        request_timeout_ms=30_000,
        # send() waits this long for metadata when the broker is away, instead of kafka-python's 60 s:
        # the runner's backoff, which notices the broker coming back, does the waiting.
        max_block_ms=10_000,
        client_id="newsflow",
    )
    options.update(overrides)
    return KafkaProducer(**options)


def consumer(settings: Settings, group_id: str | None, topics: Iterable[str] = (), **overrides) -> KafkaConsumer:
    """A consumer that commits only when told to."""
    options = dict(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.batch_size,
        fetch_max_bytes=max(52_428_800, settings.max_message_bytes * 2),
        max_partition_fetch_bytes=settings.max_message_bytes + 64 * 1024,
        client_id="newsflow",
    )
    options.update(overrides)
    c = KafkaConsumer(**options)
    if topics:
        c.subscribe(list(topics))
    return c


def admin(settings: Settings) -> KafkaAdminClient:
    """Admin client for topic management and lag queries."""
    return KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="newsflow-admin")


def ensure_topics(settings: Settings) -> dict[str, str]:
    """Create every topic that does not exist yet; returns {topic: 'created' | 'exists'}."""
    client = admin(settings)
    try:
        existing = set(client.list_topics())
        result = {}
        missing = []
        for key in TOPIC_KEYS:
            name = settings.topic(key)
            if name in existing:
                result[name] = "exists"
                continue
            missing.append(
                NewTopic(
                    name=name,
                    num_partitions=settings.partitions,
                    replication_factor=settings.replication_factor,
                    topic_configs=_topic_config(settings, key),
                )
            )
            result[name] = "created"
        if missing:
            try:
                client.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another process created them first: that is the goal anyway
        upgrade = [k for k in BROKER_TIMESTAMPS if result[settings.topic(k)] == "exists"]
        if upgrade:  # topics made by an earlier version: broker timestamps from now on (AlterConfigs sets them all)
            client.alter_configs([
                ConfigResource(ConfigResourceType.TOPIC, settings.topic(k), configs=_topic_config(settings, k))
                for k in upgrade
            ])
        return result
    finally:
        client.close()


def _topic_config(settings: Settings, key: str) -> dict[str, str]:
    config = {"max.message.bytes": str(settings.max_message_bytes + 64 * 1024)}
    if key in COMPACTED:
        config["cleanup.policy"] = "compact"
    else:
        config["retention.ms"] = str(RETENTION_MS.get(key, DEFAULT_RETENTION_MS))
    if key in BROKER_TIMESTAMPS:
        config["message.timestamp.type"] = "LogAppendTime"
    return config


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to produce."""

    topic: str
    key: str | None
    value: dict | None  # None is a tombstone (compacted topics)


def send_confirmed(prod: KafkaProducer, messages: Iterable[Outgoing], timeout_s: float = 60.0) -> int:
    """Send, flush and check every delivery; a failed one raises (TransientError, or InfrastructureError for
    an unknown topic or a refused authorisation), never passes silently."""
    try:
        futures = [
            prod.send(m.topic, key=m.key.encode() if m.key else None,
                      value=None if m.value is None else orjson.dumps(m.value))
            for m in messages
        ]
        prod.flush(timeout=timeout_s)
        for future in futures:
            future.get(timeout=timeout_s)
    except KafkaError as exc:
        if classify(exc) is FailureClass.INFRASTRUCTURE:
            raise InfrastructureError(f"Kafka refused the delivery: {exc!r}", dependency="kafka") from exc
        raise TransientError(f"delivery to Kafka failed: {exc!r}") from exc
    return len(futures)


def read_topic(settings: Settings, topic: str, timeout_ms: int = 2000) -> Iterator:
    """Every message of a topic from the beginning to its current end, without a consumer group."""
    c = consumer(settings, group_id=None, consumer_timeout_ms=timeout_ms)
    try:
        partitions = c.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return
        c.assign(tps)
        c.seek_to_beginning(*tps)
        end = c.end_offsets(tps)
        remaining = {tp for tp in tps if end[tp] > 0}
        while remaining:
            batch = c.poll(timeout_ms=timeout_ms)
            if not batch:
                if all(c.position(tp) >= end[tp] for tp in remaining):
                    break
                continue
            for tp, records in batch.items():
                for record in records:
                    if record.offset < end[tp]:
                        yield record
                if c.position(tp) >= end[tp]:
                    remaining.discard(tp)
    finally:
        c.close()


def group_lag(settings: Settings, group_id: str, topics: Iterable[str]) -> int:
    """Messages in `topics` the group has not committed yet (all of them when it never committed)."""
    # A consumer that never subscribes only reads the group's committed offsets; it does not join.
    c = consumer(settings, group_id=group_id)
    try:
        tps = [TopicPartition(t, p) for t in topics for p in sorted(c.partitions_for_topic(t) or ())]
        if not tps:
            return 0
        end = c.end_offsets(tps)
        begin = c.beginning_offsets(tps)
        return sum(max(0, end[tp] - (c.committed(tp) or begin[tp])) for tp in tps)
    finally:
        c.close()


def existing_topics(settings: Settings) -> set[str]:
    """Names of the topics the cluster has now."""
    c = consumer(settings, None)
    try:
        return set(c.topics())
    finally:
        c.close()


@dataclass(frozen=True, slots=True)
class PartitionRange:
    """Offsets [start, end) of one partition, with where the log starts now (older records are deleted)."""

    partition: int
    start: int
    end: int
    log_start: int


def offsets_between(
    c: KafkaConsumer, topic: str, since_ms: int | None = None, until_ms: int | None = None
) -> list[PartitionRange]:
    """Per partition, the offsets of records with a timestamp in [since, until), clamped to what is retained.

    Exact for topics with broker timestamps (LogAppendTime), where timestamps rise with offsets.
    """
    tps = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or ())]
    if not tps:
        return []
    begin, end = c.beginning_offsets(tps), c.end_offsets(tps)

    def at(ms: int | None, default: dict) -> dict:
        if ms is None:
            return default
        found = c.offsets_for_times({tp: ms for tp in tps})
        return {tp: (found[tp].offset if found.get(tp) else end[tp]) for tp in tps}

    lo, hi = at(since_ms, begin), at(until_ms, end)
    return [
        PartitionRange(tp.partition, max(lo[tp], begin[tp]), max(hi[tp], begin[tp]), begin[tp]) for tp in tps
    ]


def read_from(settings: Settings, topic: str, start: dict[int, int], timeout_ms: int = 1000) -> Iterator:
    """Records of a topic from per-partition offsets (missing partitions: the beginning) to the current end."""
    c = consumer(settings, group_id=None)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or ())]
        if not tps:
            return
        begin, end = c.beginning_offsets(tps), c.end_offsets(tps)
        todo = {tp: max(start.get(tp.partition, 0), begin[tp]) for tp in tps}
        todo = {tp: o for tp, o in todo.items() if o < end[tp]}
        if not todo:
            return
        c.assign(list(todo))
        for tp, offset in todo.items():
            c.seek(tp, offset)
        remaining = set(todo)
        while remaining:
            for tp, records in c.poll(timeout_ms=timeout_ms).items():
                yield from (r for r in records if r.offset < end[tp])
            remaining = {tp for tp in remaining if c.position(tp) < end[tp]}
    finally:
        c.close()


def latest_by_key(settings: Settings, topic: str) -> dict[str, dict | None]:
    """A compacted topic read to its end: the latest value per key (None where the last record is a tombstone)."""
    latest: dict[str, dict | None] = {}
    for record in read_topic(settings, topic, timeout_ms=500):
        if record.key:
            latest[record.key.decode("utf-8", "replace")] = None if record.value is None else orjson.loads(record.value)
    return latest
