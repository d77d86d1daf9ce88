"""The only module that speaks kafka-python.

Topics (admin, with their settings), confirmed produce (in chunks), reading a topic by offsets or by
time, group lag, and what a stage worker needs: a member of its consumer group, a tail of a compacted
state topic and a publisher. kafka-python's errors do not leave this module: they become
`TransientError` or `InfrastructureError` (pipeline/errors.py) with `dependency="kafka"`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import orjson
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka import errors as kerr
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from pipeline.config import TOPIC_KEYS, Settings
from pipeline.errors import InfrastructureError, TransientError

# The broker cannot be reached at all (for the CLI's one-line message).
UNREACHABLE = (kerr.KafkaConnectionError, kerr.KafkaTimeoutError, kerr.UnrecognizedBrokerVersion)

# Kafka refusing us for a reason retrying alone will not fix: hold, never dead-letter.
_HOLDING = (
    kerr.TopicAuthorizationFailedError,
    kerr.GroupAuthorizationFailedError,
    kerr.ClusterAuthorizationFailedError,
    kerr.SaslAuthenticationFailedError,
    kerr.UnknownTopicOrPartitionError,
    kerr.InvalidTopicError,
)

# Topic-level settings: retention long enough to replay; room for absurd inputs so they reach the DLQ;
# state topics are compacted (the latest record per key is kept, tombstones delete). The ledger's terminal
# events outlive the raw messages they account for. The raw topic is stamped by the broker
# (LogAppendTime), so its timestamps rise with its offsets and a time window is an offset range.
DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000
RETENTION_MS = {"dlq": -1, "ledger": 2 * DEFAULT_RETENTION_MS}
COMPACTED = {"dedup-state", "ledger-state", "workers", "source-state", "enrich-state"}
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


def ensure_topics(settings: Settings, keys: Iterable[str] = TOPIC_KEYS) -> dict[str, str]:
    """Create every topic (of `keys`) that does not exist yet; returns {topic: 'created' | 'exists'}."""
    keys = tuple(keys)
    client = admin(settings)
    try:
        existing = set(client.list_topics())
        result = {}
        missing = []
        for key in keys:
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
        upgrade = [k for k in BROKER_TIMESTAMPS if k in keys and result[settings.topic(k)] == "exists"]
        if upgrade:  # topics made by an earlier version: broker timestamps from now on (AlterConfigs sets them all)
            client.alter_configs(
                [
                    ConfigResource(ConfigResourceType.TOPIC, settings.topic(k), configs=_topic_config(settings, k))
                    for k in upgrade
                ]
            )
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
    value: dict | bytes | None  # a JSON object, bytes as they are (a DLQ original), or None: a tombstone


def send_confirmed(prod: KafkaProducer, messages: Iterable[Outgoing], timeout_s: float = 60.0) -> int:
    """Send, flush and check every delivery; a failed one raises (TransientError, or InfrastructureError for
    an unknown topic or a refused authorisation), never passes silently."""
    try:
        futures = [prod.send(m.topic, key=m.key.encode() if m.key else None, value=_encode(m.value)) for m in messages]
        prod.flush(timeout=timeout_s)
        for future in futures:
            future.get(timeout=timeout_s)
    except KafkaError as exc:
        raise failure(exc, "delivery to Kafka failed") from exc
    return len(futures)


def _encode(value: dict | bytes | None) -> bytes | None:
    return value if value is None or isinstance(value, bytes) else orjson.dumps(value)


def failure(exc: KafkaError, what: str) -> Exception:
    """The error policy's exception for a kafka-python error."""
    if isinstance(exc, _HOLDING):
        return InfrastructureError(f"{what}: Kafka refused: {exc!r}", dependency="kafka")
    return TransientError(f"{what}: {exc!r}", dependency="kafka")


