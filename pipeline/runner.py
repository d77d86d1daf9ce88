"""The generic Kafka loop: poll a batch, process, produce, flush, then commit. Knows no stage.

Failures are handled by class (pipeline/errors.py), here and nowhere else: bad input and single broken
articles go to the DLQ; transient failures are retried with backoff and nothing is committed past them;
infrastructure failures hold the worker (it says why, and `news.workers.v1` shows it) until they clear
or `NEWSFLOW_FATAL_AFTER_S` passes; a stage that raises for many articles trips a breaker and stops.
Every terminal outcome (indexed, dead-lettered) is also written to `news.ledger.v1` for the audit.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import threading
import time
from collections import Counter, deque
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
from pipeline.entry import EntryError, article_from_entry
from pipeline.errors import (
    FailureClass,
    FatalError,
    InfrastructureError,
    ProcessingBreakerOpen,
    TransientError,
    classify,
    isolatable,
)
from pipeline.identity import valid_article_id as _valid_id
from pipeline.kafka_io import Outgoing
from pipeline.records import (
    Article,
    DlqError,
    DlqPayload,
    DlqRecord,
    DlqSource,
    LedgerEvent,
    RawOrigin,
    WorkerState,
    utc_now,
)
from pipeline.retry import Backoff, listening, wait_unless
from pipeline.stages.base import Done, Emit, Reject, Result, Stage

log = structlog.get_logger("newsflow.runner")

ENTRY_TOPIC = "raw"
# A DLQ record's kind -> the ledger's terminal state.
DLQ_STATES = {"bad_input": "dlq_bad_input", "indexing": "dlq_bad_input", "processing": "dlq_processing"}


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
    held_s: float = 0.0
    by_topic: dict[str, int] = field(default_factory=dict)
    dlq_by_class: Counter = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class _Decoded:
    message: object
    article: Article


@dataclass
class _Trouble:
    """An ongoing failure: since when, of which class, and why (for the one WARNING/ERROR and the recovery line)."""

    klass: FailureClass
    since: float
    reason: str
    dependency: str
    attempts: int = 0


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
        self.worker_id = f"{stage.name}/{socket.gethostname()}/{os.getpid()}"
        self.started_at = utc_now()
        self.log = log.bind(stage=stage.name)
        self.trouble: _Trouble | None = None
        self.failed = False
        self._recent: deque[bool] = deque(maxlen=settings.processing_breaker_window)
        self._attempts: Counter = Counter()
        self._topics_checked = consumer is not None
        self._last_beat = float("-inf")
        self._rng = random.Random()
        # A stateful stage (dedup) keeps its state in a compacted topic: rebuilt here, tailed before
        # every batch (so workers on other machines see each other's state), written with the outputs.
        self.state_key: str | None = getattr(stage, "state_topic", None)
        self._state_consumer = self._guarded(self._restore_state) if self.state_key else None

    # -- one cycle ---------------------------------------------------------------------------

    def _restore_state(self) -> KafkaConsumer:
        """Replay the whole state topic into the stage; returns a consumer positioned at its end."""
        topic = self.settings.topic(self.state_key)
        c = kafka_io.consumer(self.settings, None)
        partitions = c.partitions_for_topic(topic)
        if not partitions:
            c.close()
            raise InfrastructureError(f"state topic {topic} does not exist (run `newsflow init`)", dependency="kafka")
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
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
        self._heartbeat()
        if not self._topics_checked:
            self._guarded(self._check_topics)
            self._clear_failed()
        if self._state_consumer is not None:
            self._sync_state()
        polled = self.consumer.poll(timeout_ms=self.settings.poll_timeout_ms, max_records=self.settings.batch_size)
        messages = [m for records in polled.values() for m in records]
        if not messages:
            return 0
        self._guarded(lambda: self._handle(messages))
        self._guarded(self.consumer.commit)
        self._attempts.clear()
        self.counters.consumed += len(messages)
        self.counters.batches += 1
        stats = getattr(self.stage, "stats", None)
        if stats is not None:  # a stage's own counters (translate: requests, retries, cache hits...)
            self.log.info("batch done", messages=len(messages), **_as_dict(stats))
        return len(messages)

    def _check_topics(self) -> None:
        """The topics this worker reads and writes exist: a missing one is the operator's to fix, not a DLQ matter."""
        existing = kafka_io.existing_topics(self.settings)
        needed = {*self.source_topics, self.settings.topic("dlq"), self.settings.topic("ledger")}
        missing = sorted(needed - existing)
        if missing:
            raise InfrastructureError(f"topics missing: {', '.join(missing)} (run `newsflow init`)", dependency="kafka")
        self._topics_checked = True

    def _clear_failed(self) -> None:
        """A worker of this stage runs again: earlier workers of it that gave up no longer hold the stream."""
        states = kafka_io.latest_by_key(self.settings, self.settings.topic("workers"))
        for key, value in states.items():
            if value and value.get("stage") == self.stage.name and value.get("state") == "failed":
                self.producer.send(self.settings.topic("workers"), key=key.encode(), value=None)

    def _handle(self, messages: list) -> None:
        """Decode, process and produce one batch; raises TransientError to have it retried whole."""
        outgoing: list[Outgoing] = []
        decoded: list[_Decoded] = []
        for message in messages:
            article = self._decode(message, outgoing)
            if article is not None:
                decoded.append(_Decoded(message, article))
        results = self._process(decoded)
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
            if out.topic == dlq_topic:
                self.counters.dlq += 1
                self.counters.dlq_by_class[out.value["error"]["kind"]] += 1
        self.counters.produced += len(outgoing)

    def _decode(self, message, outgoing: list[Outgoing]) -> Article | None:
        """The message as an Article, or None after queuing a DLQ record that says why not."""
        raw: bytes | None = message.value
        key = message.key.decode("utf-8", "replace") if message.key else None
        topic_key = self.source_topics[message.topic]
        entry = topic_key == ENTRY_TOPIC
        origin = _origin_of(message, key) if entry else None

        def reject(reason: str, error_class: str, article_id: str | None = None, obj: dict | None = None) -> None:
            where = origin or _raw_in(obj)
            outgoing.extend(self._dlq(message, key, Reject(reason, error_class), article_id, where))

        if raw is None or not raw.strip():
            return reject("empty message: no bytes to decode", "EmptyMessage", _valid_id(key))
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return reject(f"not UTF-8 text: {exc.reason} at byte {exc.start}", "NotUtf8", _valid_id(key))
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return reject(f"not JSON: {exc}", "NotJson", _valid_id(key))
        if not isinstance(obj, dict):
            return reject(f"not a JSON object: got {type(obj).__name__}", "NotJsonObject", _valid_id(key))
        # On the entry topic any key is fine (the id is computed); internal topics are keyed by article_id.
        article_id = _valid_id(obj.get("article_id")) or (None if entry else _valid_id(key))
        if not entry and key is not None and obj.get("article_id") != key:
            return reject(f"key {key!r} does not match article_id {obj.get('article_id')!r}", "KeyMismatch",
                          article_id, obj)
        text = obj.get("text")
        if isinstance(text, str) and len(text) > self.settings.max_text_chars:
            return reject(f"text of {len(text):,} characters exceeds the limit of "
                          f"{self.settings.max_text_chars:,} (NEWSFLOW_MAX_TEXT_CHARS)", "TooLarge", article_id, obj)
        try:
            self.contracts.validate(topic_key, obj)
            return article_from_entry(obj, origin) if entry else Article.model_validate(obj)
        except ContractError as exc:
            reject(f"schema {exc}", "ContractError", article_id, obj)
        except EntryError as exc:
            reject(str(exc), "EntryError", article_id, obj)
        except ValidationError as exc:
            reject(str(exc), "ValidationError", article_id, obj)
        return None

    def _process(self, decoded: list[_Decoded]) -> list[Result]:
        """The stage's results. When the batch raises, each article is tried alone, so one broken article
        goes to the DLQ; when many raise, the breaker stops the worker instead of dead-lettering the stream."""
        if not decoded:
            return []
        articles = [d.article for d in decoded]
        for d in decoded:
            self._attempts[_coords(d.message)] += 1
        try:
            results = self.stage.process(articles)
            failed = [False] * len(articles)
        except Exception as exc:  # noqa: BLE001 - the policy decides below
            if classify(exc) is not FailureClass.PROCESSING or not isolatable(exc):
                raise
            if len(articles) == 1:
                results, failed = [self._failed(decoded[0], exc)], [True]
            else:
                self.log.warning("batch failed, isolating articles", error=repr(exc)[:300], size=len(articles))
                results, failed = [], []
                for item in decoded:
                    self._attempts[_coords(item.message)] += 1
                    try:
                        results.extend(self.stage.process([item.article]))
                        failed.append(False)
                    except Exception as single:  # noqa: BLE001
                        if classify(single) is not FailureClass.PROCESSING or not isolatable(single):
                            raise
                        results.append(self._failed(item, single))
                        failed.append(True)
        if len(results) != len(articles):
            raise RuntimeError(f"stage {self.stage.name} returned {len(results)} results for {len(articles)} articles")
        self._breaker(failed)
        return results

    def _failed(self, item: _Decoded, exc: Exception) -> Reject:
        """The DLQ verdict for one article the stage raised on."""
        self.log.error("article failed", article_id=item.article.article_id, error=repr(exc)[:300])
        return Reject(f"{type(exc).__name__}: {exc}", type(exc).__name__, "processing",
                      self._attempts[_coords(item.message)])

    def _breaker(self, failed: list[bool]) -> None:
        """Stop when more than the allowed share of the recent articles made the stage raise."""
        self._recent.extend(failed)
        bad = sum(self._recent)
        s = self.settings
        if bad >= s.processing_breaker_min and bad / len(self._recent) > s.processing_breaker_share:
            raise ProcessingBreakerOpen(
                f"{bad} of the last {len(self._recent)} articles made stage {self.stage.name} raise "
                f"(limit {s.processing_breaker_share:.0%}): a bug, not bad input; nothing of this batch was "
                f"committed or dead-lettered"
            )

    def _route(self, item: _Decoded, result: Result, outgoing: list[Outgoing]) -> None:
        """Validate an output against its topic's contract and queue it, or queue the DLQ record."""
        article = item.article
        key = item.message.key.decode("utf-8", "replace") if item.message.key else None
        origin = article.pipeline.raw if article.pipeline else None
        if isinstance(result, Emit):
            wire = result.article.to_wire()
            try:
                self.contracts.validate(result.topic, wire)
            except ContractError as exc:
                # A stage produced something its contract forbids: a bug, kept as data, loudly logged.
                self.log.error("output breaks contract", article_id=article.article_id, error=str(exc))
                outgoing.extend(self._dlq(
                    item.message, key, Reject(f"output {exc}", "ContractError", "processing"), article.article_id, origin
                ))
                return
            outgoing.append(Outgoing(self.settings.topic(result.topic), result.article.article_id, wire))
            self.log.debug("emitted", article_id=article.article_id, topic=result.topic)
        elif isinstance(result, Reject):
            outgoing.extend(self._dlq(item.message, key, result, article.article_id, origin))
        elif isinstance(result, Done):
            duplicate = article.dedup is not None and article.dedup.is_duplicate
            outgoing.append(self._ledger(article.article_id, "duplicate" if duplicate else "unique", origin))
        else:
            raise TypeError(f"stage {self.stage.name} returned {result!r}")

    def _dlq(self, message, key: str | None, reject: Reject, article_id: str | None,
             origin: RawOrigin | None) -> list[Outgoing]:
        """The DLQ message for a rejected input, with its original bytes, and its ledger event."""
        record = DlqRecord(
            article_id=article_id,
            stage=self.stage.name,
            error=DlqError(class_=reject.error_class, message=reject.reason, kind=reject.kind),
            source=DlqSource(topic=message.topic, partition=message.partition, offset=message.offset, key=key),
            attempts=max(reject.attempts, 1),
            payload=DlqPayload.of(message.value or b""),
            raw=origin,
        )
        wire = self.contracts.validate("dlq", record.to_wire())
        self.log.warning(
            "sent to DLQ", article_id=article_id, error_class=reject.error_class, reason=reject.reason[:300],
            kind=reject.kind, attempts=record.attempts,
            topic=message.topic, partition=message.partition, offset=message.offset,
        )
        return [Outgoing(self.settings.topic("dlq"), article_id, wire),
                self._ledger(article_id, DLQ_STATES[reject.kind], origin)]

    def _ledger(self, article_id: str | None, state: str, origin: RawOrigin | None) -> Outgoing:
        """The terminal event the audit counts."""
        event = LedgerEvent(article_id=article_id, state=state, stage=self.stage.name, raw=origin).to_wire()
        return Outgoing(self.settings.topic("ledger"), article_id, self.contracts.validate("ledger", event))

    # -- failures by class --------------------------------------------------------------------

    def _guarded(self, action: Callable[[], object]):
        """Run `action` under the error policy: transient failures retry with backoff, infrastructure
        failures hold (and end the worker after NEWSFLOW_FATAL_AFTER_S); returns what `action` returned."""
        while True:
            try:
                result = action()
            except Exception as exc:  # noqa: BLE001 - sorted by class just below
                klass = classify(exc)
                if klass not in (FailureClass.TRANSIENT, FailureClass.INFRASTRUCTURE):
                    if isinstance(exc, ProcessingBreakerOpen):
                        self._fail(str(exc))
                    raise
                self._wait_out(exc, klass)
                continue
            if self.trouble is not None:
                self._recovered()
            return result

    def _wait_out(self, exc: Exception, klass: FailureClass) -> None:
        """Note the failure (one line when it starts), back off, and give up when the policy says so."""
        now = time.monotonic()
        dependency = getattr(exc, "dependency", "") or ("kafka" if isinstance(exc, KafkaError) else "")
        reason = str(exc)[:500] or type(exc).__name__
        if self.trouble is None or self.trouble.klass is not klass:
            self.trouble = _Trouble(klass, now, reason, dependency)
            if klass is FailureClass.INFRASTRUCTURE:
                self.log.error("held: infrastructure or configuration failure; not dead-lettering anything",
                               error=reason, dependency=dependency, fatal_after_s=self.settings.fatal_after_s)
            else:
                self.log.warning("dependency unavailable, retrying with backoff", error=reason, dependency=dependency)
        trouble = self.trouble
        trouble.attempts += 1
        trouble.reason = reason
        self.counters.retries += 1
        self.log.debug("retrying", error=reason, attempt=trouble.attempts)
        if klass is FailureClass.INFRASTRUCTURE:
            self._publish("held", reason, dependency, force=trouble.attempts == 1)
            fatal = self.settings.fatal_after_s
            if fatal and now - trouble.since >= fatal:
                self._fail(f"held for {now - trouble.since:.0f}s (NEWSFLOW_FATAL_AFTER_S={fatal:g}): {reason}")
                raise FatalError(f"{self.stage.name}: held for {now - trouble.since:.0f}s by: {reason}") from exc
        else:
            limit = self.settings.retry_max_attempts
            if limit and trouble.attempts >= limit:
                raise exc
        wait = Backoff(self.settings.retry_backoff_initial_s, self.settings.retry_backoff_max_s).delay(
            trouble.attempts - 1, self._rng)
        # When the failing service is not even listening, retry as soon as it listens again.
        down = [a for a in self._addresses(dependency) if not listening(a)]
        started = time.monotonic()
        stopped = wait_unless(self.stop, wait, back=down)
        if klass is FailureClass.INFRASTRUCTURE:
            self.counters.held_s += time.monotonic() - started
            self._heartbeat()
        if stopped:
            raise StopRequested(f"{self.stage.name}: stopped while retrying; batch not committed") from exc

    def _recovered(self) -> None:
        trouble, self.trouble = self.trouble, None
        self.log.info(f"recovered after {time.monotonic() - trouble.since:.1f} s", dependency=trouble.dependency,
                      failure=trouble.klass.value, attempts=trouble.attempts, error=trouble.reason[:300])
        if trouble.klass is FailureClass.INFRASTRUCTURE:
            self._publish("running", None, None, force=True)

    def _addresses(self, dependency: str) -> list[str]:
        if dependency == "kafka":
            return [a.strip() for a in self.settings.bootstrap_servers.split(",") if a.strip()]
        if dependency == "elasticsearch":
            return [self.settings.es_url]
        return []

    def _fail(self, reason: str) -> None:
        """Give up: say why, and leave `failed` in news.workers.v1 until a new worker of this stage runs."""
        self.failed = True
        self.log.error("stopping: " + reason)
        self._publish("failed", reason, self.trouble.dependency if self.trouble else None, force=True)
        try:
            self.producer.flush(timeout=5)
        except KafkaError:
            pass

    # -- the worker's state in news.workers.v1 ------------------------------------------------

    def _heartbeat(self) -> None:
        if time.monotonic() - self._last_beat >= self.settings.heartbeat_s:
            trouble = self.trouble if self.trouble and self.trouble.klass is FailureClass.INFRASTRUCTURE else None
            if trouble:
                self._publish("held", trouble.reason, trouble.dependency, force=True)
            else:
                self._publish("running", None, None, force=True)

    def _publish(self, state: str, reason: str | None, dependency: str | None, *, force: bool = False) -> None:
        """Best effort: the worker's state for `status` and the audit (never blocks the stream)."""
        if not force and time.monotonic() - self._last_beat < self.settings.heartbeat_s:
            return
        self._last_beat = time.monotonic()
        since = _iso_ago(time.monotonic() - self.trouble.since) if self.trouble and state != "running" else self.started_at
        record = WorkerState(stage=self.stage.name, worker=self.worker_id, state=state, reason=reason,
                             dependency=dependency or None, since=since, heartbeat_s=self.settings.heartbeat_s)
        try:
            self.producer.send(self.settings.topic("workers"), key=self.worker_id.encode(),
                               value=orjson.dumps(record.to_wire()))
        except KafkaError as exc:
            self.log.debug("worker state not published", error=repr(exc)[:200])

    # -- lifecycle ----------------------------------------------------------------------------

    def drained(self) -> bool:
        """True when the group owns partitions and has consumed everything in them."""
        assignment = self.consumer.assignment()
        if not assignment:
            return False
        end = self.consumer.end_offsets(list(assignment))
        return all(self.consumer.position(tp) >= end[tp] for tp in assignment)

    def close(self) -> None:
        """Leave the group and flush; offsets were committed batch by batch. A clean stop clears the state."""
        try:
            if not self.failed and (self.trouble is None or self.trouble.klass is not FailureClass.INFRASTRUCTURE):
                try:
                    self.producer.send(self.settings.topic("workers"), key=self.worker_id.encode(), value=None)
                except KafkaError:
                    pass
            self.producer.flush(timeout=30)
        finally:
            self.producer.close(timeout=30)
            self.consumer.close(autocommit=False)
            if self._state_consumer is not None:
                self._state_consumer.close()


def _coords(message) -> tuple[str, int, int]:
    return message.topic, message.partition, message.offset


def _origin_of(message, key: str | None) -> RawOrigin:
    """The raw coordinates of a message consumed from the entry topic."""
    return RawOrigin(partition=message.partition, offset=message.offset, timestamp=message.timestamp, key=key)


def _raw_in(obj: dict | None) -> RawOrigin | None:
    """The raw coordinates an internal message carries, if it is readable enough to carry them."""
    try:
        return RawOrigin.model_validate(obj["pipeline"]["raw"]) if obj else None
    except (KeyError, TypeError, ValidationError):
        return None


def _iso_ago(seconds: float) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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


__all__ = [
    "StageWorker", "run_workers", "install_signal_handlers", "StopRequested", "FatalError", "TransientError",
    "InfrastructureError", "TopicPartition",
]
