"""The generic Kafka loop: poll a batch, process, produce, flush, then commit. Knows no stage."""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import orjson
import structlog
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from pydantic import ValidationError

from pipeline import kafka_io
from pipeline.config import Settings
from pipeline.contracts import ContractError, Contracts
from pipeline.identity import valid_article_id as _valid_id
from pipeline.kafka_io import Outgoing
from pipeline.records import Article, DlqError, DlqPayload, DlqRecord, DlqSource
from pipeline.stages.base import Done, Emit, Reject, Result, Stage, TransientError

log = structlog.get_logger("newsflow.runner")


class StopRequested(Exception):
    """The worker was asked to stop while waiting to retry; nothing was committed."""


@dataclass
class Counters:
    """What a worker has done since it started."""

    consumed: int = 0
    produced: int = 0
    dlq: int = 0
    batches: int = 0
    retries: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Decoded:
    message: object
    article: Article


class StageWorker:
    """Runs one stage as one member of its consumer group."""

    def __init__(
        self,
        stage: Stage,
        settings: Settings,
        contracts: Contracts,
        *,
        stop: threading.Event | None = None,
        consumer: KafkaConsumer | None = None,
        producer: KafkaProducer | None = None,
    ) -> None:
        self.stage = stage
        self.settings = settings
        self.contracts = contracts
        self.stop = stop or threading.Event()
        self.source_topics = {settings.topic(key): key for key in stage.sources}
        self.consumer = consumer or kafka_io.consumer(settings, settings.group(stage.name), self.source_topics)
        self.producer = producer or kafka_io.producer(settings)
        self.counters = Counters()
        self.log = log.bind(stage=stage.name)
        # A stateful stage (dedup) keeps its state in a compacted topic: rebuilt here, tailed before
        # every batch (so workers on other machines see each other's state), written with the outputs.
        self.state_key: str | None = getattr(stage, "state_topic", None)
        self._state_consumer = self._restore_state() if self.state_key else None

    # -- one cycle ---------------------------------------------------------------------------

    def _restore_state(self) -> KafkaConsumer:
        """Replay the whole state topic into the stage; returns a consumer positioned at its end."""
        topic = self.settings.topic(self.state_key)
        c = kafka_io.consumer(self.settings, None)
        tps = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or ())]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        end = c.end_offsets(tps)
        restored = 0
        while any(c.position(tp) < end[tp] for tp in tps):
            records = [r for batch in c.poll(timeout_ms=1000).values() for r in batch]
            self.stage.restore(_state_items(records))
            restored += len(records)
        self.log.info("state restored", topic=topic, records=restored)
        return c

    def _sync_state(self) -> None:
        """Apply state records written since the last batch (by this or any other worker)."""
        records = [r for batch in self._state_consumer.poll(timeout_ms=0).values() for r in batch]
        if records:
            self.stage.restore(_state_items(records))

    def step(self) -> int:
        """Poll one batch, process it, produce and confirm, commit. Returns how many messages it took."""
        if self._state_consumer is not None:
            self._sync_state()
        polled = self.consumer.poll(timeout_ms=self.settings.poll_timeout_ms, max_records=self.settings.batch_size)
        messages = [m for records in polled.values() for m in records]
        if not messages:
            return 0
        self._with_retries(lambda: self._handle(messages))
        self._with_retries(self.consumer.commit)
        self.counters.consumed += len(messages)
        self.counters.batches += 1
        stats = getattr(self.stage, "stats", None)
        if stats is not None:  # a stage's own counters (translate: requests, retries, cache hits...)
            self.log.info("batch done", messages=len(messages), **_as_dict(stats))
        return len(messages)

    def _handle(self, messages: list) -> None:
        """Decode, process and produce one batch; raises TransientError to have it retried whole."""
        outgoing: list[Outgoing] = []
        decoded: list[_Decoded] = []
        for message in messages:
            article = self._decode(message, outgoing)
            if article is not None:
                decoded.append(_Decoded(message, article))
        results = self._process([d.article for d in decoded])
        for item, result in zip(decoded, results, strict=True):
            self._route(item, result, outgoing)
        if self.state_key:
            topic = self.settings.topic(self.state_key)
            for key, value in self.stage.state_updates():
                if value is not None:
                    self.contracts.validate(self.state_key, value)
                outgoing.append(Outgoing(topic, key, value))
        kafka_io.send_confirmed(self.producer, outgoing)
        dlq_topic = self.settings.topic("dlq")
        for out in outgoing:
            self.counters.by_topic[out.topic] = self.counters.by_topic.get(out.topic, 0) + 1
            self.counters.dlq += out.topic == dlq_topic
        self.counters.produced += len(outgoing)

    def _decode(self, message, outgoing: list[Outgoing]) -> Article | None:
        """The message as an Article, or None after queuing a DLQ record that says why not."""
        raw: bytes | None = message.value
        key = message.key.decode("utf-8", "replace") if message.key else None
        topic_key = self.source_topics[message.topic]

        def reject(reason: str, error_class: str) -> None:
            outgoing.append(self._dlq(message, key, Reject(reason, error_class), article_id=_valid_id(key)))

        if raw is None or not raw.strip():
            return reject("empty message: no bytes to decode", "EmptyMessage")
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return reject(f"not UTF-8 text: {exc.reason} at byte {exc.start}", "NotUtf8")
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return reject(f"not JSON: {exc}", "NotJson")
        if not isinstance(obj, dict):
            return reject(f"not a JSON object: got {type(obj).__name__}", "NotJsonObject")
        article_id = _valid_id(key) or _valid_id(obj.get("article_id"))
        if key is not None and obj.get("article_id") != key:
            return reject(f"key {key!r} does not match article_id {obj.get('article_id')!r}", "KeyMismatch")
        text = obj.get("text")
        if isinstance(text, str) and len(text) > self.settings.max_text_chars:
            outgoing.append(
                self._dlq(
                    message, key,
                    Reject(f"text of {len(text):,} characters exceeds the limit of "
                           f"{self.settings.max_text_chars:,} (NEWSFLOW_MAX_TEXT_CHARS)", "TooLarge"),
                    article_id=article_id,
                )
            )
            return None
        try:
            self.contracts.validate(topic_key, obj)
            return Article.model_validate(obj)
        except ContractError as exc:
            outgoing.append(self._dlq(message, key, Reject(f"schema {exc}", "ContractError"), article_id=article_id))
        except ValidationError as exc:
            outgoing.append(self._dlq(message, key, Reject(str(exc), "ValidationError"), article_id=article_id))
        return None

    def _process(self, articles: list[Article]) -> list[Result]:
        """The stage's results; when the batch raises, each article is tried alone so one bad one can't block the rest."""
        if not articles:
            return []
        try:
            results = self.stage.process(articles)
        except TransientError:
            raise
        except Exception as exc:  # noqa: BLE001 - isolate the article that breaks the stage
            self.log.warning("batch failed, isolating articles", error=repr(exc), size=len(articles))
            results = []
            for article in articles:
                try:
                    results.extend(self.stage.process([article]))
                except TransientError:
                    raise
                except Exception as single:  # noqa: BLE001
                    self.log.error("article failed", article_id=article.article_id, error=repr(single))
                    results.append(Reject(f"{type(single).__name__}: {single}", type(single).__name__, "processing"))
        if len(results) != len(articles):
            raise RuntimeError(f"stage {self.stage.name} returned {len(results)} results for {len(articles)} articles")
        return results

    def _route(self, item: _Decoded, result: Result, outgoing: list[Outgoing]) -> None:
        """Validate an output against its topic's contract and queue it, or queue the DLQ record."""
        article_id = item.article.article_id
        key = item.message.key.decode("utf-8", "replace") if item.message.key else None
        if isinstance(result, Emit):
            wire = result.article.to_wire()
            try:
                self.contracts.validate(result.topic, wire)
            except ContractError as exc:
                # A stage produced something its contract forbids: a bug, kept as data, loudly logged.
                self.log.error("output breaks contract", article_id=article_id, error=str(exc))
                outgoing.append(
                    self._dlq(item.message, key, Reject(f"output {exc}", "ContractError", "processing"), article_id)
                )
                return
            outgoing.append(Outgoing(self.settings.topic(result.topic), result.article.article_id, wire))
            self.log.debug("emitted", article_id=article_id, topic=result.topic)
        elif isinstance(result, Reject):
            outgoing.append(self._dlq(item.message, key, result, article_id))
        elif not isinstance(result, Done):
            raise TypeError(f"stage {self.stage.name} returned {result!r}")

    def _dlq(self, message, key: str | None, reject: Reject, article_id: str | None) -> Outgoing:
        """The DLQ message for a rejected input, with its original bytes."""
        record = DlqRecord(
            article_id=article_id,
            stage=self.stage.name,
            error=DlqError(class_=reject.error_class, message=reject.reason, kind=reject.kind),
            source=DlqSource(topic=message.topic, partition=message.partition, offset=message.offset, key=key),
            attempts=1,
            payload=DlqPayload.of(message.value or b""),
        )
        wire = self.contracts.validate("dlq", record.to_wire())
        self.log.warning(
            "sent to DLQ", article_id=article_id, error_class=reject.error_class, reason=reject.reason[:300],
            topic=message.topic, partition=message.partition, offset=message.offset,
        )
        return Outgoing(self.settings.topic("dlq"), article_id, wire)

    # -- transient failures -------------------------------------------------------------------

    def _with_retries(self, action: Callable[[], object]) -> None:
        """Run `action`, backing off on transient errors; never skips, never gives up unless bounded."""
        attempt = 0
        delay = self.settings.retry_backoff_initial_s
        while True:
            attempt += 1
            try:
                action()
                return
            except (TransientError, KafkaError) as exc:
                limit = self.settings.retry_max_attempts
                if limit and attempt >= limit:
                    raise
                self.counters.retries += 1
                wait = min(delay, self.settings.retry_backoff_max_s) * (0.5 + random.random() / 2)
                self.log.warning("transient failure, retrying", error=str(exc)[:300], attempt=attempt, wait_s=round(wait, 2))
                if self.stop.wait(wait):
                    raise StopRequested(f"{self.stage.name}: stopped while retrying; batch not committed") from exc
                delay *= 2

    # -- lifecycle ----------------------------------------------------------------------------

    def drained(self) -> bool:
        """True when the group owns partitions and has consumed everything in them."""
        assignment = self.consumer.assignment()
        if not assignment:
            return False
        end = self.consumer.end_offsets(list(assignment))
        return all(self.consumer.position(tp) >= end[tp] for tp in assignment)

    def close(self) -> None:
        """Leave the group and flush; offsets were committed batch by batch."""
        try:
            self.producer.flush(timeout=30)
        finally:
            self.producer.close(timeout=30)
            self.consumer.close(autocommit=False)
            if self._state_consumer is not None:
                self._state_consumer.close()


