"""What a stage worker needs of Kafka: a group member on its inputs, a tail of a compacted state topic, a publisher."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import orjson
from kafka import TopicPartition
from kafka.errors import KafkaError

from pipeline.config import Settings
from pipeline.errors import InfrastructureError
from pipeline.kafka_io.clients import Outgoing, _encode, consumer, failure, producer, send_confirmed

# -- what a stage worker needs -------------------------------------------------------------------------


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
