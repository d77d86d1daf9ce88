"""Kafka clients built from the settings: producers that confirm delivery, consumers, topic admin."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import orjson
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from pipeline.config import TOPIC_KEYS, Settings
from pipeline.stages.base import TransientError

# Topic-level settings: retention long enough to replay; room for absurd inputs so they reach the DLQ;
# state topics are compacted (the latest record per key is kept, tombstones delete).
RETENTION_MS = {"dlq": -1}
DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000
COMPACTED = {"dedup-state"}


def producer(settings: Settings, **overrides) -> KafkaProducer:
    """A producer that waits for all in-sync replicas: acks=all."""
    options = dict(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        linger_ms=5,
        retries=5,
        max_request_size=settings.max_message_bytes + 64 * 1024,
        request_timeout_ms=30_000,
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
        return result
    finally:
        client.close()


def _topic_config(settings: Settings, key: str) -> dict[str, str]:
    config = {"max.message.bytes": str(settings.max_message_bytes + 64 * 1024)}
    if key in COMPACTED:
        config["cleanup.policy"] = "compact"
    else:
        config["retention.ms"] = str(RETENTION_MS.get(key, DEFAULT_RETENTION_MS))
    return config


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to produce."""

    topic: str
    key: str | None
    value: dict | None  # None is a tombstone (compacted topics)


def send_confirmed(prod: KafkaProducer, messages: Iterable[Outgoing], timeout_s: float = 60.0) -> int:
    """Send, flush and check every delivery; a failed one raises TransientError, never passes silently."""
    futures = [
        prod.send(m.topic, key=m.key.encode() if m.key else None, value=None if m.value is None else orjson.dumps(m.value))
        for m in messages
    ]
    prod.flush(timeout=timeout_s)
    for future in futures:
        try:
            future.get(timeout=timeout_s)
        except KafkaError as exc:
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
