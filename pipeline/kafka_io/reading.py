"""Reading topics without a consumer group: by offsets, by broker time, to the end; group lag; drained or not."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import orjson
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from pipeline.config import Settings
from pipeline.kafka_io.clients import admin, consumer

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


class DrainProbe:
    """Whether consumer groups have committed everything in their input topics, judged from outside the groups.

    Workers in other processes commit a batch only after its outputs are confirmed. So when every group's
    committed offsets, read *first*, equal the end offsets read *after* them, nothing is left anywhere in the
    chain: an output produced before the committed offsets were read is in the end offsets, and committed too.
    """

    def __init__(self, settings: Settings, groups: dict[str, Iterable[str]]) -> None:
        self._groups = {group: list(topics) for group, topics in groups.items()}
        self._admin = admin(settings)
        self._c = consumer(settings, None)

    def settled(self) -> bool:
        """True when every group has committed the end of every partition of its topics; False when unsure."""
        try:
            committed = self._admin.list_group_offsets(dict.fromkeys(self._groups))  # one OffsetFetch (KIP-709)
            tps = {
                g: [TopicPartition(t, p) for t in topics for p in sorted(self._c.partitions_for_topic(t) or ())]
                for g, topics in self._groups.items()
            }
            every = sorted({tp for group_tps in tps.values() for tp in group_tps})
            if not every:
                return True
            end = self._c.end_offsets(every)
            begin = self._c.beginning_offsets(every)
        except KafkaError:
            return False  # the broker is away: not known to be settled
        for group, group_tps in tps.items():
            for tp in group_tps:
                done = committed.get(group, {}).get(tp)
                position = done.offset if done is not None and done.offset >= 0 else begin[tp]
                if position < end[tp]:
                    return False
        return True

    def close(self) -> None:
        self._c.close()
        self._admin.close()
