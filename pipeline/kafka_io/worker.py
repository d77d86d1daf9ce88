"""What a stage worker needs of Kafka: a group member on its inputs, a tail of a compacted state topic, a publisher."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol, runtime_checkable

import orjson
from kafka import TopicPartition
from kafka.errors import KafkaError
from kafka.record import util as record_util

from pipeline.config import Settings
from pipeline.errors import InfrastructureError
from pipeline.kafka_io.clients import Outgoing, _encode, consumer, failure, producer, send_confirmed

# -- what a stage worker needs -------------------------------------------------------------------------

# kafka-python checks every fetched batch's CRC-32C in pure Python (~10 MB/s on this machine) unless the optional
# `crc32c` C extension is installed: a restart's tail of 100k dedup state records (~290 MB) would spend ~30 s on
# it. Without the extension the state tail leaves the check to the broker, which verified each batch's CRC when
# it was produced; with it, the tail checks too.
STATE_TAIL_CHECKS_CRCS = getattr(record_util, "crc32c_c", None) is not None
STATE_TAIL_POLL_RECORDS = 2_000  # records per poll while a state topic is read at start (fewer round trips)


class GroupMember:
    """A member of a stage's consumer group on its input topics; commits only when told to."""

    def __init__(self, settings: Settings, group_id: str, topics: Iterable[str]) -> None:
        self.settings = settings
        self._c = consumer(settings, group_id, topics)

    def poll(self, max_records: int | None = None) -> list:
        """The next batch (up to `max_records`, default NEWSFLOW_BATCH_SIZE), possibly empty."""
        try:
            polled = self._c.poll(
                timeout_ms=self.settings.poll_timeout_ms, max_records=max_records or self.settings.batch_size
            )
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

    def lag(self) -> dict[tuple[str, int], int]:
        """Messages behind the end per owned partition, from what the last fetches said: no broker round-trip.
        A partition whose end or position is not known yet is left out."""
        behind = {}
        try:
            for tp in self._c.assignment():
                end, position = self._c.highwater(tp), self._c.position(tp, timeout_ms=0)
                if end is not None and position is not None:
                    behind[(tp.topic, tp.partition)] = max(end - position, 0)
        except KafkaError:
            pass  # a rebalance under way: the next poll's lag says it
        return behind

    def close(self) -> None:
        """Leave the group without committing (offsets were committed batch by batch)."""
        self._c.close(autocommit=False)


@runtime_checkable
class Checkpoint(Protocol):
    """A stage state that can be saved with the state-topic offsets it covers (a snapshot), so that a restart
    loads it and replays only the records after those offsets (pipeline/dedup/snapshot.py)."""

    def load_snapshot(self, topic: str) -> tuple[dict[int, int] | None, str]:
        """Load the stored snapshot: (partition -> offset it covers, what was loaded), or (None, why none could be:
        the state is then empty)."""
        ...

    def discard_snapshot(self) -> None:
        """Empty the state: the loaded snapshot does not fit the topic."""
        ...

    def snapshot_due(self, closing: bool = False) -> bool:
        """True when a snapshot should be written now."""
        ...

    def save_snapshot(self, topic: str, offsets: dict[int, int]) -> None:
        """Write a snapshot covering every record before `offsets` (failures logged, not raised)."""
        ...


class StateTail:
    """A compacted state topic: read at start (from a snapshot's offsets when the state has one that fits, else
    whole), then tailed for what any worker writes; it asks the state to snapshot itself between batches and
    when the worker closes cleanly."""

    def __init__(
        self,
        settings: Settings,
        topic: str,
        checkpoint: Checkpoint | None = None,
        *,
        clean: Callable[[], bool] = lambda: True,
    ) -> None:
        self._c = consumer(
            settings,
            None,
            check_crcs=STATE_TAIL_CHECKS_CRCS,
            max_poll_records=max(settings.batch_size, STATE_TAIL_POLL_RECORDS),
        )
        partitions = self._c.partitions_for_topic(topic)
        if not partitions:
            self._c.close()
            raise InfrastructureError(f"state topic {topic} does not exist (run `newsflow init`)", dependency="kafka")
        self.topic = topic
        self._tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        self._c.assign(self._tps)
        self._checkpoint = checkpoint if isinstance(checkpoint, Checkpoint) else None
        self._clean = clean  # False when the worker stops on a failure: no snapshot at close then
        self.snapshot: str | None = None  # the snapshot the state was loaded from (None: the topic is read whole)
        self.fallback: str | None = None  # why a snapshot was not used
        self._start()

    def _start(self) -> None:
        """Seek to the loaded snapshot's offsets when they fit the topic, else to its beginning."""
        if self._checkpoint is not None:
            offsets, note = self._checkpoint.load_snapshot(self.topic)
            if offsets is not None:
                misfit = self._misfit(offsets)
                if misfit is None:
                    for tp in self._tps:
                        self._c.seek(tp, offsets[tp.partition])
                    self.snapshot = note
                    return
                self._checkpoint.discard_snapshot()
                note = misfit
            self.fallback = note
        self._c.seek_to_beginning(*self._tps)

    def _misfit(self, offsets: dict[int, int]) -> str | None:
        """Why a snapshot's offsets cannot be this topic's (another partition count, or a topic recreated or
        truncated since), or None."""
        partitions = sorted(tp.partition for tp in self._tps)
        if sorted(offsets) != partitions:
            return f"the snapshot covers partitions {sorted(offsets)}, {self.topic} has {partitions}"
        first, end = self._c.beginning_offsets(self._tps), self._c.end_offsets(self._tps)
        for tp in self._tps:
            if not first[tp] <= offsets[tp.partition] <= end[tp]:
                return (
                    f"the snapshot covers {self.topic}[{tp.partition}] up to offset {offsets[tp.partition]}, the "
                    f"partition now holds {first[tp]}..{end[tp]} (recreated or truncated)"
                )
        return None

    def restore(self) -> Iterator[list[tuple[str, dict | None]]]:
        """Everything written after the start position, in batches of (key, value) pairs; None is a tombstone."""
        end = self._c.end_offsets(self._tps)
        while any(self._c.position(tp) < end[tp] for tp in self._tps):
            yield self._read(timeout_ms=1000)

    def poll(self, timeout_ms: int = 0) -> list[tuple[str, dict | None]]:
        """What was written since the last call (after writing a snapshot when one is due: everything read so far
        has been applied by then, and the previous batch's own records are confirmed)."""
        if self._checkpoint is not None and self._checkpoint.snapshot_due():
            try:
                offsets = self.positions()
            except KafkaError:
                offsets = None  # due again at the next batch
            if offsets is not None:
                self._checkpoint.save_snapshot(self.topic, offsets)
        return self._read(timeout_ms)

    def _read(self, timeout_ms: int) -> list[tuple[str, dict | None]]:
        records = [r for batch in self._c.poll(timeout_ms=timeout_ms).values() for r in batch]
        return [(r.key.decode("utf-8"), None if r.value is None else orjson.loads(r.value)) for r in records if r.key]

    def positions(self) -> dict[int, int]:
        """The next offset to read, per partition: what the state has applied so far."""
        return {tp.partition: self._c.position(tp) for tp in self._tps}

    def close(self) -> None:
        """Snapshot the state when the worker stops cleanly and something changed, then close."""
        try:
            if self._checkpoint is not None and self._clean() and self._checkpoint.snapshot_due(closing=True):
                self._checkpoint.save_snapshot(self.topic, self.positions())
        except KafkaError:
            pass  # no positions without the broker: the next start replays a little more
        finally:
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