def _as_dict(stats) -> dict:
    from dataclasses import asdict, is_dataclass

    return asdict(stats) if is_dataclass(stats) else dict(stats)


def _state_items(records) -> list[tuple[str, dict | None]]:
    """(key, value) pairs of state records; a None value is a tombstone."""
    return [
        (r.key.decode("utf-8"), None if r.value is None else orjson.loads(r.value)) for r in records if r.key
    ]


def run_workers(
    workers: Sequence[StageWorker],
    stop: threading.Event,
    *,
    follow: bool = False,
    timeout_s: float | None = None,
    on_progress: Callable[[StageWorker, int], None] | None = None,
) -> bool:
    """Step the workers in turn until stopped, or (without `follow`) until every topic is drained.

    Returns True when drained (or stopped cleanly), False when the timeout came first.
    """
    deadline = time.monotonic() + timeout_s if timeout_s else None
    while not stop.is_set():
        handled = 0
        for worker in workers:
            if stop.is_set():
                break
            n = worker.step()
            handled += n
            if on_progress and n:
                on_progress(worker, n)
        if not follow and handled == 0 and all(w.drained() for w in workers):
            return True
        if deadline and time.monotonic() > deadline:
            return False
    return True


def install_signal_handlers(stop: threading.Event) -> None:
    """SIGTERM and SIGINT finish the current batch, commit and close."""

    def handler(signum, _frame):
        log.info("stop requested", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


__all__ = ["StageWorker", "run_workers", "install_signal_handlers", "StopRequested", "TopicPartition"]