def produce_confirmed(
    settings: Settings,
    messages: Sequence[Outgoing],
    *,
    chunk: int = 500,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Produce `messages` in order, in confirmed chunks (each acknowledged before the next is sent), with a
    producer of its own; returns how many. The one way operations and sources produce."""
    if not messages:
        return 0
    prod = producer(settings)
    try:
        for start in range(0, len(messages), chunk):
            part = messages[start : start + chunk]
            send_confirmed(prod, part)
            if on_progress:
                on_progress(len(part))
    finally:
        prod.close()
    return len(messages)


# -- reading ----------------------------------------------------------------------------------------


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
    return [PartitionRange(tp.partition, max(lo[tp], begin[tp]), max(hi[tp], begin[tp]), begin[tp]) for tp in tps]


def _read(c: KafkaConsumer, topic: str, ranges: list[PartitionRange], max_records: int | None = None) -> Iterator:
    """The records of each partition's [start, end), in offset order per partition."""
    todo = {TopicPartition(topic, r.partition): r for r in ranges if r.start < r.end}
    if not todo:
        return
    c.assign(list(todo))
    for tp, r in todo.items():
        c.seek(tp, r.start)
    remaining = set(todo)
    while remaining:
        for tp, records in c.poll(timeout_ms=1000, max_records=max_records or 500).items():
            yield from (r for r in records if r.offset < todo[tp].end)
        remaining = {tp for tp in remaining if c.position(tp) < todo[tp].end}


def read_window(settings: Settings, topic: str, since_ms: int | None = None, until_ms: int | None = None) -> Iterator:
    """Records of a topic with a broker timestamp in [since, until); None: from the beginning / to the current end."""
    c = consumer(settings, None)
    try:
        yield from _read(c, topic, offsets_between(c, topic, since_ms, until_ms), settings.batch_size)
    finally:
        c.close()


def read_topic(settings: Settings, topic: str) -> Iterator:
    """Every record of a topic from the beginning to its current end, without a consumer group."""
    return read_window(settings, topic)


def read_from(settings: Settings, topic: str, start: dict[int, int]) -> Iterator:
    """Records of a topic from per-partition offsets (missing partitions: the beginning) to the current end."""
    c = consumer(settings, None)
    try:
        ranges = [
            PartitionRange(r.partition, max(start.get(r.partition, 0), r.start), r.end, r.log_start)
            for r in offsets_between(c, topic)
        ]
        yield from _read(c, topic, ranges)
    finally:
        c.close()


def latest_by_key(settings: Settings, topic: str) -> dict[str, dict | None]:
    """A compacted topic read to its end: the latest value per key (None where the last record is a tombstone)."""
    latest: dict[str, dict | None] = {}
    for record in read_topic(settings, topic):
        if record.key:
            latest[record.key.decode("utf-8", "replace")] = None if record.value is None else orjson.loads(record.value)
    return latest


def count_since(settings: Settings, topic: str, since_ms: int) -> int:
    """Records appended to a topic since a time, from the broker's time index (every producer, every machine)."""
    c = consumer(settings, None)
    try:
        return sum(r.end - r.start for r in offsets_between(c, topic, since_ms))
    finally:
        c.close()


def first_timestamp_since(settings: Settings, topic: str, since_ms: int) -> int | None:
    """Timestamp of the oldest record of a topic at or after `since_ms`, or None when there is none."""
    c = consumer(settings, None)
    try:
        ranges = [r for r in offsets_between(c, topic, since_ms) if r.start < r.end]
        firsts = []
        for r in ranges:  # one record per partition: its first in the window
            for record in _read(c, topic, [PartitionRange(r.partition, r.start, r.start + 1, r.log_start)]):
                firsts.append(record.timestamp)
        return min(firsts) if firsts else None
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


def bootstrap_addresses(settings: Settings) -> list[str]:
    """`host:port` of each bootstrap server."""
    return [a.strip() for a in settings.bootstrap_servers.split(",") if a.strip()]


# -- what a stage worker needs -------------------------------------------------------------------------


class GroupMember:
    """A member of a stage's consumer group on its input topics; commits only when told to."""

    def __init__(self, settings: Settings, group_id: str, topics: Iterable[str]) -> None:
        self.settings = settings
        self._c = consumer(settings, group_id, topics)

    def poll(self) -> list:
        """The next batch (up to NEWSFLOW_BATCH_SIZE), possibly empty."""
        try:
            polled = self._c.poll(timeout_ms=self.settings.poll_timeout_ms, max_records=self.settings.batch_size)
        except KafkaError as exc:
            raise failure(exc, "poll failed") from exc
        return [m for records in polled.values() for m in records]

    def commit(self) -> None:
        """Commit what was polled; kafka-python's errors as the policy's."""
        try:
            self._c.commit()
        except KafkaError as exc:
            raise failure(exc, "commit failed") from exc

    def drained(self) -> bool:
        """True when the group owns partitions and has consumed everything in them."""
        assignment = self._c.assignment()
        if not assignment:
            return False
        try:
            end = self._c.end_offsets(list(assignment))
        except KafkaError:
            return False  # the broker is away: not drained, the next poll will say more
        return all(self._c.position(tp) >= end[tp] for tp in assignment)

    def close(self) -> None:
        """Leave the group without committing (offsets were committed batch by batch)."""
        self._c.close(autocommit=False)


class StateTail:
    """A compacted state topic: read whole at start, then tailed for what any worker writes."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self._c = consumer(settings, None)
        partitions = self._c.partitions_for_topic(topic)
        if not partitions:
            self._c.close()
            raise InfrastructureError(f"state topic {topic} does not exist (run `newsflow init`)", dependency="kafka")
        self._tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        self._c.assign(self._tps)
        self._c.seek_to_beginning(*self._tps)

    def restore(self) -> Iterator[list[tuple[str, dict | None]]]:
        """Everything written so far, in batches of (key, value) pairs; a None value is a tombstone."""
        end = self._c.end_offsets(self._tps)
        while any(self._c.position(tp) < end[tp] for tp in self._tps):
            yield self.poll(timeout_ms=1000)

    def poll(self, timeout_ms: int = 0) -> list[tuple[str, dict | None]]:
        """What was written since the last call."""
        records = [r for batch in self._c.poll(timeout_ms=timeout_ms).values() for r in batch]
        return [(r.key.decode("utf-8"), None if r.value is None else orjson.loads(r.value)) for r in records if r.key]

    def close(self) -> None:
        self._c.close()


class Publisher:
    """The worker's producer: confirmed batches for outputs, best-effort single records for its own state."""

    def __init__(self, settings: Settings) -> None:
        self._p = producer(settings)

    def send(self, messages: Sequence[Outgoing]) -> int:
        """Send and confirm every message (see `send_confirmed`)."""
        return send_confirmed(self._p, messages)

    def post(self, message: Outgoing) -> bool:
        """Queue one message without waiting for it; False when Kafka would not even take it now."""
        try:
            self._p.send(message.topic, key=message.key.encode() if message.key else None, value=_encode(message.value))
            return True
        except KafkaError:
            return False

    def flush(self, timeout_s: float = 30.0) -> None:
        try:
            self._p.flush(timeout=timeout_s)
        except KafkaError:
            pass  # what could not be flushed is retried by the next confirmed send, or lost if best-effort

    def close(self, timeout_s: float = 30.0) -> None:
        self._p.close(timeout=timeout_s)
